package io.sourcemesh.api.resource;

import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ResourceKindTest {

    @Test
    void looksUpEveryKubectlName() {
        assertEquals(Optional.of(ResourceKind.POD), ResourceKind.lookup("po"));
        assertEquals(Optional.of(ResourceKind.POD), ResourceKind.lookup("Pods"));
        assertEquals(Optional.of(ResourceKind.DEPLOYMENT), ResourceKind.lookup("deploy"));
        assertEquals(Optional.of(ResourceKind.DEPLOYMENT), ResourceKind.lookup("deployments.apps"));
        assertEquals(Optional.of(ResourceKind.REPLICA_SET), ResourceKind.lookup("rs"));
        assertEquals(Optional.of(ResourceKind.SERVICE), ResourceKind.lookup("svc"));
        assertEquals(Optional.of(ResourceKind.NAMESPACE), ResourceKind.lookup("ns"));
        assertEquals(Optional.of(ResourceKind.NODE), ResourceKind.lookup("no"));
        assertEquals(Optional.of(ResourceKind.SERVICE_ACCOUNT), ResourceKind.lookup("sa"));
        assertEquals(Optional.of(ResourceKind.CONFIG_MAP), ResourceKind.lookup("cm"));
        assertEquals(Optional.of(ResourceKind.ENDPOINTS), ResourceKind.lookup("ep"));
        assertEquals(Optional.of(ResourceKind.SECRET), ResourceKind.lookup("secret"));
        assertEquals(Optional.of(ResourceKind.GATEWAY), ResourceKind.lookup("gw"));
        assertEquals(Optional.of(ResourceKind.GATEWAY), ResourceKind.lookup("gateways.networking.istio.io"));
        assertEquals(Optional.of(ResourceKind.VIRTUAL_SERVICE), ResourceKind.lookup("VS"));
        assertEquals(Optional.of(ResourceKind.DESTINATION_RULE), ResourceKind.lookup("dr"));
        assertEquals(Optional.of(ResourceKind.SERVICE_ENTRY), ResourceKind.lookup("se"));
        assertEquals(Optional.of(ResourceKind.WORKLOAD_ENTRY), ResourceKind.lookup("we"));
        assertEquals(Optional.of(ResourceKind.WORKLOAD_ENTRY), ResourceKind.lookup("workloadentries.networking.istio.io"));
        assertEquals(Optional.of(ResourceKind.ENVOY_FILTER), ResourceKind.lookup("envoyfilter"));
        assertEquals(Optional.of(ResourceKind.AUTHORIZATION_POLICY), ResourceKind.lookup("ap"));
        assertEquals(Optional.of(ResourceKind.PEER_AUTHENTICATION), ResourceKind.lookup("pa"));
        assertEquals(Optional.of(ResourceKind.REQUEST_AUTHENTICATION), ResourceKind.lookup("ra"));
        assertEquals(Optional.of(ResourceKind.SIDECAR), ResourceKind.lookup("sidecars"));
        assertEquals(Optional.of(ResourceKind.TELEMETRY), ResourceKind.lookup("telemetry"));
        assertEquals(Optional.of(ResourceKind.TELEMETRY), ResourceKind.lookup("telemetries.telemetry.istio.io"));
        assertEquals(Optional.empty(), ResourceKind.lookup("ef"));
        assertEquals(Optional.empty(), ResourceKind.lookup("widgets"));
    }

    @Test
    void versionsAndScope() {
        assertEquals(Optional.of(ResourceKind.GATEWAY), ResourceKind.of("networking.istio.io/v1alpha3", "Gateway"));
        assertEquals(Optional.of(ResourceKind.GATEWAY), ResourceKind.of("networking.istio.io/v1beta1", "Gateway"));
        assertEquals(Optional.of(ResourceKind.GATEWAY), ResourceKind.of("networking.istio.io/v1", "Gateway"));
        assertEquals(Optional.empty(), ResourceKind.of("security.istio.io/v1alpha3", "AuthorizationPolicy"));
        assertEquals(Optional.empty(), ResourceKind.of("v1", "Deployment"));
        assertEquals(Optional.of(ResourceKind.DEPLOYMENT), ResourceKind.of("apps/v1", "Deployment"));
        assertFalse(ResourceKind.NAMESPACE.namespaced());
        assertFalse(ResourceKind.NODE.namespaced());
        assertTrue(ResourceKind.ENVOY_FILTER.namespaced());
        assertEquals("deployment.apps", ResourceKind.DEPLOYMENT.qualifiedSingular());
        assertEquals("apps/v1", ResourceKind.DEPLOYMENT.apiVersion());
        assertEquals("networking.istio.io/v1alpha3", ResourceKind.ENVOY_FILTER.apiVersion());
        assertTrue(ResourceKind.SERVICE.builtIn());
        assertFalse(ResourceKind.GATEWAY.builtIn());
        assertEquals(21, ResourceKind.all().size());
        assertEquals(Optional.of(ResourceKind.TELEMETRY), ResourceKind.of("telemetry.istio.io/v1", "Telemetry"));
        assertEquals(Optional.of(ResourceKind.TELEMETRY), ResourceKind.of("telemetry.istio.io/v1alpha1", "Telemetry"));
        assertEquals("telemetry.istio.io/v1", ResourceKind.TELEMETRY.apiVersion());
    }
}
