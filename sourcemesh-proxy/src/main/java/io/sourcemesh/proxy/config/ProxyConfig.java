package io.sourcemesh.proxy.config;

import com.google.protobuf.Message;
import java.util.List;
import java.util.Optional;

/**
 * One whole, validated configuration of the proxy: what a bootstrap file or an ADS push becomes.
 * Immutable; the running proxy swaps whole versions. {@code source} keeps the Envoy protos it was
 * built from, for {@code /config_dump} only — the hot path never reads it. {@code ads} is present
 * when a bootstrap asks for its listeners and clusters over ADS; the proxy then connects at start.
 */
public record ProxyConfig(
        String version,
        NodeInfo node,
        Optional<AdminConfig> admin,
        List<ListenerConfig> listeners,
        List<ClusterConfig> clusters,
        Message source,
        Optional<AdsConfig> ads) {

    public ProxyConfig {
        listeners = List.copyOf(listeners);
        clusters = List.copyOf(clusters);
    }

    /** A config without ADS: a static bootstrap, or one version pushed over ADS. */
    public ProxyConfig(String version, NodeInfo node, Optional<AdminConfig> admin, List<ListenerConfig> listeners,
            List<ClusterConfig> clusters, Message source) {
        this(version, node, admin, listeners, clusters, source, Optional.empty());
    }

    public Optional<ClusterConfig> cluster(String name) {
        return clusters.stream().filter(c -> c.name().equals(name)).findFirst();
    }

    public Optional<ListenerConfig> listener(String name) {
        return listeners.stream().filter(l -> l.name().equals(name)).findFirst();
    }
}
