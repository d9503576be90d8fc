package io.sourcemesh.control.translate;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Duration;
import io.envoyproxy.envoy.config.cluster.v3.CircuitBreakers;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.cluster.v3.OutlierDetection;
import io.envoyproxy.envoy.config.cluster.v3.UpstreamConnectionOptions;
import io.envoyproxy.envoy.config.core.v3.HttpProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.KeepaliveSettings;
import io.envoyproxy.envoy.config.core.v3.TcpKeepalive;
import io.envoyproxy.envoy.type.v3.Percent;
import java.util.List;
import java.util.Optional;

/** DestinationRule connectionPool and outlierDetection → Envoy cluster fields (Istio's cluster_traffic_policy.go). */
final class TrafficPolicies {
    private static final int MAX = -1; // uint32 max, as Istio's math.MaxUint32 defaults
    /** Linux's bounds on TCP_KEEPCNT and on TCP_KEEPIDLE/TCP_KEEPINTVL, the proxy's: beyond them setsockopt fails (EINVAL). */
    private static final int MAX_KEEPALIVE_PROBES = io.sourcemesh.l4.TcpKeepalive.MAX_PROBES;
    private static final int MAX_KEEPALIVE_SECONDS = io.sourcemesh.l4.TcpKeepalive.MAX_SECONDS;

    private TrafficPolicies() {}

    /**
     * Istio's applyConnectionPool: every outbound cluster gets circuit breakers, its defaults "unlimited"
     * (max uint32, track_remaining), overridden by tcp.maxConnections, http.http1MaxPendingRequests,
     * http.http2MaxRequests and http.maxRetries; tcp.connectTimeout; http.maxRequestsPerConnection,
     * idleTimeout and tcp.maxConnectionDuration as the cluster's typed HTTP protocol options, and
     * http.useClientProtocol as their use_downstream_protocol_config; tcp.tcpKeepalive as the cluster's
     * upstream_connection_options.tcp_keepalive; http.maxConcurrentStreams and http.http2KeepAlive on the HTTP/2
     * options of a cluster that has them.
     */
    static void connectionPool(Cluster.Builder c, JsonNode pool, String where, List<TranslationWarning> warnings) {
        CircuitBreakers.Thresholds.Builder t = CircuitBreakers.Thresholds.newBuilder()
                .setMaxRetries(Protos.uint(MAX))
                .setMaxRequests(Protos.uint(MAX))
                .setMaxConnections(Protos.uint(MAX))
                .setMaxPendingRequests(Protos.uint(MAX))
                .setTrackRemaining(true);
        JsonNode http = pool == null ? null : pool.path("http");
        JsonNode tcp = pool == null ? null : pool.path("tcp");
        HttpProtocolOptions.Builder options = HttpProtocolOptions.newBuilder();
        if (http != null && http.isObject()) {
            positive(http, "http2MaxRequests").ifPresent(v -> t.setMaxRequests(Protos.uint(v)));
            positive(http, "http1MaxPendingRequests").ifPresent(v -> t.setMaxPendingRequests(Protos.uint(v)));
            positive(http, "maxRetries").ifPresent(v -> t.setMaxRetries(Protos.uint(v)));
            positive(http, "maxRequestsPerConnection").ifPresent(v -> options.setMaxRequestsPerConnection(Protos.uint(v)));
            duration(http, "idleTimeout", where, warnings).ifPresent(options::setIdleTimeout);
        }
        if (tcp != null && tcp.isObject()) {
            positive(tcp, "maxConnections").ifPresent(v -> t.setMaxConnections(Protos.uint(v)));
            duration(tcp, "connectTimeout", where, warnings).ifPresent(c::setConnectTimeout);
            if (!options.hasIdleTimeout()) {
                duration(tcp, "idleTimeout", where, warnings).ifPresent(options::setIdleTimeout);
            }
            tcpKeepalive(c, tcp.path("tcpKeepalive"), where, warnings);
            if (tcp.has("maxConnectionDuration")) {
                // Istio's applyConnectionPool: the cluster's HTTP max_connection_duration (the top-level trafficPolicy's
                // also goes on tcp_proxy, TcpRoutes). Its validation (ValidateDuration) refuses less than 1ms.
                duration(tcp, "maxConnectionDuration", where, warnings).ifPresent(d -> {
                    if (d.getSeconds() > 0 || d.getNanos() >= 1_000_000) {
                        options.setMaxConnectionDuration(d);
                    } else {
                        warnings.add(new TranslationWarning(where, "connectionPool.tcp.maxConnectionDuration "
                                + tcp.path("maxConnectionDuration").asText() + " is not a duration of at least 1ms; HTTP "
                                + "upstream connections get no maximum duration"));
                    }
                });
            }
        }
        c.setCircuitBreakers(CircuitBreakers.newBuilder().addThresholds(t));
        boolean useClientProtocol = http != null && http.path("useClientProtocol").asBoolean(false);
        Optional<Integer> maxConcurrentStreams = http == null ? Optional.empty() : positive(http, "maxConcurrentStreams");
        Optional<KeepaliveSettings> keepalive = http == null ? Optional.empty() : http2KeepAlive(http, where, warnings);
        // Istio's condition for the common options (an empty one too, when only maxConcurrentStreams is set);
        // maxConcurrentStreams itself goes on the HTTP/2 options of a cluster that has them by now (an HTTP2 or GRPC
        // port's: setUpstreamProtocol runs first; h2UpgradePolicy's come after, without it), as Istio's applyConnectionPool.
        if (options.hasIdleTimeout() || options.hasMaxRequestsPerConnection() || options.hasMaxConnectionDuration()
                || maxConcurrentStreams.isPresent() || keepalive.isPresent() || useClientProtocol) {
            io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions.Builder typed = HttpOptions.of(c);
            if (options.hasIdleTimeout() || options.hasMaxRequestsPerConnection() || options.hasMaxConnectionDuration()
                    || maxConcurrentStreams.isPresent() || keepalive.isPresent()) {
                typed.setCommonHttpProtocolOptions(options);
                if (typed.getExplicitHttpConfig().hasHttp2ProtocolOptions() && maxConcurrentStreams.isPresent()) {
                    typed.getExplicitHttpConfigBuilder().getHttp2ProtocolOptionsBuilder()
                            .setMaxConcurrentStreams(Protos.uint(maxConcurrentStreams.get()));
                }
                if (typed.getExplicitHttpConfig().hasHttp2ProtocolOptions() && keepalive.isPresent()) {
                    typed.getExplicitHttpConfigBuilder().getHttp2ProtocolOptionsBuilder().setConnectionKeepalive(keepalive.get());
                }
            }
            if (useClientProtocol) {
                // Istio's setUseDownstreamProtocol: the client's protocol upstream (HTTP/2 for an HTTP/2 request).
                HttpOptions.useDownstreamProtocol(typed);
            }
            HttpOptions.put(c, typed);
        }
    }

    /**
     * Istio's applyH2Upgrade (outbound clusters only, after the connection pool): connectionPool.http.h2UpgradePolicy
     * UPGRADE makes the cluster HTTP/2 whatever the port, DO_NOT_UPGRADE keeps it as it is; otherwise (DEFAULT, unset)
     * a port Istio reads as HTTP (http, http2, grpc, ...) is upgraded when the mesh's h2UpgradePolicy is UPGRADE.
     */
    static void h2Upgrade(Cluster.Builder c, JsonNode pool, boolean httpPort, boolean meshUpgrade) {
        String override = pool == null ? "" : pool.path("http").path("h2UpgradePolicy").asText("");
        boolean upgrade = switch (override) {
            case "UPGRADE" -> true;
            case "DO_NOT_UPGRADE" -> false;
            default -> httpPort && meshUpgrade;
        };
        if (upgrade) {
            HttpOptions.http2(c);
        }
    }

    /**
     * Istio's setKeepAliveSettings (pilot/pkg/networking/core/cluster.go): a tcpKeepalive, even empty, is the cluster's
     * upstream_connection_options.tcp_keepalive (SO_KEEPALIVE with the kernel's defaults), probes when above 0, time and
     * interval in whole seconds (truncated). A time or interval under a second, which Istio writes as 0 and the kernel
     * refuses (every upstream connection would fail), is warned and left to the kernel's default.
     */
    private static void tcpKeepalive(Cluster.Builder c, JsonNode keepalive, String where, List<TranslationWarning> warnings) {
        if (!keepalive.isObject()) {
            return;
        }
        TcpKeepalive.Builder k = TcpKeepalive.newBuilder();
        positive(keepalive, "probes").ifPresent(v -> {
            if (v > MAX_KEEPALIVE_PROBES) {
                warnings.add(new TranslationWarning(where, "connectionPool.tcp.tcpKeepalive.probes " + v + " is above the kernel's "
                        + "bound " + MAX_KEEPALIVE_PROBES + ", which would fail every upstream connection; the kernel's default is left"));
            } else {
                k.setKeepaliveProbes(Protos.uint(v));
            }
        });
        keepaliveSeconds(keepalive, "time", where, warnings).ifPresent(v -> k.setKeepaliveTime(Protos.uint(v)));
        keepaliveSeconds(keepalive, "interval", where, warnings).ifPresent(v -> k.setKeepaliveInterval(Protos.uint(v)));
        c.setUpstreamConnectionOptions(UpstreamConnectionOptions.newBuilder().setTcpKeepalive(k));
    }

    private static Optional<Integer> keepaliveSeconds(JsonNode keepalive, String field, String where,
            List<TranslationWarning> warnings) {
        return duration(keepalive, field, where, warnings).flatMap(d -> {
            if (d.getSeconds() == 0) {
                warnings.add(new TranslationWarning(where, "connectionPool.tcp.tcpKeepalive." + field + " "
                        + keepalive.path(field).asText() + " is under a second: Istio writes 0 seconds, which the kernel "
                        + "refuses; the kernel's default is left"));
                return Optional.empty();
            }
            if (d.getSeconds() > MAX_KEEPALIVE_SECONDS) {
                warnings.add(new TranslationWarning(where, "connectionPool.tcp.tcpKeepalive." + field + " "
                        + keepalive.path(field).asText() + " is above the kernel's bound " + MAX_KEEPALIVE_SECONDS + "s, which "
                        + "would fail every upstream connection; the kernel's default is left"));
                return Optional.empty();
            }
            return Optional.of((int) d.getSeconds());
        });
    }

    /**
     * Istio's applyOutlierDetection: consecutive errors enforced at 100%, success rate off, panic threshold
     * minHealthPercent; splitExternalLocalOriginErrors with consecutiveLocalOriginFailures.
     */
    static void outlierDetection(Cluster.Builder c, JsonNode outlier, String where, List<TranslationWarning> warnings) {
        if (outlier == null || !outlier.isObject()) {
            return;
        }
        OutlierDetection.Builder o = OutlierDetection.newBuilder().setEnforcingSuccessRate(Protos.uint(0));
        JsonNode five = outlier.has("consecutive5xxErrors") ? outlier.path("consecutive5xxErrors") : outlier.path("consecutiveErrors");
        if (!five.isMissingNode()) {
            int v = five.asInt();
            o.setConsecutive5Xx(Protos.uint(v)).setEnforcingConsecutive5Xx(Protos.uint(v > 0 ? 100 : 0));
        }
        if (outlier.has("consecutiveGatewayErrors")) {
            int v = outlier.path("consecutiveGatewayErrors").asInt();
            o.setConsecutiveGatewayFailure(Protos.uint(v)).setEnforcingConsecutiveGatewayFailure(Protos.uint(v > 0 ? 100 : 0));
        }
        duration(outlier, "interval", where, warnings).ifPresent(o::setInterval);
        duration(outlier, "baseEjectionTime", where, warnings).ifPresent(o::setBaseEjectionTime);
        positive(outlier, "maxEjectionPercent").ifPresent(v -> o.setMaxEjectionPercent(Protos.uint(v)));
        if (outlier.path("splitExternalLocalOriginErrors").asBoolean(false)) {
            // Istio's applyOutlierDetection: the split, consecutiveLocalOriginFailures enforced at 100% when above 0 (else
            // Envoy's defaults, 5 and 100), and the local-origin success rate's enforcement off.
            o.setSplitExternalLocalOriginErrors(true);
            long failures = outlier.path("consecutiveLocalOriginFailures").asLong(0);
            if (failures > 0) {
                o.setConsecutiveLocalOriginFailure(Protos.uint((int) failures))
                        .setEnforcingConsecutiveLocalOriginFailure(Protos.uint(100));
            }
            o.setEnforcingLocalOriginSuccessRate(Protos.uint(0));
        }
        c.setOutlierDetection(o);
        // Istio disables the panic threshold by default (minHealthPercent 0).
        c.setCommonLbConfig(Cluster.CommonLbConfig.newBuilder().setHealthyPanicThreshold(
                Percent.newBuilder().setValue(outlier.path("minHealthPercent").asDouble(0))));
    }

    private static Optional<Integer> positive(JsonNode n, String field) {
        int v = n.path(field).asInt(0);
        return v > 0 ? Optional.of(v) : Optional.empty();
    }

    /**
     * http.http2KeepAlive as Istio's applyConnectionPool copies it: interval and timeout into Envoy's KeepaliveSettings
     * (no jitter set: Envoy's 15%). The API requires both, of at least 1ms; a rule that lacks one is warned.
     */
    private static Optional<KeepaliveSettings> http2KeepAlive(JsonNode http, String where, List<TranslationWarning> warnings) {
        JsonNode k = http.path("http2KeepAlive");
        if (!k.isObject()) {
            return Optional.empty();
        }
        Optional<Duration> interval = duration(k, "interval", where, warnings);
        Optional<Duration> timeout = duration(k, "timeout", where, warnings);
        if (interval.isEmpty() || timeout.isEmpty()) {
            warnings.add(TranslationWarning.note(where, "connectionPool.http.http2KeepAlive needs interval and timeout; "
                    + "no HTTP/2 PINGs are sent"));
            return Optional.empty();
        }
        return Optional.of(KeepaliveSettings.newBuilder().setInterval(interval.get()).setTimeout(timeout.get()).build());
    }

    private static Optional<Duration> duration(JsonNode n, String field, String where,
            List<TranslationWarning> warnings) {
        if (!n.has(field)) {
            return Optional.empty();
        }
        var d = IstioDurations.parse(n.path(field).asText());
        if (d.isEmpty()) {
            warnings.add(new TranslationWarning(where, field + " " + n.path(field).asText() + " is not a duration; ignored"));
        }
        return d;
    }
}
