package io.sourcemesh.proxy.config;

import java.time.Duration;
import java.util.Optional;

/**
 * The HTTP connection manager's limits on slow or oversized clients, with Envoy's defaults:
 * {@code common_http_protocol_options.idle_timeout} (1 h; empty = disabled),
 * {@code request_headers_timeout} (disabled), {@code common_http_protocol_options.max_headers_count}
 * (100) and {@code max_request_headers_kb} (60); {@code http_protocol_options.accept_http_10} (false:
 * an HTTP/1.0 request is answered 426 Upgrade Required, as Envoy), {@code http_protocol_options.enable_trailers}
 * (false: response trailers are not written to an HTTP/1 client, as Envoy's HTTP/1 codec drops them); {@code http2}:
 * the codec type and {@code http2_protocol_options}.
 */
public record HttpProtocolLimits(Optional<Duration> idleTimeout, Optional<Duration> requestHeadersTimeout,
        int maxHeadersCount, int maxRequestHeadersKb, boolean acceptHttp10, boolean enableTrailers, Http2Options http2) {

    public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofHours(1);

    private static final HttpProtocolLimits DEFAULTS =
            new HttpProtocolLimits(Optional.of(DEFAULT_IDLE_TIMEOUT), Optional.empty(), 100, 60, false, false, Http2Options.defaults());

    public HttpProtocolLimits(Optional<Duration> idleTimeout, Optional<Duration> requestHeadersTimeout, int maxHeadersCount,
            int maxRequestHeadersKb) {
        this(idleTimeout, requestHeadersTimeout, maxHeadersCount, maxRequestHeadersKb, false);
    }

    public HttpProtocolLimits(Optional<Duration> idleTimeout, Optional<Duration> requestHeadersTimeout, int maxHeadersCount,
            int maxRequestHeadersKb, boolean acceptHttp10) {
        this(idleTimeout, requestHeadersTimeout, maxHeadersCount, maxRequestHeadersKb, acceptHttp10, false, Http2Options.defaults());
    }

    public HttpProtocolLimits {
        if (maxHeadersCount < 1) {
            throw new IllegalArgumentException("max_headers_count must be at least 1: " + maxHeadersCount);
        }
        if (maxRequestHeadersKb < 1 || maxRequestHeadersKb > 8192) {
            throw new IllegalArgumentException("max_request_headers_kb must be 1..8192: " + maxRequestHeadersKb);
        }
    }

    public static HttpProtocolLimits defaults() {
        return DEFAULTS;
    }
}
