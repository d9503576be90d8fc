package io.sourcemesh.proxy.upstream;

import io.sourcemesh.l4.SourceBinding;
import io.sourcemesh.l4.TlsNames;

import io.sourcemesh.proxy.config.WeightedCluster;
import io.sourcemesh.proxy.network.ConnectionContext;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/** Small helpers shared by the HTTP router and tcp_proxy when choosing where a stream goes. */
public final class Upstreams {
    private Upstreams() {}

    /** Picks a cluster name from weighted_clusters by weight. */
    public static String pickWeighted(List<WeightedCluster> clusters) {
        int total = 0;
        for (WeightedCluster w : clusters) {
            total += w.weight();
        }
        if (total <= 0) {
            return clusters.get(0).cluster();
        }
        int pick = ThreadLocalRandom.current().nextInt(total);
        for (WeightedCluster w : clusters) {
            pick -= w.weight();
            if (pick < 0) {
                return w.cluster();
            }
        }
        return clusters.get(clusters.size() - 1).cluster();
    }

    /**
     * The source binding for a stream: original_src binds the client's own IP (from the trusted
     * downstream remote address), else the cluster's upstream_bind_config, else none.
     */
    public static SourceBinding binding(ClusterRuntime cluster, UpstreamHost host, ConnectionContext connection,
            java.net.InetSocketAddress downstreamRemote, TlsNames names) {
        SourceBinding binding = binding(cluster, host, connection, downstreamRemote);
        // Only a TLS host takes a request's names: a plaintext one's pool is not split by them.
        return names == null || !host.transportSocket().takesTlsNames() ? binding : binding.withTlsNames(names);
    }

    public static SourceBinding binding(ClusterRuntime cluster, UpstreamHost host, ConnectionContext connection,
            java.net.InetSocketAddress downstreamRemote) {
        var originalSrc = connection.originalSrc();
        SourceBinding binding = originalSrc.isPresent()
                ? SourceBinding.originalSource(downstreamRemote.getAddress(), originalSrc.get().mark())
                : cluster.defaultBinding();
        // The host's transport socket adds what it sends first (upstream_proxy_protocol's header)
        // to the binding, so the pool is keyed on it too.
        return host.transportSocket().bind(binding, connection);
    }
}
