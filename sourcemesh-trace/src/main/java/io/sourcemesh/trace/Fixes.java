package io.sourcemesh.trace;

/** The fixes, written as the commands to run: the seed's own patches and EnvoyFilters, with the names filled in. */
public final class Fixes {
    private Fixes() {
    }

    public static String tproxy(String namespace, String deployment) {
        return "kubectl patch deployment -n " + namespace + " " + deployment
                + " -p '{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"sidecar.istio.io/interceptionMode\":\"TPROXY\"}}}}}'";
    }

    public static String sidecarXff() {
        return """
                kubectl apply -f - <<'EOF'
                apiVersion: networking.istio.io/v1alpha3
                kind: EnvoyFilter
                metadata:
                  name: enable-xff-for-sidecar-inbound
                  namespace: istio-system
                spec:
                  configPatches:
                  - applyTo: NETWORK_FILTER
                    match:
                      context: SIDECAR_INBOUND
                      listener:
                        name: "virtualInbound"
                        filterChain:
                          filter:
                            name: "envoy.filters.network.http_connection_manager"
                    patch:
                      operation: MERGE
                      value:
                        typed_config:
                          "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
                          use_remote_address: true
                EOF""";
    }

    public static String externalTrafficPolicyLocal(String namespace, String service) {
        return "kubectl patch svc " + service + " -n " + namespace + " -p '{\"spec\":{\"externalTrafficPolicy\":\"Local\"}}'";
    }

    public static String gatewayUseRemoteAddress(String namespace) {
        return """
                kubectl apply -f - <<'EOF'
                apiVersion: networking.istio.io/v1alpha3
                kind: EnvoyFilter
                metadata:
                  name: gateway-use-remote-address
                  namespace: %s
                spec:
                  configPatches:
                  - applyTo: NETWORK_FILTER
                    match:
                      context: GATEWAY
                      listener:
                        filterChain:
                          filter:
                            name: "envoy.filters.network.http_connection_manager"
                    patch:
                      operation: MERGE
                      value:
                        typed_config:
                          "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
                          use_remote_address: true
                EOF""".formatted(namespace);
    }

    /** Istio's gatewayTopology, per gateway deployment: numTrustedProxies becomes xff_num_trusted_hops. */
    public static String numTrustedProxies(String namespace, String deployment, int hops) {
        return "kubectl patch deployment -n " + namespace + " " + deployment
                + " -p '{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"proxy.istio.io/config\":"
                + "\"{\\\"gatewayTopology\\\":{\\\"numTrustedProxies\\\":" + hops + "}}\"}}}}}'";
    }

    /** PROXY protocol at the gateway (gatewayTopology.proxyProtocol); the load balancer must then send it too. */
    public static String proxyProtocol(String namespace, String deployment) {
        return "kubectl patch deployment -n " + namespace + " " + deployment
                + " -p '{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"proxy.istio.io/config\":"
                + "\"{\\\"gatewayTopology\\\":{\\\"proxyProtocol\\\":{}}}\"}}}}}'"
                + "   # and turn PROXY protocol on at the load balancer (its Service annotation)";
    }

    /**
     * Istio's DestinationRule proxyProtocol: the proxy in front writes a PROXY header with the client's address before the
     * bytes (upstream_proxy_protocol), the one place a TCP connection can carry it; the app must read PROXY protocol.
     */
    public static String destinationRuleProxyProtocol(String namespace, String service) {
        return """
                kubectl apply -f - <<'EOF'
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata:
                  name: %s
                  namespace: %s
                spec:
                  host: %s
                  trafficPolicy:
                    proxyProtocol: {version: V1}
                EOF
                # (merge proxyProtocol into the host's DestinationRule if it has one; the app must read the PROXY header)\
                """.formatted(service, namespace, service).stripTrailing();
    }
}
