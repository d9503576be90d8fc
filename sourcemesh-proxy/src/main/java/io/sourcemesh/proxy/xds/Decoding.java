package io.sourcemesh.proxy.xds;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** Unpacks the resources of a response and finds the EDS and RDS names they reference. */
final class Decoding {

    private Decoding() {
    }

    /** name → resource, in response order; rejects a wrong type, a nameless or a duplicate resource. */
    static Map<String, Message> decode(String typeUrl, List<Any> resources) throws InvalidResourceException {
        Map<String, Message> out = new LinkedHashMap<>();
        for (Any any : resources) {
            if (!any.getTypeUrl().equals(typeUrl)) {
                throw new InvalidResourceException("resource of type " + any.getTypeUrl() + " in a " + typeUrl + " response");
            }
            Message resource;
            String name;
            try {
                switch (typeUrl) {
                    case TypeUrls.CLUSTER -> {
                        Cluster c = any.unpack(Cluster.class);
                        resource = c;
                        name = c.getName();
                    }
                    case TypeUrls.ENDPOINT -> {
                        ClusterLoadAssignment a = any.unpack(ClusterLoadAssignment.class);
                        resource = a;
                        name = a.getClusterName();
                    }
                    case TypeUrls.LISTENER -> {
                        Listener l = any.unpack(Listener.class);
                        rdsNames(l);
                        resource = l;
                        name = l.getName();
                    }
                    case TypeUrls.ROUTE -> {
                        RouteConfiguration r = any.unpack(RouteConfiguration.class);
                        resource = r;
                        name = r.getName();
                    }
                    default -> throw new InvalidResourceException("unsupported type " + typeUrl);
                }
            } catch (InvalidProtocolBufferException e) {
                throw new InvalidResourceException("cannot decode " + TypeUrls.shortName(typeUrl) + " resource: " + e.getMessage());
            }
            if (name.isEmpty()) {
                throw new InvalidResourceException(TypeUrls.shortName(typeUrl) + " resource without a name");
            }
            if (out.put(name, resource) != null) {
                throw new InvalidResourceException("duplicate " + TypeUrls.shortName(typeUrl) + " resource name " + name);
            }
        }
        return out;
    }

    /** The service names of the EDS clusters: eds_cluster_config.service_name, else the cluster name. */
    static Set<String> edsNames(Collection<Message> clusters) {
        Set<String> names = new TreeSet<>();
        for (Message m : clusters) {
            Cluster c = (Cluster) m;
            if (c.hasType() && c.getType() == Cluster.DiscoveryType.EDS) {
                String service = c.getEdsClusterConfig().getServiceName();
                names.add(service.isEmpty() ? c.getName() : service);
            }
        }
        return names;
    }

    /** The route configuration names the listeners' HTTP connection managers load via {@code rds}. */
    static Set<String> rdsNames(Collection<Message> listeners) {
        Set<String> names = new TreeSet<>();
        for (Message m : listeners) {
            try {
                names.addAll(rdsNames((Listener) m));
            } catch (InvalidProtocolBufferException e) {
                throw new IllegalStateException("listener passed decoding but not now", e);
            }
        }
        return names;
    }

    private static List<String> rdsNames(Listener listener) throws InvalidProtocolBufferException {
        List<FilterChain> chains = new ArrayList<>(listener.getFilterChainsList());
        if (listener.hasDefaultFilterChain()) {
            chains.add(listener.getDefaultFilterChain());
        }
        List<String> names = new ArrayList<>();
        for (FilterChain chain : chains) {
            for (Filter filter : chain.getFiltersList()) {
                if (filter.hasTypedConfig() && filter.getTypedConfig().is(HttpConnectionManager.class)) {
                    HttpConnectionManager hcm = filter.getTypedConfig().unpack(HttpConnectionManager.class);
                    if (hcm.hasRds()) {
                        names.add(hcm.getRds().getRouteConfigName());
                    }
                }
            }
        }
        return names;
    }
}
