package io.sourcemesh.proxy.config;

import static io.sourcemesh.proxy.config.Protos.at;
import static io.sourcemesh.proxy.config.Protos.only;

import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.type.v3.HashPolicy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** {@code envoy.filters.network.tcp_proxy}. */
final class TcpProxyTranslator {

    /** Envoy's tcp_proxy idle timeout when none is configured. */
    static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofHours(1);

    private TcpProxyTranslator() {}

    /**
     * Unlike a static route table, Envoy does not check a tcp_proxy's cluster at load time: a
     * missing cluster is a runtime "no cluster" (NC) close. We keep that, so listeners and
     * clusters pushed separately over ADS behave as in Envoy.
     */
    static TcpProxyConfig tcpProxy(String name, TcpProxy tp, String path) {
        only(tp, path, "stat_prefix", "cluster", "weighted_clusters", "idle_timeout", "access_log", "hash_policy",
                "max_downstream_connection_duration", "tunneling_config");
        if (tp.getStatPrefix().isEmpty()) {
            throw new ConfigException(at(path, "stat_prefix"), "is required");
        }
        Optional<String> cluster = Optional.empty();
        List<WeightedCluster> weighted = new ArrayList<>();
        switch (tp.getClusterSpecifierCase()) {
            case CLUSTER -> cluster = Optional.of(tp.getCluster());
            case WEIGHTED_CLUSTERS -> {
                String wPath = at(path, "weighted_clusters");
                only(tp.getWeightedClusters(), wPath, "clusters");
                var clusters = tp.getWeightedClusters().getClustersList();
                if (clusters.isEmpty()) {
                    throw new ConfigException(at(wPath, "clusters"), "at least one cluster is required");
                }
                for (int i = 0; i < clusters.size(); i++) {
                    String cPath = at(wPath, "clusters", i);
                    only(clusters.get(i), cPath, "name", "weight");
                    if (clusters.get(i).getName().isEmpty()) {
                        throw new ConfigException(at(cPath, "name"), "is required");
                    }
                    if (clusters.get(i).getWeight() < 1) {
                        throw new ConfigException(at(cPath, "weight"), "must be at least 1");
                    }
                    weighted.add(new WeightedCluster(clusters.get(i).getName(), clusters.get(i).getWeight()));
                }
            }
            default -> throw new ConfigException(path, "one of cluster, weighted_clusters is required");
        }
        if (cluster.isPresent() && cluster.get().isEmpty()) {
            throw new ConfigException(at(path, "cluster"), "is required");
        }
        Optional<Duration> idle = Protos.timeout(tp.hasIdleTimeout(), tp.getIdleTimeout(), DEFAULT_IDLE_TIMEOUT);
        return new TcpProxyConfig(name, tp.getStatPrefix(), cluster, weighted, idle,
                AccessLogs.accessLogs(tp.getAccessLogList(), path), hashSourceIp(tp, path), maxDuration(tp, path),
                tunnelingHost(tp, path));
    }

    /**
     * tunneling_config: its hostname, the CONNECT request's target (Envoy's HTTP/1.1 tunneling); POST tunnels, added
     * headers and the other options are refused, and so is a hostname with a substitution command, which the proxy
     * does not evaluate there.
     */
    private static Optional<String> tunnelingHost(TcpProxy tp, String path) {
        if (!tp.hasTunnelingConfig()) {
            return Optional.empty();
        }
        String tPath = at(path, "tunneling_config");
        only(tp.getTunnelingConfig(), tPath, "hostname");
        String host = tp.getTunnelingConfig().getHostname();
        if (host.isEmpty()) {
            throw new ConfigException(at(tPath, "hostname"), "is required");
        }
        if (host.indexOf('%') >= 0) {
            throw new ConfigException(at(tPath, "hostname"), host + ": substitution commands are not supported here");
        }
        for (int i = 0; i < host.length(); i++) {
            char c = host.charAt(i);
            if (c <= ' ' || c >= 0x7f) {
                throw new ConfigException(at(tPath, "hostname"), host + ": not a valid authority");
            }
        }
        return Optional.of(host);
    }

    /**
     * Envoy's tcp_proxy.proto allows at most one hash_policy (type.v3.HashPolicy, its policy_specifier
     * required); of its methods only source_ip is ours (source/common/network/hash_policy.cc).
     */
    private static boolean hashSourceIp(TcpProxy tp, String path) {
        if (tp.getHashPolicyCount() > 1) {
            throw new ConfigException(at(path, "hash_policy"), "at most one hash policy is allowed");
        }
        if (tp.getHashPolicyCount() == 0) {
            return false;
        }
        String hPath = at(path, "hash_policy", 0);
        HashPolicy h = tp.getHashPolicy(0);
        only(h, hPath, "source_ip");
        if (!h.hasSourceIp()) {
            throw new ConfigException(hPath, "one of source_ip is required");
        }
        only(h.getSourceIp(), at(hPath, "source_ip"));
        return true;
    }

    /** Envoy: unset, no maximum; else at least 1ms (tcp_proxy.proto's validation rule). */
    private static Optional<Duration> maxDuration(TcpProxy tp, String path) {
        if (!tp.hasMaxDownstreamConnectionDuration()) {
            return Optional.empty();
        }
        Duration d = Protos.duration(tp.getMaxDownstreamConnectionDuration());
        if (d.compareTo(Duration.ofMillis(1)) < 0) {
            throw new ConfigException(at(path, "max_downstream_connection_duration"), "must be at least 1ms");
        }
        return Optional.of(d);
    }
}
