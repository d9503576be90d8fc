package io.sourcemesh.proxy.http;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The route timeout for one downstream connection's streams (HTTP/1.1: one at a time) without a
 * timer per request. Arming a stream only records its deadline; one check per connection runs at
 * the earliest deadline it may have to enforce and, if the stream it finds is not yet due (a later
 * request armed since), sleeps again for what is left. A connection that answers many requests a
 * second thus schedules about one check per timeout period instead of one timer per request.
 * Event-loop confined.
 */
final class RouteTimer implements Runnable {
    private final EventLoop loop;
    private HttpStream stream;
    private long deadline;
    private ScheduledFuture<?> check;
    private long checkAt;

    RouteTimer(EventLoop loop) {
        this.loop = loop;
    }

    /** {@code stream} times out {@code timeoutNanos} from now unless disarmed first. */
    void arm(HttpStream stream, long timeoutNanos) {
        long now = System.nanoTime();
        this.stream = stream;
        this.deadline = now + timeoutNanos;
        if (check != null && deadline - checkAt < 0) {
            check.cancel(false); // a shorter timeout than the check in flight (another route's)
            check = null;
        }
        if (check == null) {
            schedule(now, timeoutNanos);
        }
    }

    void disarm(HttpStream stream) {
        if (this.stream == stream) {
            this.stream = null;
        }
    }

    /** The connection is gone: nothing to check any more. */
    void close() {
        stream = null;
        if (check != null) {
            check.cancel(false);
            check = null;
        }
    }

    @Override
    public void run() {
        check = null;
        HttpStream due = stream;
        if (due == null) {
            return; // idle: the next arm() schedules again
        }
        long now = System.nanoTime();
        long left = deadline - now;
        if (left > 0) {
            schedule(now, left);
            return;
        }
        stream = null;
        due.onTimeout();
    }

    private void schedule(long now, long delayNanos) {
        checkAt = now + delayNanos;
        check = loop.schedule(this, delayNanos, TimeUnit.NANOSECONDS);
    }
}
