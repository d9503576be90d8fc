package io.sourcemesh.control.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.mesh.GatewayTopology;
import io.sourcemesh.api.mesh.PathNormalization;
import io.sourcemesh.api.mesh.ProxyConfigs;
import io.sourcemesh.api.mesh.ProxyConfigs.ExportToDefaults;
import java.util.Collection;
import java.util.Optional;

/**
 * The parts of Istio's MeshConfig the translation reads. numTrustedProxies and proxyProtocol are
 * meshConfig.defaultConfig.gatewayTopology; rootNamespace holds mesh-wide EnvoyFilters; pathNormalization
 * sets every connection manager's path transformations; h2Upgrade is h2UpgradePolicy UPGRADE (HTTP ports' outbound
 * clusters speak HTTP/2); enableAutoMtls is Istio's auto mTLS (true by default); exportTo the exportTo a Service,
 * VirtualService or DestinationRule without one takes (defaultServiceExportTo and the others; * by default);
 * localityLbSetting the locality load balancing of clusters whose DestinationRule sets none (missing: unset).
 */
public record MeshConfig(String rootNamespace, String domain, int numTrustedProxies, boolean proxyProtocol,
        String accessLogFile, PathNormalization pathNormalization, boolean h2Upgrade, boolean enableAutoMtls,
        ExportToDefaults exportTo, JsonNode localityLbSetting) {

    public static MeshConfig defaults() {
        return new MeshConfig("istio-system", "cluster.local", 0, false, "/dev/stdout", PathNormalization.DEFAULT, false, true,
                ExportToDefaults.PUBLIC, MissingNode.getInstance());
    }

    /**
     * The mesh config as istiod reads it: the defaults, with the {@code mesh} key of ConfigMap
     * {@code istio-system/istio} among {@code objects} over them. The API server refuses a mesh config
     * with fields SourceMesh does not honour ({@link ProxyConfigs}), so what is stored parses.
     */
    public static MeshConfig from(Collection<ObjectNode> objects) {
        MeshConfig mesh = defaults();
        for (ObjectNode o : objects) {
            if (Nodes.text(o, "kind").equals("ConfigMap") && Nodes.text(o, "metadata", "name").equals(ProxyConfigs.MESH_CONFIGMAP)
                    && Nodes.text(o, "metadata", "namespace").equals(ProxyConfigs.MESH_NAMESPACE)) {
                ProxyConfigs.Parsed parsed = ProxyConfigs.meshConfig(Nodes.text(o, "data", ProxyConfigs.MESH_KEY), "data.mesh");
                if (!parsed.ok()) {
                    throw new IllegalArgumentException("ConfigMap istio-system/istio: " + parsed.errors());
                }
                GatewayTopology t = parsed.topology();
                mesh = mesh.withNumTrustedProxies(t.trustedHops()).withProxyProtocol(t.proxyProtocol())
                        .withPathNormalization(parsed.pathNormalization()).withH2Upgrade(parsed.h2Upgrade())
                        .withEnableAutoMtls(parsed.enableAutoMtls()).withExportTo(parsed.exportTo())
                        .withLocalityLbSetting(parsed.localityLbSetting());
            }
        }
        return mesh;
    }

    /**
     * meshConfig.trustDomain, the SPIFFE identities' authority: Istio's default, the only value the API server takes
     * ({@link ProxyConfigs}).
     */
    public String trustDomain() {
        return "cluster.local";
    }

    /** meshConfig.defaultConfig.gatewayTopology, the layer a pod's proxy.istio.io/config goes over. */
    public GatewayTopology gatewayTopology() {
        return new GatewayTopology(numTrustedProxies == 0 ? Optional.empty() : Optional.of(numTrustedProxies), proxyProtocol);
    }

    public MeshConfig withNumTrustedProxies(int hops) {
        return new MeshConfig(rootNamespace, domain, hops, proxyProtocol, accessLogFile, pathNormalization, h2Upgrade, enableAutoMtls,
                exportTo, localityLbSetting);
    }

    public MeshConfig withProxyProtocol(boolean enabled) {
        return new MeshConfig(rootNamespace, domain, numTrustedProxies, enabled, accessLogFile, pathNormalization, h2Upgrade,
                enableAutoMtls, exportTo, localityLbSetting);
    }

    public MeshConfig withPathNormalization(PathNormalization paths) {
        return new MeshConfig(rootNamespace, domain, numTrustedProxies, proxyProtocol, accessLogFile, paths, h2Upgrade, enableAutoMtls,
                exportTo, localityLbSetting);
    }

    public MeshConfig withH2Upgrade(boolean upgrade) {
        return new MeshConfig(rootNamespace, domain, numTrustedProxies, proxyProtocol, accessLogFile, pathNormalization, upgrade,
                enableAutoMtls, exportTo, localityLbSetting);
    }

    public MeshConfig withEnableAutoMtls(boolean enabled) {
        return new MeshConfig(rootNamespace, domain, numTrustedProxies, proxyProtocol, accessLogFile, pathNormalization, h2Upgrade,
                enabled, exportTo, localityLbSetting);
    }

    /** meshConfig.localityLbSetting as written (missing: unset, Istio's default: enabled, nothing else). */
    public MeshConfig withLocalityLbSetting(JsonNode setting) {
        return new MeshConfig(rootNamespace, domain, numTrustedProxies, proxyProtocol, accessLogFile, pathNormalization, h2Upgrade,
                enableAutoMtls, exportTo, setting);
    }

    public MeshConfig withExportTo(ExportToDefaults defaults) {
        return new MeshConfig(rootNamespace, domain, numTrustedProxies, proxyProtocol, accessLogFile, pathNormalization, h2Upgrade,
                enableAutoMtls, defaults, localityLbSetting);
    }
}
