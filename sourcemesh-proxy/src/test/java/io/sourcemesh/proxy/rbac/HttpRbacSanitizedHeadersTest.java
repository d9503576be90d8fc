package io.sourcemesh.proxy.rbac;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.Origin;
import io.sourcemesh.proxy.testing.TestCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The request headers an RBAC rule reads are those Envoy's connection manager leaves before any HTTP
 * filter runs (ConnectionManagerUtility::mutateRequestHeaders): no hop-by-hop header of the client's,
 * and no x-forwarded-client-cert the proxy does not vouch for (mutateXfccRequestHeader: removed under
 * SANITIZE, and in every mode but ALWAYS_FORWARD_ONLY when the client presented no certificate). A
 * forged identity header must never satisfy a policy.
 */
class HttpRbacSanitizedHeadersTest {
    private static final String FORGED = "x-forwarded-client-cert: By=spiffe://cluster.local/ns/app/sa/web;"
            + "URI=spiffe://cluster.local/ns/trusted/sa/admin";
    private static final String TRUSTED_XFCC = """
            rules:
              action: ALLOW
              policies:
                trusted-caller:
                  permissions: [{any: true}]
                  principals: [{header: {name: x-forwarded-client-cert, string_match: {contains: "URI=spiffe://cluster.local/ns/trusted/"}}}]
            """;

    private Origin origin;
    private Proxy proxy;

    @TempDir
    Path dir;

    @BeforeEach
    void startOrigin() throws Exception {
        origin = Origin.start();
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        origin.close();
    }

    private String url() {
        return "http://127.0.0.1:" + proxy.listenerAddress("http").getPort() + "/get";
    }

    private void start(String rules, String hcmFields) {
        proxy = Proxy.start(BootstrapLoader.loadText(HttpRbacEndToEndTest.bootstrap(origin.port(), dir.resolve("a.log"), rules,
                "use_remote_address: true\n" + hcmFields)), 1);
    }

    @Test
    void aForgedClientCertHeaderIsGoneBeforeRbacUnderSanitize() {
        start(TRUSTED_XFCC, "");
        assertEquals(403, Curl.run("-H", FORGED, url()).status());
        assertEquals(0, origin.seen().size());
    }

    @Test
    void withoutAClientCertificateForwardOnlyAndAppendForwardDropItToo() {
        for (String mode : new String[] {"FORWARD_ONLY", "APPEND_FORWARD", "SANITIZE_SET"}) {
            start(TRUSTED_XFCC, "forward_client_cert_details: " + mode + "\n");
            assertEquals(403, Curl.run("-H", FORGED, url()).status(), mode);
            proxy.close();
            proxy = null;
        }
        assertEquals(0, origin.seen().size());
    }

    /** Over mutual TLS, FORWARD_ONLY keeps the client's header (Envoy's rule for a presented certificate); SANITIZE still drops it. */
    @Test
    void aClientWithACertificateKeepsItUnderForwardOnlyOnly() throws Exception {
        TestCertificates.Pem server = TestCertificates.selfSigned("proxy", "localhost");
        TestCertificates.Pem client = TestCertificates.selfSigned("client", "client.example");
        Path serverCrt = Files.writeString(dir.resolve("server.crt"), server.certificate());
        Path serverKey = Files.writeString(dir.resolve("server.key"), server.privateKey());
        Path clientCrt = Files.writeString(dir.resolve("client.crt"), client.certificate());
        Path clientKey = Files.writeString(dir.resolve("client.key"), client.privateKey());
        String tls = """
                    - transport_socket:
                        name: envoy.transport_sockets.tls
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
                          require_client_certificate: true
                          common_tls_context:
                            tls_certificates: [{certificate_chain: {filename: "S_CRT"}, private_key: {filename: "S_KEY"}}]
                            validation_context: {trusted_ca: {filename: "C_CRT"}}
                      filters:
                """.replace("S_CRT", serverCrt.toString()).replace("S_KEY", serverKey.toString())
                .replace("C_CRT", clientCrt.toString());
        for (String mode : new String[] {"FORWARD_ONLY", "SANITIZE"}) {
            proxy = Proxy.start(BootstrapLoader.loadText(HttpRbacEndToEndTest.bootstrap(origin.port(), dir.resolve("a.log"),
                    TRUSTED_XFCC, "use_remote_address: true\nforward_client_cert_details: " + mode + "\n")
                    .replace("    - filters:\n", tls)), 1);
            Curl.Result r = Curl.run("-k", "--cert", clientCrt.toString(), "--key", clientKey.toString(), "-H", FORGED,
                    "https://127.0.0.1:" + proxy.listenerAddress("http").getPort() + "/get");
            assertEquals(mode.equals("FORWARD_ONLY") ? 200 : 403, r.status(), mode + ": " + r.err());
            proxy.close();
            proxy = null;
        }
        assertEquals(1, origin.seen().size());
        assertEquals(FORGED.substring(FORGED.indexOf(": ") + 2), origin.last().header("x-forwarded-client-cert"));
    }

    @Test
    void alwaysForwardOnlyKeepsItForRbacAndTheApp() {
        start(TRUSTED_XFCC, "forward_client_cert_details: ALWAYS_FORWARD_ONLY\n");
        assertEquals(200, Curl.run("-H", FORGED, url()).status());
        assertEquals(FORGED.substring(FORGED.indexOf(": ") + 2), origin.last().header("x-forwarded-client-cert"));
    }

    /** Envoy's sanitizeTEHeader: TE is "trailers" when that token is among its values, else gone, before the filters. */
    @Test
    void teIsTrailersOrNothingBeforeRbac() {
        start("""
                rules:
                  action: DENY
                  policies:
                    te-trailers:
                      permissions: [{header: {name: te, string_match: {exact: trailers}}}]
                      principals: [{any: true}]
                    te-present:
                      permissions:
                      - and_rules:
                          rules:
                          - header: {name: te, present_match: true}
                          - header: {name: x-case, string_match: {exact: gone}}
                      principals: [{any: true}]
                """, "");
        assertEquals(403, Curl.run("-H", "TE: gzip, trailers", url()).status(), "seen as \"trailers\"");
        assertEquals(200, Curl.run("-H", "TE: gzip", "-H", "X-Case: gone", url()).status(), "gone");
        assertEquals(403, Curl.run("-H", "TE: gzip", "-H", "TE: trailers", url()).status(), "a second TE line counts too");
        assertEquals(1, origin.seen().size());
    }

    /** Keep-Alive, Proxy-Connection, and Connection and Upgrade of a request that is no upgrade: gone before the filters. */
    @Test
    void hopByHopHeadersAreGoneBeforeRbac() {
        start("""
                rules:
                  action: DENY
                  policies:
                    hop-by-hop:
                      permissions:
                      - or_rules:
                          rules:
                          - header: {name: keep-alive, present_match: true}
                          - header: {name: proxy-connection, present_match: true}
                          - header: {name: upgrade, present_match: true}
                          - header: {name: connection, string_match: {contains: x-hop}}
                      principals: [{any: true}]
                """, "");
        assertEquals(200, Curl.run("-H", "Keep-Alive: timeout=5", url()).status());
        assertEquals(200, Curl.run("-H", "Proxy-Connection: keep-alive", url()).status());
        assertEquals(200, Curl.run("-H", "Upgrade: websocket", url()).status(), "no Connection: upgrade, so no upgrade");
        assertEquals(200, Curl.run("-H", "Connection: x-hop", url()).status());
        assertEquals(4, origin.seen().size());
    }
}
