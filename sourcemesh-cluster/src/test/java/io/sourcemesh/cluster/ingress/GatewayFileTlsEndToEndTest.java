package io.sourcemesh.cluster.ingress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.daemon.ClusterApi;
import io.sourcemesh.cluster.testing.ClusterExtension;
import io.sourcemesh.cluster.testing.ClusterRuntime;
import io.sourcemesh.cluster.testing.ExternalClient;
import io.sourcemesh.proxy.testing.TestCertificates;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Istio's "secure gateways (file mount)" task in the embedded runtime: the key pair in Secret istio-ingressgateway-certs
 * and the clients' CA in istio-ingressgateway-ca-certs, which the installed gateway mounts (the istio-ingressgateway
 * chart's secretVolumes), named by the Gateway's serverCertificate, privateKey and caCertificates. A real curl from
 * outside the cluster verifies the gateway's certificate (--cacert) and gets 200, httpbin seeing the client's own address
 * as the seed's walkthrough does (externalTrafficPolicy Local); under MUTUAL no handshake without a client certificate of
 * the CA. A file the gateway pod does not have is named on the Gateway's status and at apply, and the gateway keeps
 * serving its last good listener: the MUTUAL one, never one with less TLS.
 */
class GatewayFileTlsEndToEndTest {
    private static final String NS = "istio-system";
    private static final String HOST = "httpbin.example.com";

    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();
    @TempDir
    Path dir;
    Cluster cluster;

    @Test
    void theGatewayServesTheMountedCertificatesSimpleThenMutual() throws Exception {
        cluster = clusters.start(ClusterRuntime.EMBEDDED, 1);
        ExternalClient client = ClusterRuntime.EMBEDDED.client(cluster);
        TestCertificates.Authority ca = TestCertificates.Authority.root("example.com");
        TestCertificates.Pem server = ca.issue(HOST, HOST);
        TestCertificates.Pem clientCert = ca.issue("client.example.com", "client.example.com");
        Path caFile = Files.writeString(dir.resolve("ca.crt"), ca.certificate());
        Path crtFile = Files.writeString(dir.resolve("client.crt"), clientCert.certificate());
        Path keyFile = Files.writeString(dir.resolve("client.key"), clientCert.privateKey());
        cluster.apply(List.of(secret("istio-ingressgateway-certs", "kubernetes.io/tls", "tls.crt", server.certificate(),
                "tls.key", server.privateKey()), secret("istio-ingressgateway-ca-certs", "Opaque", "ca.crt", ca.certificate())));
        cluster.apply(ManifestReader.read(Path.of("src/test/resources/seed/httpbin.yaml")));
        cluster.settle(List.of(cluster.patch(ResourceKind.SERVICE, NS, GatewayInstall.NAME, PatchType.STRATEGIC,
                "{\"spec\":{\"externalTrafficPolicy\":\"Local\"}}")));
        ClusterApi.ApplyResponse simple = cluster.apply(ManifestReader.read("gateway.yaml", gateway("SIMPLE", null)));
        assertEquals(List.of(), simple.warnings());
        String lb = loadBalancerIp();
        String url = "https://" + HOST + "/ip";
        List<String> tls = List.of("--resolve", HOST + ":443:" + lb, "--cacert", caFile.toString());
        List<String> withCert = new ArrayList<>(tls);
        withCert.addAll(List.of("--cert", crtFile.toString(), "--key", keyFile.toString()));

        // SIMPLE: the client verifies the gateway's certificate from the mounted Secret; the app sees the client.
        ExternalClient.awaitTrue(() -> curl(client, tls, url).endsWith("\n200"), "SIMPLE: 200 over verified TLS");
        assertTrue(curl(client, tls, url).contains("\"origin\": \"" + client.address() + "\""), curl(client, tls, url));
        awaitReconciled("True");

        // MUTUAL: the clients' CA from the mounted istio-ingressgateway-ca-certs.
        cluster.apply(ManifestReader.read("gateway.yaml", gateway("MUTUAL", "/etc/istio/ingressgateway-ca-certs/ca.crt")));
        ExternalClient.awaitTrue(() -> !curl(client, tls, url).startsWith("0:") && curl(client, withCert, url)
                .endsWith("\n200"), "MUTUAL: no handshake without a client certificate, 200 with one");
        String answer = curl(client, withCert, url);
        assertTrue(answer.endsWith("\n200") && answer.contains("\"origin\": \"" + client.address() + "\""), answer);
        awaitReconciled("True");

        // A CA file the pod does not have: named on the status and at apply; the last good (MUTUAL) listener serves.
        ClusterApi.ApplyResponse missing = cluster.apply(ManifestReader.read("gateway.yaml",
                gateway("MUTUAL", "/etc/istio/elsewhere/ca.crt")));
        String named = "Gateway default/httpbin-gw-files server[0] port 443: tls.caCertificates /etc/istio/elsewhere/ca.crt: "
                + "the file /etc/istio/elsewhere/ca.crt is under no mountPath of pod istio-system/";
        assertTrue(missing.warnings().stream().anyMatch(w -> w.startsWith(named)
                && w.endsWith("the gateway keeps serving its last good listener 0.0.0.0_8443 (as Envoy keeps a listener whose "
                        + "new certificate cannot be loaded): no change to the port applies until the file is there")),
                missing.warnings().toString());
        awaitReconciled("False");
        assertTrue(status().contains(named), status());
        assertTrue(curl(client, withCert, url).endsWith("\n200"), "the last good listener serves");
        ExternalClient.Curl noCert = client.curl(args(tls, url));
        assertNotEquals(0, noCert.exit(), "still MUTUAL: " + noCert.out());

        // The file back, as SIMPLE: the change applies.
        cluster.apply(ManifestReader.read("gateway.yaml", gateway("SIMPLE", null)));
        ExternalClient.awaitTrue(() -> curl(client, tls, url).endsWith("\n200"), "SIMPLE again");
        awaitReconciled("True");
    }

    private static String gateway(String mode, String ca) {
        return """
                apiVersion: networking.istio.io/v1
                kind: Gateway
                metadata: {name: httpbin-gw-files, namespace: default}
                spec:
                  selector: {istio: ingressgateway}
                  servers:
                  - port: {number: 443, name: https, protocol: HTTPS}
                    hosts: [HOST]
                    tls:
                      mode: MODE
                      serverCertificate: /etc/istio/ingressgateway-certs/tls.crt
                      privateKey: /etc/istio/ingressgateway-certs/tls.key
                """.replace("MODE", mode).replace("HOST", HOST) + (ca == null ? "" : "      caCertificates: " + ca + "\n")
                + """
                ---
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: httpbin-files, namespace: default}
                spec:
                  hosts: [HOST]
                  gateways: [httpbin-gw-files]
                  http:
                  - route:
                    - destination: {host: httpbin, port: {number: 8000}}
                """.replace("HOST", HOST);
    }

    private String loadBalancerIp() throws Exception {
        ExternalClient.awaitTrue(() -> !service().path("loadBalancer").path("ingress").path(0).path("ip").asText().isEmpty(),
                "load balancer provisioned");
        assertTrue(cluster.awaitSettled(ClusterRuntime.EMBEDDED.settle()), "pods settle");
        return service().path("loadBalancer").path("ingress").path(0).path("ip").asText();
    }

    private com.fasterxml.jackson.databind.JsonNode service() {
        return cluster.get(ResourceKind.SERVICE, NS, GatewayInstall.NAME).orElseThrow().status();
    }

    private String status() {
        return cluster.get(ResourceKind.GATEWAY, "default", "httpbin-gw-files").orElseThrow().status().toString();
    }

    private void awaitReconciled(String value) throws InterruptedException {
        ExternalClient.awaitTrue(() -> cluster.get(ResourceKind.GATEWAY, "default", "httpbin-gw-files")
                .map(g -> g.status().path("conditions").path(0).path("status").asText().equals(value)).orElse(false),
                "gateway Reconciled " + value + ": " + status());
    }

    private static String[] args(List<String> tls, String url) {
        List<String> all = new ArrayList<>(List.of("--max-time", "5", "-w", "\n%{http_code}"));
        all.addAll(tls);
        all.add(url);
        return all.toArray(String[]::new);
    }

    private static String curl(ExternalClient client, List<String> tls, String url) {
        try {
            ExternalClient.Curl c = client.curl(args(tls, url));
            return c.exit() + ":" + c.out();
        } catch (Exception e) {
            return e.toString();
        }
    }

    private static KubeObject secret(String name, String type, String... keyValues) {
        ObjectNode s = JsonNodeFactory.instance.objectNode();
        s.put("apiVersion", "v1").put("kind", "Secret").put("type", type);
        s.putObject("metadata").put("name", name).put("namespace", NS);
        ObjectNode data = s.putObject("data");
        for (int i = 0; i < keyValues.length; i += 2) {
            data.put(keyValues[i], Base64.getEncoder().encodeToString(keyValues[i + 1].getBytes(StandardCharsets.US_ASCII)));
        }
        return KubeObject.of(s);
    }
}
