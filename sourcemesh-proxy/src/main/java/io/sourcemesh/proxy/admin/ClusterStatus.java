package io.sourcemesh.proxy.admin;

import java.util.List;
import java.util.Objects;

/** One cluster as {@code /clusters} shows it: its circuit-breaker limits and its hosts. */
public record ClusterStatus(
        String name,
        boolean addedViaApi,
        Thresholds defaultPriority,
        Thresholds highPriority,
        List<HostStatus> hosts) {

    public ClusterStatus {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(defaultPriority, "defaultPriority");
        Objects.requireNonNull(highPriority, "highPriority");
        hosts = List.copyOf(hosts);
    }

    /** A cluster under Envoy's default circuit-breaker limits. */
    public static ClusterStatus of(String name, boolean addedViaApi, List<HostStatus> hosts) {
        return new ClusterStatus(name, addedViaApi, Thresholds.envoyDefaults(), Thresholds.envoyDefaults(), hosts);
    }

    /** Circuit-breaker limits of one routing priority. */
    public record Thresholds(long maxConnections, long maxPendingRequests, long maxRequests, long maxRetries) {
        /** What Envoy applies when a cluster sets no {@code circuit_breakers}. */
        public static Thresholds envoyDefaults() {
            return new Thresholds(1024, 1024, 1024, 3);
        }
    }
}
