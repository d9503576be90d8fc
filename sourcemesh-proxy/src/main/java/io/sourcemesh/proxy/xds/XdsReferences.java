package io.sourcemesh.proxy.xds;

import com.google.protobuf.InvalidProtocolBufferException;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.sourcemesh.proxy.config.Anys;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The names that make an ADS set consistent: the load assignments EDS clusters need and the route
 * configurations listeners load via RDS. The HTTP connection manager is found by its typed_config
 * type, as Envoy does, not by filter name (java-control-plane only knows the pre-1.14 name).
 */
public final class XdsReferences {

    private XdsReferences() {
    }

    /** For each EDS cluster, eds_cluster_config.service_name, else the cluster's name. */
    public static Set<String> edsServiceNames(Iterable<Cluster> clusters) {
        Set<String> names = new TreeSet<>();
        for (Cluster c : clusters) {
            if (c.hasType() && c.getType() == Cluster.DiscoveryType.EDS) {
                String service = c.getEdsClusterConfig().getServiceName();
                names.add(service.isEmpty() ? c.getName() : service);
            }
        }
        return names;
    }

    /**
     * Every {@code rds.route_config_name} of the listeners' HTTP connection managers, default
     * filter chains included.
     *
     * @throws IllegalArgumentException if an HTTP connection manager's typed_config does not decode
     */
    public static Set<String> routeConfigNames(Iterable<Listener> listeners) {
        Set<String> names = new TreeSet<>();
        for (Listener listener : listeners) {
            List<FilterChain> chains = new ArrayList<>(listener.getFilterChainsList());
            if (listener.hasDefaultFilterChain()) {
                chains.add(listener.getDefaultFilterChain());
            }
            for (FilterChain chain : chains) {
                for (Filter filter : chain.getFiltersList()) {
                    if (filter.hasTypedConfig() && Anys.is(filter.getTypedConfig(), HttpConnectionManager.getDefaultInstance())) {
                        HttpConnectionManager hcm = unpack(listener, filter);
                        if (hcm.hasRds()) {
                            names.add(hcm.getRds().getRouteConfigName());
                        }
                    }
                }
            }
        }
        return names;
    }

    private static HttpConnectionManager unpack(Listener listener, Filter filter) {
        try {
            return Anys.unpack(filter.getTypedConfig(), HttpConnectionManager.getDefaultInstance());
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException("listener " + listener.getName() + ": filter " + filter.getName()
                    + ": cannot decode HttpConnectionManager: " + e.getMessage(), e);
        }
    }
}
