package io.sourcemesh.proxy.xds;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.sourcemesh.proxy.config.Anys;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

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
                        Cluster c = Anys.unpack(any, Cluster.getDefaultInstance());
                        resource = c;
                        name = c.getName();
                    }
                    case TypeUrls.ENDPOINT -> {
                        ClusterLoadAssignment a = Anys.unpack(any, ClusterLoadAssignment.getDefaultInstance());
                        resource = a;
                        name = a.getClusterName();
                    }
                    case TypeUrls.LISTENER -> {
                        Listener l = Anys.unpack(any, Listener.getDefaultInstance());
                        XdsReferences.routeConfigNames(List.of(l));
                        resource = l;
                        name = l.getName();
                    }
                    case TypeUrls.ROUTE -> {
                        RouteConfiguration r = Anys.unpack(any, RouteConfiguration.getDefaultInstance());
                        resource = r;
                        name = r.getName();
                    }
                    default -> throw new InvalidResourceException("unsupported type " + typeUrl);
                }
            } catch (IllegalArgumentException e) {
                throw new InvalidResourceException(e.getMessage());
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

    static Set<String> edsNames(Collection<Message> clusters) {
        return XdsReferences.edsServiceNames(clusters.stream().map(Cluster.class::cast).toList());
    }

    static Set<String> rdsNames(Collection<Message> listeners) {
        return XdsReferences.routeConfigNames(listeners.stream().map(Listener.class::cast).toList());
    }
}
