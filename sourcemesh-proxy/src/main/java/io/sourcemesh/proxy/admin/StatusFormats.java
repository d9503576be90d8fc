package io.sourcemesh.proxy.admin;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UInt32Value;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.admin.v3.Clusters;
import io.envoyproxy.envoy.admin.v3.HostHealthStatus;
import io.envoyproxy.envoy.admin.v3.Listeners;
import io.envoyproxy.envoy.admin.v3.SimpleMetric;
import io.envoyproxy.envoy.config.cluster.v3.CircuitBreakers;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.HealthStatus;
import io.envoyproxy.envoy.config.core.v3.RoutingPriority;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.netty.util.NetUtil;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** {@code /clusters} and {@code /listeners} in Envoy's text and JSON forms. */
final class StatusFormats {
    private static final JsonFormat.Printer PRINTER = JsonFormat.printer().preservingProtoFieldNames();

    private StatusFormats() {}

    /** Envoy's {@code cluster::host::stat::value} lines. */
    static String clustersText(List<ClusterStatus> clusters) {
        StringBuilder out = new StringBuilder();
        for (ClusterStatus c : clusters) {
            String n = c.name();
            line(out, n, "observability_name", n);
            thresholds(out, n, "default_priority", c.defaultPriority());
            thresholds(out, n, "high_priority", c.highPriority());
            line(out, n, "added_via_api", c.addedViaApi());
            for (HostStatus h : c.hosts()) {
                String host = n + "::" + hostPort(h.address());
                hostStats(h).forEach((stat, value) -> line(out, host, stat, value));
                line(out, host, "hostname", h.hostname());
                line(out, host, "health_flags", h.healthFlags());
                line(out, host, "weight", h.weight());
                line(out, host, "region", h.region());
                line(out, host, "zone", h.zone());
                line(out, host, "sub_zone", h.subZone());
                line(out, host, "canary", false);
                line(out, host, "priority", h.priority());
                line(out, host, "success_rate", -1);
                line(out, host, "local_origin_success_rate", -1);
            }
        }
        return out.toString();
    }

    /** {@code envoy.admin.v3.Clusters} as JSON. */
    static String clustersJson(List<ClusterStatus> clusters) throws InvalidProtocolBufferException {
        Clusters.Builder out = Clusters.newBuilder();
        for (ClusterStatus c : clusters) {
            var status = out.addClusterStatusesBuilder()
                    .setName(c.name())
                    .setObservabilityName(c.name())
                    .setAddedViaApi(c.addedViaApi())
                    .setCircuitBreakers(CircuitBreakers.newBuilder()
                            .addThresholds(thresholds(RoutingPriority.DEFAULT, c.defaultPriority()))
                            .addThresholds(thresholds(RoutingPriority.HIGH, c.highPriority())));
            for (HostStatus h : c.hosts()) {
                var host = status.addHostStatusesBuilder()
                        .setAddress(address(h.address()))
                        .setHostname(h.hostname())
                        .setWeight(h.weight())
                        .setPriority(h.priority())
                        .setHealthStatus(health(h.healthFlags()));
                if (!h.region().isEmpty() || !h.zone().isEmpty() || !h.subZone().isEmpty()) {
                    host.setLocality(io.envoyproxy.envoy.config.core.v3.Locality.newBuilder()
                            .setRegion(h.region()).setZone(h.zone()).setSubZone(h.subZone()));
                }
                hostStats(h).forEach((stat, value) -> host.addStats(SimpleMetric.newBuilder()
                        .setName(stat)
                        .setValue(value)
                        .setType(stat.endsWith("_active") ? SimpleMetric.Type.GAUGE : SimpleMetric.Type.COUNTER)));
            }
        }
        return PRINTER.print(out) + "\n";
    }

    /** Envoy's {@code name::address} lines. */
    static String listenersText(List<ListenerStatus> listeners) {
        StringBuilder out = new StringBuilder();
        for (ListenerStatus l : listeners) {
            out.append(l.name()).append("::").append(hostPort(l.localAddress())).append('\n');
        }
        return out.toString();
    }

    /** {@code envoy.admin.v3.Listeners} as JSON. */
    static String listenersJson(List<ListenerStatus> listeners) throws InvalidProtocolBufferException {
        Listeners.Builder out = Listeners.newBuilder();
        for (ListenerStatus l : listeners) {
            out.addListenerStatusesBuilder().setName(l.name()).setLocalAddress(address(l.localAddress()));
        }
        return PRINTER.print(out) + "\n";
    }

    /** Envoy's address text: {@code 10.0.0.1:80}, {@code [::1]:80}. */
    static String hostPort(InetSocketAddress address) {
        return address.getAddress() instanceof Inet6Address
                ? "[" + ip(address) + "]:" + address.getPort()
                : ip(address) + ":" + address.getPort();
    }

    static Address address(InetSocketAddress address) {
        return Address.newBuilder().setSocketAddress(SocketAddress.newBuilder()
                .setAddress(ip(address)).setPortValue(address.getPort())).build();
    }

    // RFC 5952 text (::1, not 0:0:0:0:0:0:0:1), as Envoy prints addresses.
    private static String ip(InetSocketAddress address) {
        return address.getAddress() == null ? address.getHostString() : NetUtil.toAddressString(address.getAddress());
    }

    // Envoy prints a host's stats by name, counters and gauges together.
    private static Map<String, Long> hostStats(HostStatus h) {
        Map<String, Long> stats = new TreeMap<>();
        stats.put("cx_active", h.cxActive());
        stats.put("cx_connect_fail", h.cxConnectFail());
        stats.put("cx_total", h.cxTotal());
        stats.put("rq_active", h.rqActive());
        stats.put("rq_error", h.rqError());
        stats.put("rq_success", h.rqSuccess());
        stats.put("rq_timeout", h.rqTimeout());
        stats.put("rq_total", h.rqTotal());
        return stats;
    }

    private static HostHealthStatus health(String flags) {
        HostHealthStatus.Builder health = HostHealthStatus.newBuilder()
                .setFailedActiveHealthCheck(flags.contains("/failed_active_hc"))
                .setFailedOutlierCheck(flags.contains("/failed_outlier_check"))
                .setFailedActiveDegradedCheck(flags.contains("/degraded_active_hc"))
                .setPendingDynamicRemoval(flags.contains("/pending_dynamic_removal"))
                .setPendingActiveHc(flags.contains("/pending_active_hc"));
        if (flags.contains("/failed_eds_health")) {
            health.setEdsHealthStatus(HealthStatus.UNHEALTHY);
        } else if (flags.contains("/degraded_eds_health")) {
            health.setEdsHealthStatus(HealthStatus.DEGRADED);
        } else {
            health.setEdsHealthStatus(HealthStatus.HEALTHY);
        }
        return health.build();
    }

    private static CircuitBreakers.Thresholds thresholds(RoutingPriority priority, ClusterStatus.Thresholds t) {
        return CircuitBreakers.Thresholds.newBuilder()
                .setPriority(priority)
                .setMaxConnections(UInt32Value.of((int) t.maxConnections()))
                .setMaxPendingRequests(UInt32Value.of((int) t.maxPendingRequests()))
                .setMaxRequests(UInt32Value.of((int) t.maxRequests()))
                .setMaxRetries(UInt32Value.of((int) t.maxRetries()))
                .build();
    }

    private static void thresholds(StringBuilder out, String cluster, String priority, ClusterStatus.Thresholds t) {
        String p = cluster + "::" + priority;
        line(out, p, "max_connections", t.maxConnections());
        line(out, p, "max_pending_requests", t.maxPendingRequests());
        line(out, p, "max_requests", t.maxRequests());
        line(out, p, "max_retries", t.maxRetries());
    }

    private static void line(StringBuilder out, String prefix, String key, Object value) {
        out.append(prefix).append("::").append(key).append("::").append(value).append('\n');
    }
}
