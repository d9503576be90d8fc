package io.sourcemesh.proxy.config;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** {@code envoy.filters.network.tcp_proxy}: forward bytes to one cluster (or weighted clusters). */
public record TcpProxyConfig(
        String name,
        String statPrefix,
        Optional<String> cluster,
        List<WeightedCluster> weightedClusters,
        Optional<Duration> idleTimeout,
        List<AccessLogConfig> accessLogs) implements NetworkFilterConfig {

    public TcpProxyConfig {
        weightedClusters = List.copyOf(weightedClusters);
        accessLogs = List.copyOf(accessLogs);
    }
}
