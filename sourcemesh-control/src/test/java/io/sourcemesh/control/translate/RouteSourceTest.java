package io.sourcemesh.control.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Istio's ResolveGatewayName, which both a match's {@code gateways} and a VirtualService's binding use. */
class RouteSourceTest {
    @Test
    void gatewayReferencesResolveAsIstios() {
        assertEquals("mesh", RouteSource.resolveGateway("mesh", "default"));
        assertEquals("istio-system/ingress", RouteSource.resolveGateway("istio-system/ingress", "default"));
        assertEquals("default/http-gateway", RouteSource.resolveGateway("http-gateway", "default"));
        assertEquals("istio-system/ingress", RouteSource.resolveGateway("ingress.istio-system.svc.cluster.local", "default"));
        assertEquals("istio-system/ingress", RouteSource.resolveGateway("ingress.istio-system", "default"));
    }
}
