package io.sourcemesh.cluster.ingress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.testing.ClusterExtension;
import io.sourcemesh.cluster.testing.ClusterRuntime;
import io.sourcemesh.cluster.testing.ExternalClient;
import io.sourcemesh.control.ca.MeshCa;
import io.sourcemesh.control.ca.WorkloadCertificate;
import io.sourcemesh.proxy.testing.TestCertificates;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Gateway server in {@code tls.mode: ISTIO_MUTUAL}, end to end with real TLS: the gateway serves its own
 * workload certificate (the mesh CA's, with its SPIFFE identity) and asks each client for one of the mesh CA. A
 * curl presenting a certificate the mesh CA issued is served; one without a certificate, or with one of a foreign
 * CA, fails the handshake. A subjectAltNames list narrows who may come in.
 */
class GatewayIstioMutualTest {
    private static final String NS = "istio-system";
    private static final String SLEEP = "spiffe://cluster.local/ns/default/sa/sleep";

    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();
    @TempDir
    Path dir;

    @Test
    void theGatewayServesItsMeshCertificateAndLetsInOnlyClientsOfTheMeshCa() throws Exception {
        Cluster cluster = clusters.start(ClusterRuntime.EMBEDDED, 1);
        ExternalClient client = ClusterRuntime.EMBEDDED.client(cluster);
        cluster.apply(ManifestReader.read("httpbin.yaml", GatewayMutualTlsTest.httpbinWithoutSidecar()));
        cluster.apply(ManifestReader.read("gateway.yaml", gateway("")));
        String url = "https://" + loadBalancerIp(cluster) + ":443/headers";

        MeshCa ca = meshCa(cluster);
        WorkloadCertificate sleep = ca.issue(SLEEP);
        Path meshCrt = Files.writeString(dir.resolve("mesh.crt"), sleep.chainPem());
        Path meshKey = Files.writeString(dir.resolve("mesh.key"), sleep.keyPem());
        TestCertificates.Pem foreign = TestCertificates.Authority.root("foreign-ca").issue("sleep-client", SLEEP);
        Path foreignCrt = Files.writeString(dir.resolve("foreign.crt"), foreign.certificate());
        Path foreignKey = Files.writeString(dir.resolve("foreign.key"), foreign.privateKey());

        JsonNode headers = awaitHeaders(client, "-k", "--cert", meshCrt.toString(), "--key", meshKey.toString(), url);
        assertTrue(headers.path("X-Forwarded-Client-Cert").asText().contains("URI=" + SLEEP), headers.toString());
        ExternalClient.Curl none = client.curl("-k", "--max-time", "5", url);
        assertNotEquals(0, none.exit(), "ISTIO_MUTUAL: no certificate, no handshake: " + none.out());
        ExternalClient.Curl stranger = client.curl("-k", "--max-time", "5", "--cert", foreignCrt.toString(), "--key",
                foreignKey.toString(), url);
        assertNotEquals(0, stranger.exit(), "the same identity from a foreign CA: " + stranger.out());

        // What the gateway served: its own workload certificate, signed by the mesh root.
        X509Certificate served = servedCertificate(url);
        X509Certificate root = certificate(ca.rootPem());
        served.verify(root.getPublicKey());
        String san = String.valueOf(served.getSubjectAlternativeNames());
        assertTrue(san.contains("spiffe://cluster.local/ns/" + NS + "/sa/"), san);

        // subjectAltNames: only the named identity passes, a push to the running gateway.
        cluster.apply(ManifestReader.read("gateway.yaml", gateway("      subjectAltNames: [spiffe://cluster.local/ns/default/sa/other]\n")));
        ExternalClient.awaitTrue(() -> {
            try {
                return client.curl("-k", "--max-time", "5", "--cert", meshCrt.toString(), "--key", meshKey.toString(), url).exit() != 0;
            } catch (Exception e) {
                return false;
            }
        }, "a mesh certificate of another identity is refused");
        WorkloadCertificate other = ca.issue("spiffe://cluster.local/ns/default/sa/other");
        Path otherCrt = Files.writeString(dir.resolve("other.crt"), other.chainPem());
        Path otherKey = Files.writeString(dir.resolve("other.key"), other.keyPem());
        JsonNode named = awaitHeaders(client, "-k", "--cert", otherCrt.toString(), "--key", otherKey.toString(), url);
        assertTrue(named.path("X-Forwarded-Client-Cert").asText().contains("URI=spiffe://cluster.local/ns/default/sa/other"), named.toString());
    }

    /** The README's MUTUAL sample turned ISTIO_MUTUAL: no credentialName (Istio refuses one), {@code more} tls lines. */
    private static String gateway(String more) throws Exception {
        String sample = Files.readString(Path.of("../samples/gateway/https-mutual.yaml"));
        String istio = sample.replace("      credentialName: myexample-credential\n      mode: MUTUAL\n", "      mode: ISTIO_MUTUAL\n" + more);
        assertNotEquals(sample, istio);
        return istio;
    }

    /** The cluster's mesh CA (istio-ca-secret, which the cluster makes at its start), to issue client certificates. */
    private static MeshCa meshCa(Cluster cluster) {
        KubeObject secret = cluster.get(ResourceKind.SECRET, NS, MeshCa.SELF_SIGNED_SECRET).orElseThrow();
        Map<String, byte[]> data = new LinkedHashMap<>();
        secret.node().path("data").properties().forEach(e -> data.put(e.getKey(), Base64.getDecoder().decode(e.getValue().asText())));
        return MeshCa.of(data, false).ca().orElseThrow();
    }

    /** The certificate the gateway serves, read by a JDK TLS client that presents none (the handshake fails after it). */
    private static X509Certificate servedCertificate(String url) throws Exception {
        java.net.URI u = java.net.URI.create(url);
        X509Certificate[] seen = new X509Certificate[1];
        TrustManager keep = new X509TrustManager() {
            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) {
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) {
                seen[0] = chain[0];
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return new X509Certificate[0];
            }
        };
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(null, new TrustManager[] {keep}, null);
        try (SSLSocket s = (SSLSocket) tls.getSocketFactory().createSocket(u.getHost(), u.getPort())) {
            s.setSoTimeout(5000);
            s.startHandshake();
            s.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            s.getInputStream().read();
        } catch (java.io.IOException expected) {
            // no client certificate: the gateway ends the handshake, after it sent its own
        }
        assertTrue(seen[0] != null, "the gateway sent its certificate");
        return seen[0];
    }

    private static X509Certificate certificate(String pem) throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
    }

    private static String loadBalancerIp(Cluster cluster) throws Exception {
        ExternalClient.awaitTrue(() -> !service(cluster).path("loadBalancer").path("ingress").path(0).path("ip").asText().isEmpty(),
                "load balancer provisioned");
        assertTrue(cluster.awaitSettled(java.time.Duration.ofSeconds(60)), "pods settle");
        return service(cluster).path("loadBalancer").path("ingress").path(0).path("ip").asText();
    }

    private static JsonNode service(Cluster cluster) {
        return cluster.get(ResourceKind.SERVICE, NS, "istio-ingressgateway").orElseThrow().status();
    }

    private static JsonNode awaitHeaders(ExternalClient client, String... args) throws Exception {
        List<String> a = new java.util.ArrayList<>(List.of("--max-time", "5"));
        a.addAll(List.of(args));
        JsonNode[] out = new JsonNode[1];
        ExternalClient.awaitTrue(() -> {
            try {
                ExternalClient.Curl c = client.curl(a.toArray(String[]::new));
                if (c.exit() != 0) {
                    return false;
                }
                out[0] = new ObjectMapper().readTree(c.out()).path("headers");
                return !out[0].isMissingNode();
            } catch (Exception e) {
                return false;
            }
        }, "httpbin answers through the gateway");
        assertEquals(false, out[0].isMissingNode());
        return out[0];
    }
}
