package io.sourcemesh.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.daemon.ClusterApi;
import io.sourcemesh.cluster.exec.ExecResult;
import io.sourcemesh.cluster.testing.ClusterExtension;
import io.sourcemesh.cluster.testing.ClusterRuntime;
import io.sourcemesh.cluster.testing.ProxyLogs;
import io.sourcemesh.cluster.testing.TlsSecrets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A DestinationRule's tls SIMPLE end to end in the embedded runtime: the TLS origin is the ingress gateway's HTTPS
 * server (https-demo.yaml: credentialName myexample-credential, every host to httpbin), reached from sleep on an extra
 * plain-HTTP service port (9443, to the gateway's 8443). sleep's sidecar originates TLS on that port's cluster, as
 * Istio's constructUpstreamTLS (pilot/pkg/networking/core/cluster_tls.go): the CA from the credentialName's Secret in
 * sleep's namespace, the sni and subjectAltNames the rule names (the rule selects sleep: a sidecar takes credentialName
 * only from a rule with a workloadSelector, as Istio's buildUpstreamClusterTLSContext). With the gateway's own certificate as the CA sleep gets
 * 200 from httpbin; once the Secret holds another CA, 503 (UF: the handshake's verification failed), never an unverified
 * connection.
 */
class SidecarDestinationRuleTlsTest {
    private static final String GATEWAY = "istio-ingressgateway.istio-system.svc.cluster.local";

    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();
    Cluster cluster;
    String sleep;

    @Test
    void theSidecarVerifiesTheOriginWithTheCredentialsCa() throws Exception {
        cluster = clusters.start(ClusterRuntime.EMBEDDED, 1);
        KubeObject credential = TlsSecrets.selfSigned("istio-system", "myexample-credential", "httpbin.example.com");
        cluster.create(credential);
        cluster.create(caSecret(credential.node().path("data").path("tls.crt").asText()));
        for (String f : List.of("seed/sleep.yaml", "seed/httpbin.yaml", "seed/https-demo.yaml")) {
            cluster.apply(ManifestReader.read(Path.of("src/test/resources/" + f)));
        }
        ObjectNode gateway = cluster.get(ResourceKind.SERVICE, "istio-system", "istio-ingressgateway").orElseThrow().node()
                .deepCopy();
        ((ArrayNode) gateway.path("spec").path("ports")).addObject().put("name", "http-tls").put("port", 9443)
                .put("protocol", "TCP").put("targetPort", 8443);
        gateway.remove("status");
        cluster.apply(List.of(KubeObject.of(gateway)));
        ClusterApi.ApplyResponse applied = cluster.apply(ManifestReader.read("dr.yaml", """
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: gateway-tls, namespace: default}
                spec:
                  host: %s
                  workloadSelector: {matchLabels: {app: sleep}}
                  trafficPolicy:
                    portLevelSettings:
                    - port: {number: 9443}
                      tls: {mode: SIMPLE, credentialName: gateway-ca, sni: httpbin.example.com, subjectAltNames: [httpbin.example.com]}
                """.formatted(GATEWAY)));
        // The gateway in istio-system does not apply default's rule (Istio's destinationRule: the proxy's namespace, the
        // service's, the root's), so its cluster, without the Secret there, is not left out: nothing to warn about.
        assertEquals(List.of(), applied.warnings());
        assertTrue(cluster.awaitSettled(ClusterRuntime.EMBEDDED.settle()), "pods settle");
        sleep = cluster.list(ResourceKind.POD, "default", "app=sleep").stream()
                .filter(p -> p.status().path("phase").asText().equals("Running")).findFirst().map(KubeObject::name)
                .orElseThrow();

        assertEquals("200", awaitStatus("200"), "the gateway's certificate verified with the Secret's CA");
        JsonNode ok = ProxyLogs.await(cluster, "default", sleep, j -> j.path("upstream_cluster").asText()
                .equals("outbound|9443||" + GATEWAY), j -> j.path("response_code").asInt() == 200);
        assertEquals("-", ok.path("response_flags").asText(), ok.toString());

        // The CA Secret now holds another authority's certificate: the same request is refused at the handshake.
        cluster.apply(List.of(caSecret(TlsSecrets.selfSigned("default", "other", "other.example.com").node().path("data")
                .path("tls.crt").asText())));
        assertEquals("503", awaitStatus("503"), "another CA: the gateway's certificate is not trusted");
        JsonNode refused = ProxyLogs.await(cluster, "default", sleep, j -> j.path("upstream_cluster").asText()
                .equals("outbound|9443||" + GATEWAY), j -> j.path("response_code").asInt() == 503);
        // a connect failure (UF), retried under Istio's default retry policy until its attempts ran out (URX)
        assertEquals("UF,URX", refused.path("response_flags").asText(), refused.toString());
        assertTrue(refused.path("response_code_details").asText().contains("CERTIFICATE_VERIFY_FAILED"), refused.toString());
    }

    /** Secret gateway-ca in sleep's namespace, its ca.crt the given base64 PEM. */
    private static KubeObject caSecret(String base64Pem) {
        ObjectNode s = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
        s.put("apiVersion", "v1").put("kind", "Secret").put("type", "Opaque");
        s.putObject("metadata").put("name", "gateway-ca").put("namespace", "default");
        s.putObject("data").put("ca.crt", base64Pem);
        return KubeObject.of(s);
    }

    /** curl from sleep to the gateway's plain port until it answers {@code expected} (pushes are asynchronous). */
    private String awaitStatus(String expected) throws InterruptedException {
        String last = "";
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline && !last.equals(expected)) {
            ExecResult r = cluster.exec("default", sleep, "sleep", List.of("curl", "-sS", "--max-time", "10", "-o", "/dev/null",
                    "-w", "%{http_code}", "http://istio-ingressgateway.istio-system:9443/ip"));
            last = r.stdout().trim();
            if (!last.equals(expected)) {
                Thread.sleep(200);
            }
        }
        return last;
    }
}
