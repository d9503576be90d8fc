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
 */
final class ConnectionTimers {
    private final HttpConnection connection;
    private final EventLoop loop;
    private final Optional<Duration> idleTimeout;
    private final Optional<Duration> headersTimeout;
    private final Optional<Duration> requestTimeout;
    private final Optional<Duration> streamIdleTimeout;
    private ScheduledFuture<?> idle;
    private ScheduledFuture<?> headers;
    private ScheduledFuture<?> request;
    private ScheduledFuture<?> streamIdle;
    private long lastActivityNanos;
    private boolean stopped;

    ConnectionTimers(HttpConnection connection, EventLoop loop, Optional<Duration> idleTimeout, Optional<Duration> headersTimeout,
            Optional<Duration> requestTimeout, Optional<Duration> streamIdleTimeout) {
        this.connection = connection;
        this.loop = loop;
        this.idleTimeout = idleTimeout;
        this.headersTimeout = headersTimeout;
        this.requestTimeout = requestTimeout;
        this.streamIdleTimeout = streamIdleTimeout;
    }

    /** No stream is active: only the connection's idle clock runs. */
    void connectionIdle() {
        cancelStreamTimers();
        if (idle == null && idleTimeout.isPresent()) {
            idle = schedule(idleTimeout.get(), connection::onIdleTimeout);
        }
    }

    /** Bytes arrived from the client; with no stream yet they are the start of a request's headers. */
    void bytesArrived(boolean streamActive) {
        lastActivityNanos = System.nanoTime();
        if (!streamActive && headers == null && headersTimeout.isPresent()) {
            headers = schedule(headersTimeout.get(), connection::onRequestHeadersTimeout);
        }
    }

    /** Activity on the current stream in either direction. */
    void activity() {
        lastActivityNanos = System.nanoTime();
    }

    void streamStarted() {
        idle = cancel(idle);
        headers = cancel(headers);
        lastActivityNanos = System.nanoTime();
        if (requestTimeout.isPresent()) {
            request = schedule(requestTimeout.get(), connection::onRequestTimeout);
        }
        streamIdleTimeout.ifPresent(this::armStreamIdle);
    }

    /** The whole request arrived: request_timeout no longer applies. */
    void requestComplete() {
        request = cancel(request);
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
        idle = cancel(idle);
        headers = cancel(headers);
        cancelStreamTimers();
    }

    private void cancelStreamTimers() {
        request = cancel(request);
        streamIdle = cancel(streamIdle);
    }

    private void armStreamIdle(Duration after) {
        streamIdle = schedule(after, () -> {
            long idleFor = System.nanoTime() - lastActivityNanos;
            Duration limit = streamIdleTimeout.orElseThrow();
            if (idleFor >= limit.toNanos()) {
                streamIdle = null;
                connection.onStreamIdleTimeout();
            } else {
                armStreamIdle(limit.minusNanos(idleFor)); // activity since: wait for the rest
            }
        });
    }

    private ScheduledFuture<?> schedule(Duration after, Runnable task) {
        if (stopped) {
            return null;
        }
        return loop.schedule(task, after.toNanos(), TimeUnit.NANOSECONDS);
    }

    private static ScheduledFuture<?> cancel(ScheduledFuture<?> f) {
        if (f != null) {
            f.cancel(false);
        }
        return null;
    }
}
