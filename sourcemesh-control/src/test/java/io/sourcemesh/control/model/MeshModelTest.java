package io.sourcemesh.control.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.control.Fixtures;
import java.util.List;
import org.junit.jupiter.api.Test;

class MeshModelTest {
    private final MeshModel model = MeshModel.of(Fixtures.seed("seed/http-demo.yaml", "seed/https-demo.yaml",
            "seed/enable-xff-for-sidecar-inbound.yaml", "topology/gateway-secret.yaml"));

    @Test
    void readsEveryKind() {
        assertEquals(3, model.services().size());
        assertEquals(3, model.pods().size());
        assertEquals(2, model.gateways().size());
        assertEquals(2, model.virtualServices().size());
        assertEquals(1, model.envoyFilters().size());
        assertEquals(Secret.TLS, model.secret("istio-system", "myexample-credential").orElseThrow().type());
    }

    @Test
    void servicesAndPods() {
        Service httpbin = model.service("default", "httpbin").orElseThrow();
        assertEquals("127.96.0.11", httpbin.clusterIp());
        assertTrue(httpbin.ports().get(0).isHttp());
        Pod pod = Fixtures.pod(model, "httpbin");
        assertTrue(pod.injected());
        assertTrue(pod.ready());
        assertEquals("node-1", pod.nodeName());
        assertEquals(8000, httpbin.ports().get(0).targetPortFor(pod));
        assertEquals(List.of(httpbin), model.servicesOf(pod));
        assertEquals(List.of(pod), model.endpointsOf(httpbin));
        assertEquals(InterceptionMode.REDIRECT, pod.interceptionMode());
        Service gw = model.service("istio-system", "istio-ingressgateway").orElseThrow();
        assertEquals("LoadBalancer", gw.type());
        assertEquals("Cluster", gw.externalTrafficPolicy());
    }

    @Test
    void protocolByNamePrefixOrAppProtocol() {
        assertTrue(new ServicePort("http-web", 80, "", "", "TCP").isHttp());
        assertTrue(new ServicePort("grpc", 80, "", "", "TCP").isHttp());
        assertTrue(new ServicePort("tcp", 80, "", "http", "TCP").isHttp());
        assertFalse(new ServicePort("https", 443, "", "", "TCP").isHttp());
        assertFalse(new ServicePort("", 80, "", "", "TCP").isHttp());
    }

    @Test
    void shortNamesResolveInTheReferringNamespace() {
        assertEquals("httpbin.default.svc.cluster.local", model.fqdn("httpbin", "default"));
        assertEquals("httpbin.default.svc.cluster.local", model.fqdn("httpbin.default", "other"));
        assertEquals("httpbin.default.svc.cluster.local", model.fqdn("httpbin.default.svc.cluster.local", "x"));
        assertEquals("example.com", model.fqdn("example.com", "default"));
    }

    @Test
    void tproxyAnnotation() {
        MeshModel t = MeshModel.of(Fixtures.withTproxy(Fixtures.seed()));
        assertEquals(InterceptionMode.TPROXY, ProxyIdentity.sidecar(Fixtures.pod(t, "httpbin")).interceptionMode());
    }

    @Test
    void nodeIdRoundTrip() {
        ProxyIdentity id = ProxyIdentity.sidecar(Fixtures.pod(model, "httpbin"));
        String nodeId = id.nodeId("cluster.local");
        assertEquals("sidecar~127.17.0.5~httpbin-c85bdb469-4ll2m.default~default.svc.cluster.local", nodeId);
        ProxyIdentity parsed = ProxyIdentity.fromNodeId(nodeId, model, "1.22.0");
        assertEquals(id, parsed);
        assertEquals("1.22.0", parsed.istioVersion());
        ProxyIdentity gw = ProxyIdentity.fromNodeId(
                "router~127.17.0.2~istio-ingressgateway-6b7b8c9d5f-x2x9z.istio-system~istio-system.svc.cluster.local",
                model, "1.22.0");
        assertEquals(ProxyType.ROUTER, gw.type());
        assertEquals("ingressgateway", gw.labels().get("istio"));
        assertThrows(IllegalArgumentException.class, () -> ProxyIdentity.fromNodeId("bogus", model, "1.22.0"));
    }
}
