package io.sourcemesh.cluster.ingress;

import static org.junit.jupiter.api.Assertions.*;

import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.store.ObjectStore;
import io.sourcemesh.control.translate.TranslationWarning;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class GatewayInstallTest {
    final ObjectStore store = ObjectStore.inMemory();

    @AfterEach
    void close() {
        store.close();
    }

    @Test
    void installsTheChartShapeOnceAndKeepsUserPatches() {
        GatewayInstall.ensure(store);
        KubeObject svc = store.get(ResourceKind.SERVICE, "istio-system", "istio-ingressgateway").orElseThrow();
        assertEquals("LoadBalancer", svc.spec().path("type").asText());
        assertEquals("Cluster", svc.spec().path("externalTrafficPolicy").asText());
        assertEquals("http2", svc.spec().path("ports").path(0).path("name").asText());
        assertEquals(80, svc.spec().path("ports").path(0).path("port").asInt());
        assertEquals(8080, svc.spec().path("ports").path(0).path("targetPort").asInt());
        assertEquals(8443, svc.spec().path("ports").path(1).path("targetPort").asInt());
        KubeObject d = store.get(ResourceKind.DEPLOYMENT, "istio-system", "istio-ingressgateway").orElseThrow();
        assertEquals("docker.io/istio/proxyv2:1.22.0", d.spec().path("template").path("spec").path("containers").path(0).path("image").asText());
        assertEquals(1, d.spec().path("replicas").asInt());

        store.patch(ResourceKind.SERVICE, "istio-system", "istio-ingressgateway", PatchType.STRATEGIC,
                "{\"spec\":{\"externalTrafficPolicy\":\"Local\"}}");
        GatewayInstall.ensure(store);
        assertEquals("Local", store.get(ResourceKind.SERVICE, "istio-system", "istio-ingressgateway").orElseThrow()
                .spec().path("externalTrafficPolicy").asText());
    }

    @Test
    void warningsLandOnTheGatewayTheyNameAsValidationMessages() {
        TranslationWarning w = new TranslationWarning("Gateway default/httpbin-gw-https server[0] port 443",
                "secret istio-system/myexample-credential not found; server left out");
        assertEquals("default/httpbin-gw-https", GatewayStatus.gatewayOf(w));
        assertEquals("", GatewayStatus.gatewayOf(new TranslationWarning("VirtualService default/x", "m")));
        var status = GatewayStatus.status(List.of(w));
        assertEquals("False", status.path("conditions").path(0).path("status").asText());
        assertEquals("ServerLeftOut", status.path("conditions").path(0).path("reason").asText());
        assertEquals(w.toString(), status.path("validationMessages").path(0).path("description").asText());
        assertEquals("True", GatewayStatus.status(List.of()).path("conditions").path(0).path("status").asText());
    }
}
