package io.sourcemesh.proxy.config;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The connection manager's downstream codec ({@code codec_type}), its {@code http2_protocol_options} and its
 * {@code drain_timeout}, with Envoy's defaults and bounds: {@code max_concurrent_streams} 1..2^31-1 (default 2^31-1),
 * {@code initial_stream_window_size} and {@code initial_connection_window_size} 65535..2^31-1 (default 256 MiB),
 * {@code hpack_table_size} (SETTINGS_HEADER_TABLE_SIZE, default 4096), {@code connection_keepalive} (none unless set),
 * {@code allow_connect} (RFC 8441's extended CONNECT: a WebSocket over an HTTP/2 stream, off unless set);
 * {@code drain_timeout} (5 s) is the time between an HTTP/2 drain's first GOAWAY and its last; {@code flood}, the
 * flood limits ({@link Http2FloodLimits}).
 */
public record Http2Options(Codec codec, int maxConcurrentStreams, int initialStreamWindowSize, int initialConnectionWindowSize,
        long hpackTableSize, Optional<Http2Keepalive> keepalive, boolean allowConnect, Duration drainTimeout,
        Http2FloodLimits flood) {

    /** Envoy's codec_type: AUTO picks HTTP/2 by ALPN "h2" or the client's connection preface, else HTTP/1. */
    public enum Codec {
        AUTO, HTTP1, HTTP2;

        /** The ALPN protocols a connection manager of this codec speaks, in the server's order of preference. */
        public List<String> alpn() {
            return switch (this) {
                case AUTO -> List.of("h2", "http/1.1", "http/1.0");
                case HTTP1 -> List.of("http/1.1", "http/1.0");
                case HTTP2 -> List.of("h2");
            };
        }
    }

    public static final int MAX_CONCURRENT_STREAMS = Integer.MAX_VALUE;
    public static final int MIN_WINDOW = 65535;
    public static final int DEFAULT_WINDOW = 256 * 1024 * 1024;
    /** nghttp2's and Envoy's default dynamic table size. */
    public static final long DEFAULT_HPACK_TABLE_SIZE = 4096;
    public static final long MAX_HPACK_TABLE_SIZE = 0xFFFFFFFFL;
    /** Envoy's default drain_timeout. */
    public static final Duration DEFAULT_DRAIN_TIMEOUT = Duration.ofSeconds(5);

    private static final Http2Options DEFAULTS = new Http2Options(Codec.AUTO, MAX_CONCURRENT_STREAMS, DEFAULT_WINDOW, DEFAULT_WINDOW);

    public Http2Options {
        Objects.requireNonNull(codec, "codec");
        Objects.requireNonNull(keepalive, "keepalive");
        Objects.requireNonNull(drainTimeout, "drainTimeout");
        Objects.requireNonNull(flood, "flood");
        if (maxConcurrentStreams < 1) {
            throw new IllegalArgumentException("max_concurrent_streams must be 1..2147483647: " + maxConcurrentStreams);
        }
        if (initialStreamWindowSize < MIN_WINDOW || initialConnectionWindowSize < MIN_WINDOW) {
            throw new IllegalArgumentException("HTTP/2 window sizes must be 65535..2147483647");
        }
        if (hpackTableSize < 0 || hpackTableSize > MAX_HPACK_TABLE_SIZE) {
            throw new IllegalArgumentException("hpack_table_size must be 0..4294967295: " + hpackTableSize);
        }
        if (drainTimeout.isNegative()) {
            throw new IllegalArgumentException("drain_timeout must not be negative: " + drainTimeout);
        }
    }

    /** Envoy's flood limits. */
    public Http2Options(Codec codec, int maxConcurrentStreams, int initialStreamWindowSize, int initialConnectionWindowSize,
            long hpackTableSize, Optional<Http2Keepalive> keepalive, boolean allowConnect, Duration drainTimeout) {
        this(codec, maxConcurrentStreams, initialStreamWindowSize, initialConnectionWindowSize, hpackTableSize, keepalive,
                allowConnect, drainTimeout, Http2FloodLimits.defaults());
    }

    /** The streams and windows given, the rest Envoy's defaults. */
    public Http2Options(Codec codec, int maxConcurrentStreams, int initialStreamWindowSize, int initialConnectionWindowSize) {
        this(codec, maxConcurrentStreams, initialStreamWindowSize, initialConnectionWindowSize, DEFAULT_HPACK_TABLE_SIZE,
                Optional.empty(), false, DEFAULT_DRAIN_TIMEOUT);
    }

    public static Http2Options defaults() {
        return DEFAULTS;
    }

    public Http2Options withCodec(Codec c) {
        return new Http2Options(c, maxConcurrentStreams, initialStreamWindowSize, initialConnectionWindowSize, hpackTableSize,
                keepalive, allowConnect, drainTimeout, flood);
    }
}
