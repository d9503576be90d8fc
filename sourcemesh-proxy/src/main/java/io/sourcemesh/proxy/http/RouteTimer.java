package io.sourcemesh.proxy.http;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The route timeout for one downstream connection's streams (HTTP/1.1: one at a time; each stream's router is armed) without a
 * timer per request. Arming a router only records its deadline; one check per connection runs at
 * the earliest deadline it may have to enforce and, if the router it finds is not yet due (a later
 * request armed since), sleeps again for what is left. A connection that answers many requests a
 * second thus schedules about one check per timeout period instead of one timer per request.
 * Event-loop confined.
 */
final class RouteTimer implements Runnable {
    private final EventLoop loop;
    private Router router;
    private long deadline;
    private ScheduledFuture<?> check;
    private long checkAt;

    RouteTimer(EventLoop loop) {
        this.loop = loop;
    }

    /** {@code router} times out {@code timeoutNanos} from now unless disarmed first. */
    void arm(Router router, long timeoutNanos) {
        long now = System.nanoTime();
        this.router = router;
        this.deadline = now + timeoutNanos;
        if (check != null && deadline - checkAt < 0) {
            check.cancel(false); // a shorter timeout than the check in flight (another route's)
            check = null;
        }
        if (check == null) {
            schedule(now, timeoutNanos);
        }
    }

    void disarm(Router router) {
        if (this.router == router) {
            this.router = null;
        }
    }

    /** The connection is gone: nothing to check any more. */
    void close() {
        router = null;
        if (check != null) {
            check.cancel(false);
            check = null;
        }
    }

    @Override
    public void run() {
        check = null;
        Router due = router;
        if (due == null) {
            return; // idle: the next arm() schedules again
        }
        long now = System.nanoTime();
        long left = deadline - now;
        if (left > 0) {
            schedule(now, left);
            return;
        }
        router = null;
        due.onTimeout();
    }

    private void schedule(long now, long delayNanos) {
        checkAt = now + delayNanos;
        check = loop.schedule(this, delayNanos, TimeUnit.NANOSECONDS);
    }
}
