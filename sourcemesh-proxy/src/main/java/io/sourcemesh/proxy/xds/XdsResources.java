package io.sourcemesh.proxy.xds;

import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One consistent set of raw xDS resources: every route configuration the listeners name via
 * {@code rds} and every load assignment the EDS clusters name is present. RDS and EDS are not
 * merged into listeners and clusters here; that is the config translator's job.
 *
 * @param versions version_info per type URL ({@link TypeUrls}); "" for a type never received
 */
public record XdsResources(
        Map<String, String> versions,
        List<Listener> listeners,
        List<Cluster> clusters,
        List<RouteConfiguration> routes,
        List<ClusterLoadAssignment> endpoints) {

    public XdsResources {
        var copy = new LinkedHashMap<String, String>();
        for (String type : TypeUrls.IN_ORDER) {
            copy.put(type, versions.getOrDefault(type, ""));
        }
        versions = java.util.Collections.unmodifiableMap(copy);
        listeners = List.copyOf(listeners);
        clusters = List.copyOf(clusters);
        routes = List.copyOf(routes);
        endpoints = List.copyOf(endpoints);
    }

    /** The version_info of one type, "" if it was never received. */
    public String version(String typeUrl) {
        return versions.getOrDefault(typeUrl, "");
    }
}
