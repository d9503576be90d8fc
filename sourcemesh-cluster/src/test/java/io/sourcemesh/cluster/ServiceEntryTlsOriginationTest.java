package io.sourcemesh.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.exec.ExecResult;
import io.sourcemesh.cluster.testing.ClusterExtension;
import io.sourcemesh.cluster.testing.ClusterRuntime;
import io.sourcemesh.cluster.testing.ProxyLogs;
import io.sourcemesh.proxy.testing.TestCertificates;
import io.sourcemesh.proxy.testing.TlsOrigin;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * TLS origination to a ServiceEntry host, Istio's common setup: the app speaks plain HTTP to {@code api.external.test:8000},
 * a DestinationRule (selecting sleep, so its sidecar takes the credentialName) says SIMPLE with the CA of a Secret and no
 * sni, and sleep's sidecar originates TLS to the entry's endpoint — a JDK TLS origin on 127.0.0.1 — with the request's
 * host as the SNI and the certificate required to name it (Istio's setAutoSniAndAutoSanValidation, Envoy's auto_sni and
 * auto_san_validation). The entry's second host reaches the same origin, whose certificate does not name it: 503.
 * As ServiceEntryEndToEndTest, curl connects to httpbin's VIP on the entry's port and the sidecar routes by Host; under
 * REGISTRY_ONLY, so until the entry reaches the sidecar the answer is block_all's 502, never httpbin's 200.
 */
class ServiceEntryTlsOriginationTest {
    private static final String HOST = "api.external.test";
    private static final String ALIAS = "alias.external.test";

    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();
    Cluster cluster;
    TlsOrigin origin;
    String sleep;
    String vip;

    @AfterEach
    void stopOrigin() {
        if (origin != null) {
            origin.close();
        }
    }

    @Test
    void theSidecarSendsTheHostAsSniAndVerifiesIt() throws Exception {
        TestCertificates.Authority ca = TestCertificates.Authority.root("external-ca");
        origin = TlsOrigin.start(ca.issue("api", HOST), null, false);
        cluster = clusters.start(ClusterRuntime.EMBEDDED, 1);
        cluster.apply(ManifestReader.read(Path.of("src/test/resources/seed/sleep.yaml")));
        cluster.apply(ManifestReader.read(Path.of("src/test/resources/seed/httpbin.yaml")));
        String caData = Base64.getEncoder().encodeToString(ca.certificate().getBytes(StandardCharsets.US_ASCII));
        List<String> warnings = cluster.apply(ManifestReader.read("tls-origination.yaml", """
                apiVersion: networking.istio.io/v1
                kind: Sidecar
                metadata: {name: default, namespace: default}
                spec:
                  outboundTrafficPolicy: {mode: REGISTRY_ONLY}
                ---
                apiVersion: v1
                kind: Secret
                metadata: {name: external-ca, namespace: default}
                type: Opaque
                data: {ca.crt: %s}
                ---
                apiVersion: networking.istio.io/v1
                kind: ServiceEntry
                metadata: {name: external-api, namespace: default}
                spec:
                  hosts: [%s, %s]
                  location: MESH_EXTERNAL
                  resolution: STATIC
                  ports:
                  - {number: 8000, name: http, protocol: HTTP}
                  endpoints:
                  - {address: 127.0.0.1, ports: {http: %d}}
                ---
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: external-api, namespace: default}
                spec:
                  host: %s
                  workloadSelector: {matchLabels: {app: sleep}}
                  trafficPolicy: {tls: {mode: SIMPLE, credentialName: external-ca}}
                ---
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: external-alias, namespace: default}
                spec:
                  host: %s
                  workloadSelector: {matchLabels: {app: sleep}}
                  trafficPolicy: {tls: {mode: SIMPLE, credentialName: external-ca}}
                """.formatted(caData, HOST, ALIAS, origin.port(), HOST, ALIAS))).warnings();
        assertEquals(List.of(), warnings, "SIMPLE without sni is taken whole");
        assertTrue(cluster.awaitSettled(ClusterRuntime.EMBEDDED.settle()), "pods settle");
        sleep = cluster.list(ResourceKind.POD, "default", "app=sleep").stream()
                .filter(p -> p.status().path("phase").asText().equals("Running")).findFirst().map(KubeObject::name)
                .orElseThrow();
        vip = cluster.get(ResourceKind.SERVICE, "default", "httpbin").orElseThrow().node().path("spec").path("clusterIP").asText();

        assertEquals("200", awaitStatus(HOST, "200"), "the origin's certificate names the host");
        assertTrue(origin.serverNames.contains(HOST), "the request's host is the SNI: " + origin.serverNames);
        JsonNode ok = ProxyLogs.await(cluster, "default", sleep,
                j -> j.path("upstream_cluster").asText().equals("outbound|8000||" + HOST), j -> j.path("response_code").asInt() == 200);
        assertEquals("127.0.0.1:" + origin.port(), ok.path("upstream_host").asText(), ok.toString());

        assertEquals("503", awaitStatus(ALIAS, "503"), "the certificate does not name the alias");
        JsonNode refused = ProxyLogs.await(cluster, "default", sleep,
                j -> j.path("upstream_cluster").asText().equals("outbound|8000||" + ALIAS), j -> j.path("response_code").asInt() == 503);
        assertTrue(refused.path("response_flags").asText().startsWith("UF"), refused.toString());
        assertTrue(refused.path("response_code_details").asText().contains("SAN_matcher"), refused.toString());
        assertTrue(!origin.serverNames.contains(ALIAS), "no handshake completed for the alias: " + origin.serverNames);
    }

    /** curl in the sleep pod to {@code host}:8000 by way of httpbin's VIP until it answers {@code expected}. */
    private String awaitStatus(String host, String expected) throws InterruptedException {
        String last = "";
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline && !last.equals(expected)) {
            ExecResult r = cluster.exec("default", sleep, "sleep", List.of("curl", "-sS", "--max-time", "10", "-o", "/dev/null",
                    "-w", "%{http_code}", "--connect-to", host + ":8000:" + vip + ":8000", "http://" + host + ":8000/"));
            last = r.stdout().trim();
            if (!last.equals(expected)) {
                Thread.sleep(200);
            }
        }
        return last;
    }
}
