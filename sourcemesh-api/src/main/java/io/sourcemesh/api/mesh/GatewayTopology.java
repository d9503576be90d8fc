package io.sourcemesh.api.mesh;

import java.util.Optional;

/**
 * ProxyConfig's {@code gatewayTopology} as one config sets it: {@code numTrustedProxies} (empty when
 * not written, so a lower layer's value shows through) and {@code proxyProtocol: {}}. Istio merges a
 * pod's annotation over the mesh's defaultConfig field by field, as protobuf merges: a set field wins,
 * and an empty message cannot be unset, so proxyProtocol, once on in a layer, stays on.
 */
public record GatewayTopology(Optional<Integer> numTrustedProxies, boolean proxyProtocol) {
    public static final GatewayTopology UNSET = new GatewayTopology(Optional.empty(), false);

    /** This layer over {@code below} (the annotation over the mesh default). */
    public GatewayTopology over(GatewayTopology below) {
        return new GatewayTopology(numTrustedProxies.or(below::numTrustedProxies), proxyProtocol || below.proxyProtocol);
    }

    /** The gateway's xff_num_trusted_hops: 0 when no layer sets it. */
    public int trustedHops() {
        return numTrustedProxies.orElse(0);
    }
}
