package io.sourcemesh.control.model;

/**
 * The parts of Istio's MeshConfig the translation reads. numTrustedProxies and proxyProtocol are
 * meshConfig.defaultConfig.gatewayTopology; rootNamespace holds mesh-wide EnvoyFilters.
 */
public record MeshConfig(String rootNamespace, String domain, int numTrustedProxies, boolean proxyProtocol,
        String accessLogFile) {

    public static MeshConfig defaults() {
        return new MeshConfig("istio-system", "cluster.local", 0, false, "/dev/stdout");
    }

    public MeshConfig withNumTrustedProxies(int hops) {
        return new MeshConfig(rootNamespace, domain, hops, proxyProtocol, accessLogFile);
    }

    public MeshConfig withProxyProtocol(boolean enabled) {
        return new MeshConfig(rootNamespace, domain, numTrustedProxies, enabled, accessLogFile);
    }
}
