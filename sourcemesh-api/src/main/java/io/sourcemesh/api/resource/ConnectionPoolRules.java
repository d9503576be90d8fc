package io.sourcemesh.api.resource;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigDecimal;
import java.util.List;

/**
 * Istio's validateConnectionPool (pkg/config/validation/validation.go), in its words under the field's path, for every
 * ConnectionPoolSettings: a DestinationRule's (trafficPolicy, portLevelSettings, subsets) and a Sidecar's
 * (inboundConnectionPool, ingress[].connectionPool). A pool needs http or tcp; counts are non-negative; durations pass
 * agent.ValidateDuration (tcp.idleTimeout 0 turns the timeout off and passes); useClientProtocol does not go with
 * h2UpgradePolicy UPGRADE; http2KeepAlive needs interval and timeout.
 */
final class ConnectionPoolRules {
    private static final List<String[]> HTTP_COUNTS = List.of(
            new String[] {"http1MaxPendingRequests", "http1 max pending requests must be non-negative"},
            new String[] {"http2MaxRequests", "http2 max requests must be non-negative"},
            new String[] {"maxRequestsPerConnection", "max requests per connection must be non-negative"},
            new String[] {"maxRetries", "max retries must be non-negative"},
            new String[] {"maxConcurrentStreams", "max concurrent streams must be non-negative"});

    private ConnectionPoolRules() {
    }

    /** {@code pool} at {@code at} (e.g. {@code spec.inboundConnectionPool}); nothing when it is not set. */
    static void check(String at, JsonNode pool, List<FieldError> errors) {
        if (pool == null || !pool.isObject()) {
            return;
        }
        JsonNode http = pool.path("http");
        JsonNode tcp = pool.path("tcp");
        if (!http.isObject() && !tcp.isObject()) {
            errors.add(invalid(at, "connection pool must have at least one field"));
            return;
        }
        if (http.isObject()) {
            for (String[] count : HTTP_COUNTS) {
                negative(at + ".http." + count[0], http.path(count[0]), count[1], errors);
            }
            duration(at + ".http.idleTimeout", http.path("idleTimeout"), false, errors);
            if (http.path("h2UpgradePolicy").asText("").equals("UPGRADE") && http.path("useClientProtocol").asBoolean(false)) {
                errors.add(invalid(at + ".http.useClientProtocol",
                        "use client protocol must not be true when H2UpgradePolicy is UPGRADE"));
            }
            http2KeepAlive(at + ".http.http2KeepAlive", http.path("http2KeepAlive"), errors);
        }
        if (tcp.isObject()) {
            negative(at + ".tcp.maxConnections", tcp.path("maxConnections"), "max connections must be non-negative", errors);
            duration(at + ".tcp.connectTimeout", tcp.path("connectTimeout"), false, errors);
            duration(at + ".tcp.maxConnectionDuration", tcp.path("maxConnectionDuration"), false, errors);
            duration(at + ".tcp.idleTimeout", tcp.path("idleTimeout"), true, errors);
            JsonNode keepalive = tcp.path("tcpKeepalive");
            duration(at + ".tcp.tcpKeepalive.time", keepalive.path("time"), false, errors);
            duration(at + ".tcp.tcpKeepalive.interval", keepalive.path("interval"), false, errors);
        }
    }

    private static void negative(String at, JsonNode value, String message, List<FieldError> errors) {
        if (value.isNumber() && value.asLong() < 0) {
            errors.add(new FieldError(at, at + ": Invalid value: " + value.asLong() + ": " + message));
        }
    }

    /** agent.ValidateDuration on a set duration; {@code zeroOff}: 0 (under 1ms) means "off" and passes, as tcp.idleTimeout. */
    private static void duration(String at, JsonNode value, boolean zeroOff, List<FieldError> errors) {
        if (value.isMissingNode() || value.isNull()) {
            return;
        }
        String text = value.asText();
        BigDecimal nanos = IstioDuration.nanos(text);
        if (zeroOff && nanos != null && nanos.compareTo(BigDecimal.valueOf(1_000_000L)) < 0) {
            return; // Istio: AsDuration().Milliseconds() == 0 skips the check
        }
        String problem = nanos == null ? "not a duration (such as 2s, 0.5s or 250ms)" : IstioDuration.validationProblem(nanos);
        if (problem != null) {
            errors.add(new FieldError(at, at + ": Invalid value: \"" + text + "\": " + problem));
        }
    }

    /** Istio's check on http2KeepAlive: interval and timeout both required, each agent.ValidateDuration. */
    private static void http2KeepAlive(String at, JsonNode keepalive, List<FieldError> errors) {
        if (!keepalive.isObject()) {
            return;
        }
        for (String f : List.of("interval", "timeout")) {
            if (!keepalive.hasNonNull(f)) {
                errors.add(new FieldError(at + "." + f, at + "." + f + ": Required value: http2 keepalive " + f + " is required"));
            } else {
                duration(at + "." + f, keepalive.path(f), false, errors);
            }
        }
    }

    private static FieldError invalid(String path, String message) {
        return new FieldError(path, path + ": Invalid value: " + message);
    }
}
