package io.sourcemesh.proxy.upstream;

import io.sourcemesh.l4.UpstreamConnector;

import io.sourcemesh.proxy.config.ClusterConfig;
import io.sourcemesh.proxy.config.ConfigException;
import io.sourcemesh.proxy.config.TransportSocketConfig;
import io.sourcemesh.proxy.stats.Stats;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The clusters of the config version now serving. An update keeps the runtime (and its pools) of
 * every cluster whose config is unchanged and closes those that went away or changed.
 */
public final class ClusterManager {
    private final Stats stats;
    private final UpstreamConnector connector;
    private final Function<TransportSocketConfig, UpstreamTransportSocket> transportSockets;
    private volatile Map<String, ClusterRuntime> clusters = Map.of();

    /** @param transportSockets builds a cluster's transport socket (the extension registry's) */
    public ClusterManager(Stats stats, UpstreamConnector connector,
            Function<TransportSocketConfig, UpstreamTransportSocket> transportSockets) {
        this.stats = stats;
        this.connector = connector;
        this.transportSockets = transportSockets;
    }

    public UpstreamConnector connector() {
        return connector;
    }

    public synchronized void update(List<ClusterConfig> configs) {
        Map<String, ClusterRuntime> old = clusters;
        Map<String, ClusterRuntime> next = new LinkedHashMap<>();
        for (ClusterConfig c : configs) {
            ClusterRuntime existing = old.get(c.name());
            next.put(c.name(), existing != null && existing.config().equals(c) ? existing : new ClusterRuntime(c, stats, transportSocket(c),
                    matchSockets(c), existing));
        }
        clusters = next;
        old.forEach((name, runtime) -> {
            if (next.get(name) != runtime) {
                // its idle pools drain now, busy connections after their request (no loops: a test's manager)
                runtime.close(connector == null ? java.util.List.<io.netty.util.concurrent.EventExecutor>of() : connector.loops());
            }
        });
    }

    /**
     * The cluster's transport socket; one that cannot be built (a client key that is not its certificate's) fails the
     * whole update before anything changed, naming the cluster as {@code clusters.<name>.transport_socket…}.
     */
    private UpstreamTransportSocket transportSocket(ClusterConfig c) {
        return socket(c, c.transportSocket(), "");
    }

    /** The sockets of the cluster's transport_socket_matches; one that cannot be built fails the update as above. */
    private List<UpstreamTransportSocket> matchSockets(ClusterConfig c) {
        List<UpstreamTransportSocket> out = new java.util.ArrayList<>();
        for (int i = 0; i < c.transportSocketMatches().size(); i++) {
            out.add(socket(c, c.transportSocketMatches().get(i).transportSocket(), "transport_socket_matches[" + i + "]."));
        }
        return out;
    }

    /** {@code at}: where the socket's {@code transport_socket} is in the cluster, for the error's path. */
    private UpstreamTransportSocket socket(ClusterConfig c, TransportSocketConfig config, String at) {
        try {
            return transportSockets.apply(config);
        } catch (ConfigException e) {
            String problem = e.fieldPath().isEmpty() ? e.getMessage() : e.getMessage().substring(e.fieldPath().length() + 2);
            throw new ConfigException("clusters." + c.name() + (e.fieldPath().isEmpty() ? "" : "." + at + e.fieldPath()), problem);
        }
    }

    /** Closes every cluster's pools (the proxy is stopping; on a shared transport the loops live on). */
    public synchronized void close() {
        clusters.values().forEach(c -> c.close(connector.loops()));
        clusters = Map.of();
    }

    /** The cluster named, or null when the serving config has none (Envoy's NC). */
    public ClusterRuntime get(String name) {
        return clusters.get(name);
    }

    public Collection<ClusterRuntime> all() {
        return clusters.values();
    }
}
