package io.sourcemesh.proxy.config;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * {@code envoy.filters.network.tcp_proxy}: forward bytes to one cluster (or weighted clusters).
 * {@code hashSourceIp} is a {@code hash_policy} of {@code source_ip}: the downstream's remote address is
 * the load balancer's hash key; without it a hash-based balancer picks a host at random, as Envoy.
 * {@code tunnelingHost} is {@code tunneling_config.hostname}: the bytes go through an HTTP/1.1 CONNECT tunnel to it.
 */
public record TcpProxyConfig(
        String name,
        String statPrefix,
        Optional<String> cluster,
        List<WeightedCluster> weightedClusters,
        Optional<Duration> idleTimeout,
        List<AccessLogConfig> accessLogs,
        boolean hashSourceIp,
        Optional<Duration> maxDownstreamConnectionDuration,
        Optional<String> tunnelingHost) implements NetworkFilterConfig {

    public TcpProxyConfig {
        weightedClusters = List.copyOf(weightedClusters);
        accessLogs = List.copyOf(accessLogs);
    }

    /** Without tunneling. */
    public TcpProxyConfig(String name, String statPrefix, Optional<String> cluster, List<WeightedCluster> weightedClusters,
            Optional<Duration> idleTimeout, List<AccessLogConfig> accessLogs, boolean hashSourceIp,
            Optional<Duration> maxDownstreamConnectionDuration) {
        this(name, statPrefix, cluster, weightedClusters, idleTimeout, accessLogs, hashSourceIp, maxDownstreamConnectionDuration,
                Optional.empty());
    }

    /** Without a hash policy or a maximum connection duration. */
    public TcpProxyConfig(String name, String statPrefix, Optional<String> cluster, List<WeightedCluster> weightedClusters,
            Optional<Duration> idleTimeout, List<AccessLogConfig> accessLogs) {
        this(name, statPrefix, cluster, weightedClusters, idleTimeout, accessLogs, false, Optional.empty());
    }
}
