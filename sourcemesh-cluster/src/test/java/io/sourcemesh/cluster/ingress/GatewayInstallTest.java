package io.sourcemesh.cluster.ingress;

import static org.junit.jupiter.api.Assertions.*;

import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.mesh.ProxyAnswer;
import io.sourcemesh.cluster.mesh.ProxyVerdicts;
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
        var status = GatewayStatus.status(List.of(w), new ProxyVerdicts(List.of()));
        assertEquals("False", status.path("conditions").path(0).path("status").asText());
        assertEquals("ServerLeftOut", status.path("conditions").path(0).path("reason").asText());
        assertEquals(w.toString(), status.path("validationMessages").path(0).path("description").asText());
        assertEquals("True", GatewayStatus.status(List.of(), new ProxyVerdicts(List.of())).path("conditions").path(0).path("status").asText());
    }

    /** A setting not applied to a server that serves is listed, but the Gateway is reconciled as its proxies answered. */
    @Test
    void aNoteDoesNotMakeTheGatewayUnreconciled() {
        TranslationWarning note = TranslationWarning.note("Gateway default/gw server[0] port 443",
                "tls.verifyCertificateSpki/verifyCertificateHash are not used with tls.mode SIMPLE");
        ProxyAnswer acked = new ProxyAnswer("gw-a.istio-system", ProxyAnswer.State.ACKED, "");
        var status = GatewayStatus.status(List.of(note), new ProxyVerdicts(List.of(acked)));
        assertEquals("True", status.path("conditions").path(0).path("status").asText());
        assertEquals("GatewaySettingNotApplied", status.path("validationMessages").path(0).path("type").asText());
        assertEquals(note.toString(), status.path("validationMessages").path(0).path("description").asText());
        TranslationWarning leftOut = new TranslationWarning("Gateway default/gw server[1] port 443", "server left out");
        var both = GatewayStatus.status(List.of(note, leftOut), new ProxyVerdicts(List.of(acked)));
        assertEquals("ServerLeftOut", both.path("conditions").path(0).path("reason").asText());
        assertEquals("GatewayServerLeftOut", both.path("validationMessages").path(1).path("type").asText());
    }

    @Test
    void reconciledIsTrueOnlyWhenEveryGatewayProxyAcked() {
        ProxyAnswer acked = new ProxyAnswer("gw-a.istio-system", ProxyAnswer.State.ACKED, "");
        ProxyAnswer nacked = new ProxyAnswer("gw-b.istio-system", ProxyAnswer.State.NACKED, "LDS 7: bad listener");
        ProxyAnswer pending = new ProxyAnswer("gw-c.istio-system", ProxyAnswer.State.PENDING, "");
        var all = GatewayStatus.status(List.of(), new ProxyVerdicts(List.of(acked)));
        assertEquals("True", all.path("conditions").path(0).path("status").asText());
        assertEquals("1/1 proxies up to date", all.path("conditions").path(0).path("message").asText());
        var refused = GatewayStatus.status(List.of(), new ProxyVerdicts(List.of(acked, nacked, pending)));
        assertEquals("False", refused.path("conditions").path(0).path("status").asText());
        assertEquals("Rejected", refused.path("conditions").path(0).path("reason").asText());
        assertEquals("gw-b.istio-system rejected the push carrying it (LDS 7: bad listener)",
                refused.path("validationMessages").path(0).path("description").asText());
        assertEquals("NACKED", refused.path("proxies").path(1).path("state").asText());
        assertEquals("1/3 ACKED, 1 NACKED, 1 PENDING", ProxyVerdicts.summary(refused.path("proxies")));
        var waiting = GatewayStatus.status(List.of(), new ProxyVerdicts(List.of(acked, pending)));
        assertEquals("Unknown", waiting.path("conditions").path(0).path("status").asText());
    }
}
