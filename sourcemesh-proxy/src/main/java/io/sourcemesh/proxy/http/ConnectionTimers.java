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
 * stream_idle_timeout period, not two timers per request. A stream's route and per-try timeouts share one slot:
 * the {@link Router} keeps both deadlines and arms the earlier (an idle connection holds no room for a second). The
 * check is an entry in the event loop's
 * {@link LoopClock}, not a task of its own in the loop's timer queue: an idle connection holds no
 * timer object. Event-loop confined.
 */
final class ConnectionTimers extends LoopClock.Entry {
    /**
     * How long a connection stays idle before it parks its HTTP codec ({@link HttpConnection#onParkDue}):
     * a wake-up costs about what one request allocates, so it is paid at most once a second per connection.
     */
    static final long PARK_AFTER_NANOS = TimeUnit.SECONDS.toNanos(1);

    private static final byte IDLE = 1;
    private static final byte HEADERS = 2;
    private static final byte REQUEST = 4;
    private static final byte STREAM_IDLE = 8;
    private static final byte PARK = 16;
    private static final byte STOPPED = 32;

    private final HttpConnection connection;
    private final LoopClock clock;
    private final Limits limits;
    /** Which clocks are armed, and whether the connection closed: one bit each (an idle connection holds this object). */
    private byte flags;
    /**
     * When the connection's current phase began: idle (idle_timeout and the park count from it) or a
     * stream (request_timeout counts from it). The two never run at once, so one field serves both.
     */
    private long phaseStart;
    private long headersAt;
    private long lastActivityNanos;
    /** The stream's router while its route or per-try timeout runs, and the earlier of the two. */
    private Router route;
    private long routeAt;

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

    /** This loop's clock: {@link LoopClock#now} is the time of the event being handled. */
    LoopClock clock() {
        return clock;
    }

    /** No stream is active: only the connection's idle clock runs. */
    void connectionIdle() {
        if (!armed(IDLE)) {
            phaseStart = clock.now();
        } // else idle already: idle_timeout keeps its start, and the park comes no later than it would have
        flags = (byte) (flags & ~(REQUEST | STREAM_IDLE) | PARK);
        if (!armed(IDLE) && limits.idleTimeout() >= 0) {
            flags |= IDLE;
            checkBy(phaseStart + limits.idleTimeout());
        }
        checkBy(phaseStart + PARK_AFTER_NANOS);
    }

    /** Bytes arrived from the client; with no stream yet they are the start of a request's headers. */
    void bytesArrived(boolean streamActive) {
        long now = clock.now();
        lastActivityNanos = now;
        if (!streamActive && !armed(HEADERS) && limits.headersTimeout() >= 0) {
            flags |= HEADERS;
            headersAt = now + limits.headersTimeout();
            checkBy(headersAt);
        }
    }

    /** Activity on the current stream in either direction. */
    void activity() {
        lastActivityNanos = clock.now();
    }

    void streamStarted() {
        long now = clock.now();
        flags &= ~(IDLE | PARK | HEADERS);
        phaseStart = now;
        lastActivityNanos = now;
        if (limits.requestTimeout() >= 0) {
            flags |= REQUEST;
            checkBy(now + limits.requestTimeout());
        }
        if (limits.streamIdleTimeout() >= 0) {
            flags |= STREAM_IDLE;
            checkBy(now + limits.streamIdleTimeout());
        }
    }

    /** The whole request arrived: request_timeout no longer applies. */
    void requestComplete() {
        flags &= ~REQUEST;
    }

    /** {@code router} is told at {@code deadline} (this clock's time) unless disarmed or armed again first. */
    void armAt(Router router, long deadline) {
        route = router;
        routeAt = deadline;
        checkBy(deadline);
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
        flags |= STOPPED;
        route = null;
        cancelAll();
        clock.cancel(this);
    }

    /** The connection manager's own clocks stop (after a 101); a route timeout still armed runs on. */
    void cancelAll() {
        flags &= STOPPED;
    }

    /** The check: whatever is due now fires (each may end the stream or close the connection), then it sleeps until the next. */
    @Override
    void fire() {
        if (armed(STOPPED)) {
            return;
        }
        long now = System.nanoTime();
        if (route != null && now - routeAt >= 0) {
            Router due = route;
            route = null;
            due.onClock(now);
        }
        if (due(REQUEST, phaseStart + limits.requestTimeout(), now)) {
            connection.onRequestTimeout();
        }
        if (due(STREAM_IDLE, lastActivityNanos + limits.streamIdleTimeout(), now)) {
            connection.onStreamIdleTimeout();
        }
        if (due(HEADERS, headersAt, now)) {
            connection.onRequestHeadersTimeout();
        }
        if (due(IDLE, phaseStart + limits.idleTimeout(), now)) {
            connection.onIdleTimeout();
        }
        if (!armed(STOPPED) && due(PARK, phaseStart + PARK_AFTER_NANOS, now)) {
            connection.onParkDue();
        }
        if (armed(STOPPED)) {
            return; // a callback above closed the connection
        }
        long none = now + NO_DEADLINE;
        long next = none;
        next = earlier(route != null, routeAt, next);
        next = earlier(armed(REQUEST), phaseStart + limits.requestTimeout(), next);
        next = earlier(armed(STREAM_IDLE), lastActivityNanos + limits.streamIdleTimeout(), next);
        next = earlier(armed(HEADERS), headersAt, next);
        next = earlier(armed(IDLE), phaseStart + limits.idleTimeout(), next);
        next = earlier(armed(PARK), phaseStart + PARK_AFTER_NANOS, next);
        if (next != none) {
            checkBy(next);
        }
    }

    /**
     * "Nothing armed", as an offset from now: every deadline still armed after the check lies in [now,
     * now + Long.MAX_VALUE), and nanoTime values compare by difference, so each one is earlier than it.
     */
    private static final long NO_DEADLINE = Long.MAX_VALUE;

    private boolean armed(byte clock) {
        return (flags & clock) != 0;
    }

    /** Whether {@code clock} is armed and {@code at} has come; if so it is disarmed (it fires once). */
    private boolean due(byte clock, long at, long now) {
        if (armed(clock) && now - at >= 0) {
            flags &= ~clock;
            return true;
        }
        return false;
    }

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
        if (armed(STOPPED) || index >= 0 && deadline - due >= 0) {
            return; // closed, or the pending check comes first and will find this deadline
        }
        clock.schedule(this, deadline);
    }
}
