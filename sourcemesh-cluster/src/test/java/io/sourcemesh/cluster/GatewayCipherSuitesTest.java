package io.sourcemesh.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.testing.ClusterExtension;
import io.sourcemesh.cluster.testing.ClusterRuntime;
import io.sourcemesh.cluster.testing.ExternalClient;
import io.sourcemesh.cluster.testing.TlsSecrets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A Gateway's tls.cipherSuites through the running ingress gateway (the seed's HTTPS server, its credential an EC key):
 * with [ECDHE-ECDSA-AES256-GCM-SHA384] a TLS 1.2 client offering only ECDHE-ECDSA-AES128-GCM-SHA256 fails the
 * handshake and one offering the listed suite is served; a suite the proxy cannot offer (AES128-SHA: RSA key exchange)
 * leaves the server out, named on the Gateway's status; without cipherSuites the JDK's defaults serve both.
 */
class GatewayCipherSuitesTest {
    static final String NS = "istio-system";
    static final String LISTED = "ECDHE-ECDSA-AES256-GCM-SHA384";
    static final String OTHER = "ECDHE-ECDSA-AES128-GCM-SHA256";

    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();
    Cluster cluster;
    ExternalClient client;
    String url;

    @Test
    void cipherSuitesNarrowWhatTheGatewayOffers() throws Exception {
        cluster = clusters.start(ClusterRuntime.EMBEDDED, 1);
        client = ClusterRuntime.EMBEDDED.client(cluster);
        cluster.create(TlsSecrets.selfSigned(NS, "myexample-credential", "myexample.com"));
        for (String file : List.of("httpbin.yaml", "http-demo.yaml", "https-demo.yaml")) {
            cluster.apply(ManifestReader.read(Path.of("src/test/resources/seed/" + file)));
        }
        assertTrue(cluster.awaitSettled(ClusterRuntime.EMBEDDED.settle()), "pods settle");
        ExternalClient.awaitTrue(() -> !ingressIp().isEmpty(), "load balancer provisioned");
        url = "https://" + ingressIp() + ":443/ip";
        ExternalClient.awaitTrue(() -> code(OTHER) == 200 && code(LISTED) == 200, "the JDK's defaults serve both suites");

        patchTls("{\"cipherSuites\": [\"" + LISTED + "\"]}");
        ExternalClient.awaitTrue(() -> code(OTHER) == -1, "a suite outside cipherSuites is no longer offered");
        assertEquals(200, code(LISTED), "the listed suite is");
        ExternalClient.Curl tls13 = client.curl("-k", "-o", "/dev/null", "-w", "%{http_code}", "--tlsv1.3", url);
        assertEquals("200", tls13.out(), "TLS 1.3 keeps its suites: " + tls13);

        patchTls("{\"cipherSuites\": [\"" + LISTED + "\", \"AES128-SHA\"]}");
        ExternalClient.awaitTrue(() -> condition().path("status").asText().equals("False"), "the server is named as left out");
        JsonNode status = cluster.get(ResourceKind.GATEWAY, "default", "httpbin-gw-https").orElseThrow().status();
        assertTrue(status.toString().contains("tls.cipherSuites AES128-SHA cannot be offered by the proxy"), status.toString());
        ExternalClient.awaitTrue(() -> code(LISTED) == -1, "the server is left out, not served with other suites");

        patchTls("{\"cipherSuites\": null}");
        ExternalClient.awaitTrue(() -> code(OTHER) == 200 && code(LISTED) == 200, "the defaults again");
        assertNotEquals("False", condition().path("status").asText(), condition().toString());
    }

    /** The status of a TLS 1.2 request offering only {@code suite}, or -1 when the handshake fails. */
    private int code(String suite) {
        try {
            ExternalClient.Curl c = client.curl("-k", "-o", "/dev/null", "-w", "%{http_code}", "--tls-max", "1.2", "--ciphers",
                    suite, url);
            return c.exit() == 0 ? Integer.parseInt(c.out().trim()) : -1;
        } catch (Exception e) {
            return -1;
        }
    }

    private void patchTls(String tls) {
        cluster.patch(ResourceKind.GATEWAY, "default", "httpbin-gw-https", PatchType.JSON,
                "[{\"op\": \"replace\", \"path\": \"/spec/servers/0/tls\", \"value\": " + withBase(tls) + "}]");
    }

    /** The seed's SIMPLE credential with {@code extra}'s fields (a null drops one). */
    private static String withBase(String extra) {
        String fields = extra.substring(1, extra.length() - 1).replace("\"cipherSuites\": null", "").strip();
        return "{\"mode\": \"SIMPLE\", \"credentialName\": \"myexample-credential\"" + (fields.isEmpty() ? "" : ", " + fields) + "}";
    }

    private JsonNode condition() {
        return cluster.get(ResourceKind.GATEWAY, "default", "httpbin-gw-https").orElseThrow().status().path("conditions").path(0);
    }

    private String ingressIp() {
        return cluster.get(ResourceKind.SERVICE, NS, "istio-ingressgateway").orElseThrow().status().path("loadBalancer")
                .path("ingress").path(0).path("ip").asText();
    }
}
