package io.sourcemesh.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.core.Cluster;
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
 * Istio's "Ingress Sidecar TLS Termination" task, its manifests' shape, in the embedded runtime: the Secrets the test
 * makes (a kubernetes.io/tls pair and a ca.crt) mounted into httpbin's sidecar by the pod's sidecar.istio.io/userVolume
 * annotations, port 9080 mTLS-DISABLEd by the task's PeerAuthentication, and the Sidecar's ingress tls (MUTUAL, then
 * SIMPLE) naming the files; a client outside the mesh (this machine's curl, through the Service's node port) gets 200
 * with its certificate, no handshake without one, and httpbin sees the client's own address: the pod is TPROXY, the
 * sidecar's upstream connection leaves from the client's address (original_src).
 */
class SidecarIngressTlsEndToEndTest {
    private static final String HOST = "httpbin.test.svc.cluster.local";

    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();
    @TempDir
    Path dir;
    Cluster cluster;

    @Test
    void theSidecarTerminatesTheOutsideClientsTlsAndTheAppSeesItsAddress() throws Exception {
        cluster = clusters.start(ClusterRuntime.EMBEDDED, 1);
        ExternalClient client = ClusterRuntime.EMBEDDED.client(cluster);
        TestCertificates.Authority ca = TestCertificates.Authority.root("example.com");
        TestCertificates.Pem server = ca.issue(HOST, HOST);
        TestCertificates.Pem clientCert = ca.issue("client.test.svc.cluster.local", "client.test.svc.cluster.local");
        Path caFile = Files.writeString(dir.resolve("ca.crt"), ca.certificate());
        Path crtFile = Files.writeString(dir.resolve("client.crt"), clientCert.certificate());
        Path keyFile = Files.writeString(dir.resolve("client.key"), clientCert.privateKey());
        cluster.apply(List.of(secret("httpbin-mtls-termination", "kubernetes.io/tls", "tls.crt", server.certificate(),
                "tls.key", server.privateKey()), secret("httpbin-mtls-termination-cacert", "Opaque", "ca.crt", ca.certificate())));
        cluster.apply(ManifestReader.read("task.yaml", """
                apiVersion: security.istio.io/v1
                kind: PeerAuthentication
                metadata: {name: disable-peer-auth-for-external-mtls-port, namespace: default}
                spec:
                  selector: {matchLabels: {app: httpbin}}
                  mtls: {mode: STRICT}
                  portLevelMtls: {9080: {mode: DISABLE}}
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: httpbin, namespace: default}
                spec:
                  type: NodePort
                  externalTrafficPolicy: Local
                  ports: [{name: https, port: 8443, targetPort: 9080}]
                  selector: {app: httpbin}
                ---
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: httpbin, namespace: default}
                spec:
                  replicas: 1
                  selector: {matchLabels: {app: httpbin, version: v1}}
                  template:
                    metadata:
                      labels: {app: httpbin, version: v1}
                      annotations:
                        sidecar.istio.io/interceptionMode: TPROXY
                        sidecar.istio.io/userVolume: '{"tls-secret":{"secret":{"secretName":"httpbin-mtls-termination","optional":true}},"tls-ca-secret":{"secret":{"secretName":"httpbin-mtls-termination-cacert"}}}'
                        sidecar.istio.io/userVolumeMount: '{"tls-secret":{"mountPath":"/etc/istio/tls-certs/","readOnly":true},"tls-ca-secret":{"mountPath":"/etc/istio/tls-ca-certs/","readOnly":true}}'
                    spec:
                      containers:
                      - {name: httpbin, image: docker.io/citizenstig/httpbin, ports: [{containerPort: 8000}]}
                """));
        cluster.apply(ManifestReader.read("sidecar.yaml", sidecar("MUTUAL", "/etc/istio/tls-ca-certs/ca.crt")));
        assertTrue(cluster.awaitSettled(ClusterRuntime.EMBEDDED.settle()), "pods settle");
        String node = cluster.runtime().nodes().get(0).internalIp();
        int nodePort = cluster.get(ResourceKind.SERVICE, "default", "httpbin").orElseThrow().spec().path("ports").path(0)
                .path("nodePort").asInt();
        String url = "https://" + HOST + ":" + nodePort + "/ip";
        List<String> tls = List.of("--resolve", HOST + ":" + nodePort + ":" + node, "--cacert", caFile.toString());
        List<String> withCert = new ArrayList<>(tls);
        withCert.addAll(List.of("--cert", crtFile.toString(), "--key", keyFile.toString()));

        ExternalClient.awaitTrue(() -> curl(client, withCert, url).endsWith("\n200"), "the client certificate gets 200");
        String answer = curl(client, withCert, url);
        assertTrue(answer.contains("\"origin\": \"" + client.address() + "\""), "the app sees the outside client: " + answer);
        ExternalClient.Curl noCert = client.curl(args(tls, url));
        assertNotEquals(0, noCert.exit(), "MUTUAL: no handshake without a client certificate: " + noCert.out());
        ExternalClient.Curl plain = client.curl("-w", "\n%{http_code}", "http://" + node + ":" + nodePort + "/ip");
        assertNotEquals(0, plain.exit(), "plaintext matches no chain of the port: " + plain.out());

        cluster.apply(ManifestReader.read("sidecar.yaml", sidecar("SIMPLE", null)));
        ExternalClient.awaitTrue(() -> curl(client, tls, url).endsWith("\n200"), "SIMPLE: no client certificate needed");
        assertTrue(curl(client, tls, url).contains("\"origin\": \"" + client.address() + "\""));

        // A path no mount covers: the listener is left out (no TLS with less, no plaintext), named on the Sidecar.
        cluster.apply(ManifestReader.read("sidecar.yaml", sidecar("MUTUAL", "/etc/elsewhere/ca.crt")));
        ExternalClient.awaitTrue(() -> sidecarStatus().contains("/etc/elsewhere/ca.crt is under no mountPath"),
                "the Sidecar's status names the file: " + sidecarStatus());
        ExternalClient.awaitTrue(() -> !curl(client, withCert, url).endsWith("\n200"), "the listener is left out");
        assertTrue(sidecarStatus().contains("PushLeftOut"), sidecarStatus());
    }

    private static String sidecar(String mode, String ca) {
        return """
                apiVersion: networking.istio.io/v1
                kind: Sidecar
                metadata: {name: ingress-sidecar, namespace: default}
                spec:
                  workloadSelector: {labels: {app: httpbin, version: v1}}
                  ingress:
                  - port: {number: 9080, protocol: HTTPS, name: external}
                    defaultEndpoint: 0.0.0.0:8000
                    tls:
                      mode: MODE
                      privateKey: /etc/istio/tls-certs/tls.key
                      serverCertificate: /etc/istio/tls-certs/tls.crt
                """.replace("MODE", mode) + (ca == null ? "" : "      caCertificates: " + ca + "\n");
    }

    private String sidecarStatus() {
        return cluster.get(ResourceKind.SIDECAR, "default", "ingress-sidecar").orElseThrow().status().toString();
    }

    private static String[] args(List<String> tls, String url) {
        List<String> all = new ArrayList<>(List.of("-w", "\n%{http_code}"));
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
        s.putObject("metadata").put("name", name).put("namespace", "default");
        ObjectNode data = s.putObject("data");
        for (int i = 0; i < keyValues.length; i += 2) {
            data.put(keyValues[i], Base64.getEncoder().encodeToString(keyValues[i + 1].getBytes(StandardCharsets.US_ASCII)));
        }
        return KubeObject.of(s);
    }
}
