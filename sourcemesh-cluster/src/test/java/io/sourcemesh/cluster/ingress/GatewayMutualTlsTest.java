package io.sourcemesh.cluster.ingress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.testing.ClusterExtension;
import io.sourcemesh.cluster.testing.ClusterRuntime;
import io.sourcemesh.cluster.testing.ExternalClient;
import io.sourcemesh.cluster.testing.TlsSecrets;
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
 * The seed's HTTPS gateway with {@code tls.mode: MUTUAL} (and OPTIONAL_MUTUAL), as Istio's "secure gateways"
 * task configures it: the clients' CA in Secret {@code myexample-credential-cacert}, a real curl from the
 * internet client with and without a client certificate, and what httpbin receives — the gateway's
 * x-forwarded-client-cert with the certificate's hash, subject and URI SAN (Istio's SANITIZE_SET with subject,
 * cert, DNS and URI). httpbin runs without a sidecar here: the mesh speaks plaintext between proxies, and a
 * sidecar's connection manager removes x-forwarded-client-cert from a connection without a client certificate, as
 * Envoy's does under every mode but ALWAYS_FORWARD_ONLY. The data path is the same proxy in both runtimes; the
 * embedded one is run.
 */
class GatewayMutualTlsTest {
    private static final String NS = "istio-system";
    private static final String SLEEP = "spiffe://cluster.local/ns/default/sa/sleep";

    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();
    @TempDir
    Path dir;

    @Test
    void mutualAsksEveryClientForACertificateOfTheCaAndTellsTheAppWhoItIs() throws Exception {
        Cluster cluster = clusters.start(ClusterRuntime.EMBEDDED, 1);
        ExternalClient client = ClusterRuntime.EMBEDDED.client(cluster);
        TestCertificates.Authority ca = TestCertificates.Authority.root("clients-ca");
        TestCertificates.Pem good = ca.issue("sleep-client", SLEEP);
        TestCertificates.Pem stranger = TestCertificates.selfSigned("stranger", SLEEP);
        Path goodCrt = Files.writeString(dir.resolve("good.crt"), good.certificate());
        Path goodKey = Files.writeString(dir.resolve("good.key"), good.privateKey());
        Path strangerCrt = Files.writeString(dir.resolve("stranger.crt"), stranger.certificate());
        Path strangerKey = Files.writeString(dir.resolve("stranger.key"), stranger.privateKey());

        cluster.create(TlsSecrets.selfSigned(NS, "myexample-credential", "myexample.com"));
        cluster.create(caSecret(NS, "myexample-credential-cacert", ca.certificate()));
        apply(cluster, httpbinWithoutSidecar());
        apply(cluster, gateway("MUTUAL"));
        String lb = loadBalancerIp(cluster);
        String url = "https://" + lb + ":443/headers";
        awaitStatus(cluster, "True");

        JsonNode headers = awaitHeaders(client, "-k", "--cert", goodCrt.toString(), "--key", goodKey.toString(), url);
        String xfcc = headers.path("X-Forwarded-Client-Cert").asText();
        assertTrue(!xfcc.isEmpty(), headers.toString());
        String fingerprint = sha256Hex(good.certificate());
        assertTrue(xfcc.contains("Hash=" + fingerprint), xfcc);
        assertTrue(xfcc.contains("Subject=\"CN=sleep-client\""), xfcc);
        assertTrue(xfcc.contains("URI=" + SLEEP), xfcc);
        assertTrue(xfcc.contains("Cert=\""), "Istio's gateway sets the certificate too: " + xfcc);

        ExternalClient.Curl none = client.curl("-k", "--max-time", "5", url);
        assertNotEquals(0, none.exit(), "MUTUAL: no certificate, no handshake: " + none.out());
        ExternalClient.Curl other = client.curl("-k", "--max-time", "5", "--cert", strangerCrt.toString(), "--key",
                strangerKey.toString(), url);
        assertNotEquals(0, other.exit(), "a certificate the CA did not issue: " + other.out());
        // A client's own x-forwarded-client-cert never reaches the app (SANITIZE_SET).
        JsonNode forged = awaitHeaders(client, "-k", "--cert", goodCrt.toString(), "--key", goodKey.toString(),
                "-H", "X-Forwarded-Client-Cert: URI=spiffe://forged", url);
        assertTrue(!forged.path("X-Forwarded-Client-Cert").asText().contains("forged"), forged.toString());

        // OPTIONAL_MUTUAL, a push and no restart: a client without a certificate is served, without the header.
        apply(cluster, gateway("OPTIONAL_MUTUAL"));
        ExternalClient.awaitTrue(() -> {
            try {
                return client.curl("-k", "--max-time", "5", url).exit() == 0;
            } catch (Exception e) {
                return false;
            }
        }, "OPTIONAL_MUTUAL serves a client without a certificate");
        JsonNode anonymous = awaitHeaders(client, "-k", url);
        assertTrue(anonymous.path("X-Forwarded-Client-Cert").isMissingNode(), anonymous.toString());
        assertNotEquals(0, client.curl("-k", "--max-time", "5", "--cert", strangerCrt.toString(), "--key",
                strangerKey.toString(), url).exit(), "a certificate that is sent is still verified");
    }

    @Test
    void mutualWithoutTheCaSecretIsLeftOutAndSaysWhy() throws Exception {
        Cluster cluster = clusters.start(ClusterRuntime.EMBEDDED, 1);
        cluster.create(TlsSecrets.selfSigned(NS, "myexample-credential", "myexample.com"));
        apply(cluster, "httpbin.yaml");
        apply(cluster, gateway("MUTUAL"));
        awaitStatus(cluster, "False");
        JsonNode status = cluster.get(ResourceKind.GATEWAY, "default", "httpbin-gw-https").orElseThrow().status();
        assertTrue(status.toString().contains("tls mode MUTUAL needs the clients' CA: secret istio-system/myexample-credential "
                + "has no cacert or ca.crt; server left out"), status.toString());
    }

    /** The seed's httpbin with sidecar.istio.io/inject "false". */
    static String httpbinWithoutSidecar() throws Exception {
        String yaml = Files.readString(Path.of("src/test/resources/seed/httpbin.yaml"));
        String withOptOut = yaml.replace("  template:\n    metadata:\n", "  template:\n    metadata:\n      annotations:\n"
                + "        sidecar.istio.io/inject: \"false\"\n");
        assertNotEquals(yaml, withOptOut);
        return withOptOut;
    }

    /** The README's sample (the seed's HTTPS Gateway in MUTUAL mode), in {@code mode}. */
    private static String gateway(String mode) throws Exception {
        String sample = Files.readString(Path.of("../samples/gateway/https-mutual.yaml"));
        assertTrue(sample.contains("mode: MUTUAL\n"), sample);
        return sample.replace("mode: MUTUAL\n", "mode: " + mode + "\n");
    }

    private static KubeObject caSecret(String namespace, String name, String caPem) {
        ObjectNode s = JsonNodeFactory.instance.objectNode();
        s.put("apiVersion", "v1").put("kind", "Secret").put("type", "Opaque");
        s.putObject("metadata").put("name", name).put("namespace", namespace);
        s.putObject("data").put("ca.crt", Base64.getEncoder().encodeToString(caPem.getBytes(StandardCharsets.US_ASCII)));
        return KubeObject.of(s);
    }

    private static void apply(Cluster cluster, String fileOrYaml) {
        List<KubeObject> objects = fileOrYaml.endsWith(".yaml") && !fileOrYaml.contains("\n")
                ? ManifestReader.read(Path.of("src/test/resources/seed/" + fileOrYaml))
                : ManifestReader.read("gateway.yaml", fileOrYaml);
        cluster.apply(objects);
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

    private static void awaitStatus(Cluster cluster, String status) throws InterruptedException {
        ExternalClient.awaitTrue(() -> cluster.get(ResourceKind.GATEWAY, "default", "httpbin-gw-https")
                .map(g -> g.status().path("conditions").path(0).path("status").asText().equals(status)).orElse(false),
                "gateway status " + status);
    }

    /** httpbin's /headers as the app received them, once the gateway serves the request. */
    private static JsonNode awaitHeaders(ExternalClient client, String... args) throws Exception {
        List<String> a = new ArrayList<>(List.of("--max-time", "5"));
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
        return out[0];
    }

    private static String sha256Hex(String pem) throws Exception {
        var cert = java.security.cert.CertificateFactory.getInstance("X.509")
                .generateCertificate(new java.io.ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(cert.getEncoded()));
    }
}
