package io.sourcemesh.proxy.http;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The connection manager's clocks for one downstream connection, all on its event loop, so a slow
 * client cannot hold a connection: idle_timeout (no stream), request_headers_timeout (first byte to
 * end of headers), request_timeout (whole request) and stream_idle_timeout (no activity on a stream).
 *
 * <p>The clocks only record deadlines; one check per connection runs at the earliest deadline it may
 * have to enforce, acts on whatever is due and sleeps until the next. A deadline that moves later
 * (a new request, activity) reschedules nothing: the check in flight fires early, finds nothing due
 * and waits for the rest. So a keep-alive connection answering many requests schedules about one
 * check per stream_idle_timeout period, not two timers per request (and their lambdas and timer-queue
 * insertions and removals). Event-loop confined.
 */
final class ConnectionTimers implements Runnable {
    private final HttpConnection connection;
    private final EventLoop loop;
    private final Limits limits;
    private boolean idleArmed;
    private long idleAt;
    private boolean headersArmed;
    private long headersAt;
    private boolean requestArmed;
    private long requestAt;
    private boolean streamIdleArmed;
    private long lastActivityNanos;
    private ScheduledFuture<?> check;
    private long checkAt;
    private boolean stopped;
    /** How many checks were put in the event loop's timer queue (a test's measure). */
    private int scheduled;

    ConnectionTimers(HttpConnection connection, EventLoop loop, Optional<Duration> idleTimeout, Optional<Duration> headersTimeout,
            Optional<Duration> requestTimeout, Optional<Duration> streamIdleTimeout) {
        this(connection, loop, Limits.of(idleTimeout, headersTimeout, requestTimeout, streamIdleTimeout));
    }

    ConnectionTimers(HttpConnection connection, EventLoop loop, Limits limits) {
        this.connection = connection;
        this.loop = loop;
        this.limits = limits;
    }

    /** The four timeouts in nanoseconds, -1 when off: one instance per config version, shared by its connections. */
    record Limits(long idleTimeout, long headersTimeout, long requestTimeout, long streamIdleTimeout) {
        static Limits of(Optional<Duration> idle, Optional<Duration> headers, Optional<Duration> request, Optional<Duration> streamIdle) {
            return new Limits(nanos(idle), nanos(headers), nanos(request), nanos(streamIdle));
        }

        private static long nanos(Optional<Duration> d) {
            return d.isPresent() ? d.get().toNanos() : -1;
        }
    }

    /** No stream is active: only the connection's idle clock runs. */
    void connectionIdle() {
        requestArmed = false;
        streamIdleArmed = false;
        if (!idleArmed && limits.idleTimeout() >= 0) {
            idleArmed = true;
            idleAt = System.nanoTime() + limits.idleTimeout();
            checkBy(idleAt);
        }
    }

    /** Bytes arrived from the client; with no stream yet they are the start of a request's headers. */
    void bytesArrived(boolean streamActive) {
        long now = System.nanoTime();
        lastActivityNanos = now;
        if (!streamActive && !headersArmed && limits.headersTimeout() >= 0) {
            headersArmed = true;
            headersAt = now + limits.headersTimeout();
            checkBy(headersAt);
        }
    }

    /** Activity on the current stream in either direction. */
    void activity() {
        lastActivityNanos = System.nanoTime();
    }

    void streamStarted() {
        long now = System.nanoTime();
        idleArmed = false;
        headersArmed = false;
        lastActivityNanos = now;
        if (limits.requestTimeout() >= 0) {
            requestArmed = true;
            requestAt = now + limits.requestTimeout();
            checkBy(requestAt);
        }
        if (limits.streamIdleTimeout() >= 0) {
            streamIdleArmed = true;
            checkBy(now + limits.streamIdleTimeout());
        }
    }

    /** The whole request arrived: request_timeout no longer applies. */
    void requestComplete() {
        requestArmed = false;
    }

    /**
     * The connection closed: every clock is cancelled and none starts again. A stream can still end
     * after the close (its upstream answer arrives later) and would otherwise arm idle_timeout (an
     * hour by default), keeping the closed connection and its channel in the event loop's timer
     * queue that long.
     */
    void stop() {
        stopped = true;
        cancelAll();
    }

    void cancelAll() {
        idleArmed = false;
        headersArmed = false;
        requestArmed = false;
        streamIdleArmed = false;
        if (check != null) {
            check.cancel(false);
            check = null;
        }
    }

    int scheduled() {
        return scheduled;
    }

    /** The check: whatever is due now fires (each may end the stream or close the connection), then it sleeps until the next. */
    @Override
    public void run() {
        check = null;
        if (stopped) {
            return;
        }
        long now = System.nanoTime();
        if (requestArmed && now - requestAt >= 0) {
            requestArmed = false;
            connection.onRequestTimeout();
        }
        if (streamIdleArmed && now - (lastActivityNanos + limits.streamIdleTimeout()) >= 0) {
            streamIdleArmed = false;
            connection.onStreamIdleTimeout();
        }
        if (headersArmed && now - headersAt >= 0) {
            headersArmed = false;
            connection.onRequestHeadersTimeout();
        }
        if (idleArmed && now - idleAt >= 0) {
            idleArmed = false;
            connection.onIdleTimeout();
        }
        if (stopped) {
            return; // a callback above closed the connection
        }
        boolean any = false;
        long next = 0;
        if (requestArmed) {
            next = requestAt;
            any = true;
        }
        if (streamIdleArmed && (!any || lastActivityNanos + limits.streamIdleTimeout() - next < 0)) {
            next = lastActivityNanos + limits.streamIdleTimeout();
            any = true;
        }
        if (headersArmed && (!any || headersAt - next < 0)) {
            next = headersAt;
            any = true;
        }
        if (idleArmed && (!any || idleAt - next < 0)) {
            next = idleAt;
            any = true;
        }
        if (any) {
            checkBy(next);
        }
    }

    /** Makes sure the check runs no later than {@code deadline}. */
    private void checkBy(long deadline) {
        if (stopped) {
            return;
        }
        if (check != null) {
            if (deadline - checkAt >= 0) {
                return; // the check in flight comes first and will find this deadline
            }
            check.cancel(false);
        }
        checkAt = deadline;
        scheduled++;
        check = loop.schedule(this, Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    }
}
