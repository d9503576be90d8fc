package io.sourcemesh.control.translate;

import com.fasterxml.jackson.databind.JsonNode;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.sourcemesh.control.model.IstioConfig;
import io.sourcemesh.control.model.MeshModel;
import io.sourcemesh.control.model.Service;
import java.util.List;
import java.util.Optional;

/**
 * The tcp_proxy a VirtualService {@code tcp} or {@code tls} route becomes, at a gateway and at a sidecar alike (Istio's
 * networkfilter.go buildOutboundNetworkFilters): one destination, or the destinations of non-zero weight as
 * weighted_clusters, with the first destination's DestinationRule read for tcp_proxy's settings.
 */
final class TcpRoutes {
    private TcpRoutes() {}

    /**
     * tcp_proxy to {@code routes} (a route's {@code route} list) of {@code vs} on a listener of {@code port}: stat prefix
     * the cluster name for one destination, {@code <vs name>.<vs namespace>} for weighted ones; empty, named under
     * {@code where}, when several destinations have no weight.
     */
    static Optional<TcpProxy> tcpProxy(MeshModel model, AccessLog log, List<TranslationWarning> warnings, String where,
            List<JsonNode> routes, IstioConfig vs, int port) {
        TcpProxy.Builder tp = TcpProxy.newBuilder().addAccessLog(log);
        if (routes.size() == 1) {
            String cluster = destinationCluster(model, routes.get(0).path("destination"), vs, port);
            tp.setStatPrefix(cluster).setCluster(cluster);
        } else {
            TcpProxy.WeightedCluster.Builder wc = TcpProxy.WeightedCluster.newBuilder();
            for (JsonNode route : routes) {
                int weight = route.path("weight").asInt(0);
                if (weight > 0) {
                    wc.addClusters(TcpProxy.WeightedCluster.ClusterWeight.newBuilder()
                            .setName(destinationCluster(model, route.path("destination"), vs, port)).setWeight(weight));
                }
            }
            if (wc.getClustersCount() == 0) {
                warnings.add(new TranslationWarning(where, "VirtualService " + vs.key() + " has several destinations "
                        + "and none with a weight; left out"));
                return Optional.empty();
            }
            tp.setStatPrefix(vs.name() + "." + vs.namespace()).setWeightedClusters(wc);
        }
        destinationPolicy(model, warnings, where, routes.get(0).path("destination"), vs, tp);
        return Optional.of(tp.build());
    }

    /**
     * Istio's buildOutboundNetworkFilters reads the first destination's DestinationRule: its trafficPolicy's
     * connectionPool.tcp.idleTimeout is tcp_proxy's idle_timeout; a consistentHash useSourceIp (the subset's policy
     * first, as maybeSetHashPolicy) would be tcp_proxy's hash_policy, which the proxy's tcp_proxy has not: named.
     */
    private static void destinationPolicy(MeshModel model, List<TranslationWarning> warnings, String where,
            JsonNode destination, IstioConfig vs, TcpProxy.Builder tp) {
        String fqdn = model.fqdn(destination.path("host").asText(), vs.namespace());
        Optional<IstioConfig> rule = model.serviceByFqdn(fqdn).flatMap(svc -> Clusters.destinationRule(model, svc));
        if (rule.isEmpty()) {
            return;
        }
        JsonNode policy = rule.get().spec().path("trafficPolicy");
        JsonNode idle = policy.path("connectionPool").path("tcp").path("idleTimeout");
        if (idle.isTextual()) {
            IstioDurations.parse(idle.asText()).ifPresent(tp::setIdleTimeout); // a bad one is named on the cluster
        }
        boolean sourceIp = policy.path("loadBalancer").path("consistentHash").path("useSourceIp").asBoolean(false);
        String subset = destination.path("subset").asText("");
        for (JsonNode sub : Clusters.list(rule.get().spec().path("subsets"))) {
            if (sub.path("name").asText().equals(subset) && sub.path("trafficPolicy").has("loadBalancer")) {
                sourceIp = sub.path("trafficPolicy").path("loadBalancer").path("consistentHash").path("useSourceIp")
                        .asBoolean(false);
            }
        }
        if (sourceIp) {
            warnings.add(TranslationWarning.note(where, "DestinationRule " + rule.get().key() + " consistentHash."
                    + "useSourceIp is not applied to the tcp_proxy (the proxy's tcp_proxy has no hash_policy); its "
                    + "connections are spread by the cluster's load balancer"));
        }
    }

    /**
     * Istio's GetDestinationCluster: the destination's port, else the service's only port, else the listener's port.
     */
    static String destinationCluster(MeshModel model, JsonNode destination, IstioConfig vs, int listenerPort) {
        String fqdn = model.fqdn(destination.path("host").asText(), vs.namespace());
        int port = destination.path("port").path("number").asInt(0);
        if (port == 0) {
            port = model.serviceByFqdn(fqdn).map(Service::ports).filter(p -> p.size() == 1)
                    .map(p -> p.get(0).port()).orElse(listenerPort);
        }
        return Names.outboundCluster(port, destination.path("subset").asText(""), fqdn);
    }
}
