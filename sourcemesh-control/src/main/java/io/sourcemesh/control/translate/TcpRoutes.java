package io.sourcemesh.control.translate;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Duration;
import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.type.v3.HashPolicy;
import io.sourcemesh.control.model.IstioConfig;
import io.sourcemesh.control.model.MeshModel;
import io.sourcemesh.control.model.Service;
import java.util.List;
import java.util.Optional;

/**
 * The tcp_proxy a VirtualService {@code tcp} or {@code tls} route becomes, at a gateway and at a sidecar alike (Istio's
 * networkfilter.go buildOutboundNetworkFilters): one destination, or the destinations of non-zero weight as
 * weighted_clusters, with the first destination's DestinationRule read for tcp_proxy's settings; and the tcp_proxy to a
 * service's own cluster where no route took its port.
 */
final class TcpRoutes {
    private TcpRoutes() {}

    /**
     * tcp_proxy to {@code routes} (a route's {@code route} list) of {@code vs} on a listener of {@code port}: stat prefix
     * the cluster name for one destination, {@code <vs name>.<vs namespace>} for weighted ones; empty, named under
     * {@code where}, when several destinations have no weight.
     */
    static Optional<TcpProxy> tcpProxy(MeshModel model, List<AccessLog> log, List<TranslationWarning> warnings, String where,
            List<JsonNode> routes, IstioConfig vs, int port) {
        return tcpProxy(model, log, warnings, where, routes, vs, port, false);
    }

    /**
     * As above; {@code sidecar}: a sidecar's outbound listener, whose tcp_proxy to one destination takes the
     * DestinationRule's tunnel (Istio passes tunnelingconfig.Apply there, Skip on gateways).
     */
    static Optional<TcpProxy> tcpProxy(MeshModel model, List<AccessLog> log, List<TranslationWarning> warnings, String where,
            List<JsonNode> routes, IstioConfig vs, int port, boolean sidecar) {
        TcpProxy.Builder tp = TcpProxy.newBuilder().addAllAccessLog(log);
        String subset = "";
        if (routes.size() == 1) {
            String cluster = destinationCluster(model, routes.get(0).path("destination"), vs, port);
            tp.setStatPrefix(cluster).setCluster(cluster);
            subset = routes.get(0).path("destination").path("subset").asText("");
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
        String fqdn = model.fqdn(routes.get(0).path("destination").path("host").asText(), vs.namespace());
        Optional<IstioConfig> rule = model.serviceByFqdn(fqdn).flatMap(svc -> Clusters.destinationRule(model, svc));
        if (rule.isPresent()) {
            // Istio's weighted_clusters read no subset's policy (maybeSetHashPolicy(dr, tcpProxy, "")).
            destinationPolicy(warnings, rule.get(), subset, tp);
            if (sidecar && routes.size() == 1) {
                tunnel(rule.get(), subset, tp);
            }
        }
        return Optional.of(tp.build());
    }

    /**
     * tcp_proxy to {@code service}'s own cluster of {@code port}, where no route took the port: Istio's
     * buildOutboundNetworkFiltersWithSingleDestination from tls.go's default chain, with the service's DestinationRule.
     */
    static TcpProxy serviceTcpProxy(MeshModel model, List<AccessLog> log, List<TranslationWarning> warnings, Service service,
            int port) {
        String cluster = Names.outboundCluster(port, "", service.fqdn(model.meshConfig().domain()));
        TcpProxy.Builder tp = TcpProxy.newBuilder().setStatPrefix(cluster).setCluster(cluster).addAllAccessLog(log);
        Clusters.destinationRule(model, service).ifPresent(rule -> {
            destinationPolicy(warnings, rule, "", tp);
            tunnel(rule, "", tp);
        });
        return tp.build();
    }

    /**
     * Istio's tunnelingconfig.Apply: the subset's tunnel, else the rule's, as tunneling_config — hostname
     * targetHost:targetPort (an IPv6 address in brackets, as net.JoinHostPort). The API server refuses POST.
     */
    private static void tunnel(IstioConfig rule, String subset, TcpProxy.Builder tp) {
        JsonNode tunnel = rule.spec().path("trafficPolicy").path("tunnel");
        for (JsonNode sub : Clusters.list(rule.spec().path("subsets"))) {
            if (!subset.isEmpty() && sub.path("name").asText().equals(subset) && sub.path("trafficPolicy").has("tunnel")) {
                tunnel = sub.path("trafficPolicy").path("tunnel");
            }
        }
        if (tunnel.isMissingNode() || tunnel.isNull()) {
            return;
        }
        String host = tunnel.path("targetHost").asText();
        String hostname = (host.contains(":") ? "[" + host + "]" : host) + ":" + tunnel.path("targetPort").asInt();
        tp.setTunnelingConfig(TcpProxy.TunnelingConfig.newBuilder().setHostname(hostname));
    }

    /**
     * Istio's buildOutboundNetworkFiltersWithSingleDestination and ...WithWeightedClusters read the destination's
     * DestinationRule (networkfilter.go): its trafficPolicy's connectionPool.tcp.idleTimeout is tcp_proxy's
     * idle_timeout and maxConnectionDuration its max_downstream_connection_duration; a consistentHash useSourceIp
     * (a {@code subset}'s loadBalancer first, as maybeSetHashPolicy) its hash_policy source_ip.
     */
    private static void destinationPolicy(List<TranslationWarning> warnings, IstioConfig rule, String subset,
            TcpProxy.Builder tp) {
        JsonNode policy = rule.spec().path("trafficPolicy");
        JsonNode tcp = policy.path("connectionPool").path("tcp");
        JsonNode idle = tcp.path("idleTimeout");
        if (idle.isTextual()) {
            IstioDurations.parse(idle.asText()).ifPresent(tp::setIdleTimeout); // a bad one is named on the cluster
        }
        JsonNode max = tcp.path("maxConnectionDuration");
        if (!max.isMissingNode() && !max.isNull()) {
            Optional<Duration> d = IstioDurations.parse(max.asText())
                    .filter(v -> v.getSeconds() > 0 || v.getNanos() >= 1_000_000);
            if (d.isPresent()) {
                tp.setMaxDownstreamConnectionDuration(d.get());
            } else {
                // Istio's validation refuses it (ValidateDuration: at least 1ms); Envoy would refuse the listener.
                warnings.add(TranslationWarning.note("DestinationRule " + rule.key(), "connectionPool.tcp."
                        + "maxConnectionDuration " + max.asText() + " is not a duration of at least 1ms; TCP connections "
                        + "get no maximum duration"));
            }
        }
        boolean sourceIp = policy.path("loadBalancer").path("consistentHash").path("useSourceIp").asBoolean(false);
        for (JsonNode sub : Clusters.list(rule.spec().path("subsets"))) {
            if (sub.path("name").asText().equals(subset)) {
                if (sub.path("trafficPolicy").has("loadBalancer")) {
                    // A subset's own loadBalancer decides, a simple one or another hash meaning no source IP.
                    sourceIp = sub.path("trafficPolicy").path("loadBalancer").path("consistentHash").path("useSourceIp")
                            .asBoolean(false);
                }
                break;
            }
        }
        if (sourceIp) {
            tp.addHashPolicy(HashPolicy.newBuilder().setSourceIp(HashPolicy.SourceIp.getDefaultInstance()));
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
