package io.sourcemesh.proxy.config;

import static io.sourcemesh.proxy.config.Protos.at;
import static io.sourcemesh.proxy.config.Protos.only;

import io.envoyproxy.envoy.config.core.v3.KeepaliveSettings;
import java.time.Duration;
import java.util.Optional;

/**
 * http2_protocol_options.connection_keepalive (Envoy's KeepaliveSettings), downstream and upstream alike: a PING every
 * {@code interval} plus a random jitter of up to {@code jitterPercent} of it, and the connection closed when no frame
 * at all came within {@code timeout} of a PING (any frame read extends the wait, as Envoy's codec).
 */
public record Http2Keepalive(Duration interval, Duration timeout, double jitterPercent) {
    private static final Duration MIN = Duration.ofMillis(1);

    public Http2Keepalive {
        if (interval.compareTo(MIN) < 0 || timeout.compareTo(MIN) < 0) {
            throw new IllegalArgumentException("keepalive interval and timeout must be at least 1ms");
        }
        if (jitterPercent < 0 || jitterPercent > 100) {
            throw new IllegalArgumentException("interval_jitter must be 0..100%: " + jitterPercent);
        }
    }

    /**
     * The settings at {@code path}, empty when no interval is set (Envoy then sends no periodic PING); Envoy's
     * validation: interval and timeout at least 1 ms, timeout required; interval_jitter 15% unless set.
     * connection_idle_interval (a PING before an upstream connection idle that long is used) is refused.
     */
    static Optional<Http2Keepalive> of(boolean has, KeepaliveSettings k, String path) {
        if (!has) {
            return Optional.empty();
        }
        only(k, path, "interval", "timeout", "interval_jitter");
        if (!k.hasTimeout()) {
            throw new ConfigException(at(path, "timeout"), "is required");
        }
        Duration timeout = atLeastOneMilli(k.getTimeout(), at(path, "timeout"));
        if (!k.hasInterval()) {
            return Optional.empty();
        }
        Duration interval = atLeastOneMilli(k.getInterval(), at(path, "interval"));
        double jitter = 15.0;
        if (k.hasIntervalJitter()) {
            jitter = k.getIntervalJitter().getValue();
            if (!(jitter >= 0 && jitter <= 100)) {
                throw new ConfigException(at(path, "interval_jitter.value"), jitter + " is not in [0, 100]");
            }
        }
        return Optional.of(new Http2Keepalive(interval, timeout, jitter));
    }

    private static Duration atLeastOneMilli(com.google.protobuf.Duration d, String path) {
        Duration v = Protos.duration(d);
        if (v.compareTo(MIN) < 0) {
            throw new ConfigException(path, v + " is less than 1ms");
        }
        return v;
    }
}
