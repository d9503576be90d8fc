package io.sourcemesh.proxy.http;

import io.netty.channel.EventLoop;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The connection manager's clocks for one downstream connection, all on its event loop, so a slow
 * client cannot hold a connection: idle_timeout (no stream), request_headers_timeout (first byte to
 * end of headers), request_timeout (whole request) and stream_idle_timeout (no activity on a stream);
 * and the route timeout of its streams (HTTP/1.1: one at a time; the armed {@link Router}).
 *
 * <p>The clocks only record deadlines; one check per connection runs at the earliest deadline it may
 * have to enforce, acts on whatever is due and sleeps until the next. A deadline that moves later
 * (a new request, activity) reschedules nothing: the check fires early, finds nothing due and waits
 * for the rest. So a keep-alive connection answering many requests moves its check about once per
 * stream_idle_timeout period, not two timers per request. The check is an entry in the event loop's
 * {@link LoopClock}, not a task of its own in the loop's timer queue: an idle connection holds no
 * timer object. Event-loop confined.
 */
final class ConnectionTimers extends LoopClock.Entry {
    /**
     * How long a connection stays idle before it parks its HTTP codec ({@link HttpConnection#onParkDue}):
     * a wake-up costs about what one request allocates, so it is paid at most once a second per connection.
     */
    static final long PARK_AFTER_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final HttpConnection connection;
    private final LoopClock clock;
    private final Limits limits;
    private boolean idleArmed;
    private long idleAt;
    private boolean headersArmed;
    private long headersAt;
    private boolean requestArmed;
    private long requestAt;
    private boolean streamIdleArmed;
    private long lastActivityNanos;
    private boolean parkArmed;
    private long parkAt;
    /** The stream's router while its route timeout runs. */
    private Router route;
    private long routeAt;
    private boolean stopped;
    /** How many checks were put in the event loop's timer queue (a test's measure). */
    private int scheduled;

    ConnectionTimers(HttpConnection connection, EventLoop loop, Optional<Duration> idleTimeout, Optional<Duration> headersTimeout,
            Optional<Duration> requestTimeout, Optional<Duration> streamIdleTimeout) {
        this(connection, loop, Limits.of(idleTimeout, headersTimeout, requestTimeout, streamIdleTimeout));
    }

    ConnectionTimers(HttpConnection connection, EventLoop loop, Limits limits) {
        this.connection = connection;
        this.clock = LoopClock.of(loop);
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
        long now = System.nanoTime();
        if (!idleArmed && limits.idleTimeout() >= 0) {
            idleArmed = true;
            idleAt = now + limits.idleTimeout();
            checkBy(idleAt);
        }
        parkArmed = true;
        parkAt = now + PARK_AFTER_NANOS;
        checkBy(parkAt);
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
        parkArmed = false;
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

    /** {@code router}'s route timeout runs out {@code timeoutNanos} from now unless disarmed first. */
    void arm(Router router, long timeoutNanos) {
        route = router;
        routeAt = System.nanoTime() + timeoutNanos;
        checkBy(routeAt);
    }

    void disarm(Router router) {
        if (route == router) {
            route = null;
        }
    }

    /** No stream of this connection will be routed again (it is closing). */
    void disarmRoute() {
        route = null;
    }

    /**
     * The connection closed: every clock is cancelled and none starts again. A stream can still end
     * after the close (its upstream answer arrives later) and would otherwise arm idle_timeout (an
     * hour by default), keeping the closed connection and its channel in the event loop's timer
     * queue that long.
     */
    void stop() {
        stopped = true;
        route = null;
        cancelAll();
        clock.cancel(this);
    }

    /** The connection manager's own clocks stop (after a 101); a route timeout still armed runs on. */
    void cancelAll() {
        parkArmed = false;
        idleArmed = false;
        headersArmed = false;
        requestArmed = false;
        streamIdleArmed = false;
    }

    int scheduled() {
        return scheduled;
    }

    /** The check: whatever is due now fires (each may end the stream or close the connection), then it sleeps until the next. */
    @Override
    void fire() {
        if (stopped) {
            return;
        }
        long now = System.nanoTime();
        if (route != null && now - routeAt >= 0) {
            Router due = route;
            route = null;
            due.onTimeout();
        }
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
        if (parkArmed && now - parkAt >= 0 && !stopped) {
            parkArmed = false;
            connection.onParkDue();
        }
        if (stopped) {
            return; // a callback above closed the connection
        }
        long none = now + NO_DEADLINE;
        long next = none;
        next = earlier(route != null, routeAt, next);
        next = earlier(requestArmed, requestAt, next);
        next = earlier(streamIdleArmed, lastActivityNanos + limits.streamIdleTimeout(), next);
        next = earlier(headersArmed, headersAt, next);
        next = earlier(idleArmed, idleAt, next);
        next = earlier(parkArmed, parkAt, next);
        if (next != none) {
            checkBy(next);
        }
    }

    /**
     * "Nothing armed", as an offset from now: every deadline still armed after the check lies in [now,
     * now + Long.MAX_VALUE), and nanoTime values compare by difference, so each one is earlier than it.
     */
    private static final long NO_DEADLINE = Long.MAX_VALUE;

    /** {@code at} if that clock is armed and due before {@code next}, else {@code next}. */
    private static long earlier(boolean armed, long at, long next) {
        return armed && at - next < 0 ? at : next;
    }

    /** Whether a check is pending (a test's measure). */
    boolean checkPending() {
        return index >= 0;
    }

    /** Makes sure the check runs no later than {@code deadline}. */
    private void checkBy(long deadline) {
        if (stopped || index >= 0 && deadline - due >= 0) {
            return; // closed, or the pending check comes first and will find this deadline
        }
        scheduled++;
        clock.schedule(this, deadline);
    }
}
