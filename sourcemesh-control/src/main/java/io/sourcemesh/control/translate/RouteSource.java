package io.sourcemesh.control.translate;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.control.model.IstioConfig;
import io.sourcemesh.control.model.ProxyIdentity;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Whom a VirtualService's routes are built for, as Istio's sourceMatchHTTP and translateRoute see it:
 * the proxy's workload labels and namespace, the gateway names it serves ({@code mesh} for a
 * sidecar, {@code namespace/name} of the Gateway for a gateway), and the listener port. A match
 * whose gateways, sourceLabels, sourceNamespace or port do not fit this proxy yields no route here.
 */
record RouteSource(Map<String, String> labels, String namespace, Set<String> gatewayNames, int port) {

    static RouteSource sidecar(ProxyIdentity proxy, int port) {
        return new RouteSource(proxy.labels(), proxy.namespace(), Set.of("mesh"), port);
    }

    static RouteSource gateway(ProxyIdentity proxy, IstioConfig gateway, int port) {
        return new RouteSource(proxy.labels(), proxy.namespace(), Set.of(gateway.namespace() + "/" + gateway.name()), port);
    }

    /** Istio's sourceMatchHTTP plus translateRoute's port check, for one match of {@code vs}: gateways, when named, stand in for the source checks. */
    boolean matches(JsonNode match, IstioConfig vs) {
        if (!portFits(match)) {
            return false;
        }
        List<JsonNode> gateways = Clusters.list(match.path("gateways"));
        return gateways.isEmpty() ? sourceFits(match) : gatewaysFit(gateways, vs);
    }

    /**
     * Istio's matchTCP / matchTLS (tls.go) for a {@code tcp} or {@code tls} route's match: port, gateways, sourceLabels
     * (a subset of the proxy's labels) and sourceNamespace must all fit; unlike an HTTP match, gateways do not stand
     * in for the source checks.
     */
    boolean matchesL4(JsonNode match, IstioConfig vs) {
        List<JsonNode> gateways = Clusters.list(match.path("gateways"));
        return portFits(match) && (gateways.isEmpty() || gatewaysFit(gateways, vs)) && sourceFits(match);
    }

    private boolean portFits(JsonNode match) {
        int matchPort = match.path("port").asInt(0);
        return matchPort == 0 || matchPort == port;
    }

    private boolean gatewaysFit(List<JsonNode> gateways, IstioConfig vs) {
        return gateways.stream().anyMatch(g -> gatewayNames.contains(resolveGateway(g.asText(), vs.namespace())));
    }

    /** sourceLabels a subset of the proxy's labels, and sourceNamespace the proxy's. */
    private boolean sourceFits(JsonNode match) {
        for (Map.Entry<String, JsonNode> e : match.path("sourceLabels").properties()) {
            if (!e.getValue().asText().equals(labels.get(e.getKey()))) {
                return false;
            }
        }
        String sourceNamespace = match.path("sourceNamespace").asText("");
        return sourceNamespace.isEmpty() || sourceNamespace.equals(namespace);
    }

    /**
     * Istio's ResolveGatewayName: {@code mesh} stays; {@code ns/name} stays; a host name
     * {@code name.ns.svc...} is {@code ns/name}; a short name is in the VirtualService's namespace.
     */
    static String resolveGateway(String ref, String vsNamespace) {
        if (ref.equals("mesh") || ref.contains("/")) {
            return ref;
        }
        int dot = ref.indexOf('.');
        if (dot > 0) {
            String rest = ref.substring(dot + 1);
            int next = rest.indexOf('.');
            return (next < 0 ? rest : rest.substring(0, next)) + "/" + ref.substring(0, dot);
        }
        return vsNamespace + "/" + ref;
    }
}
