package io.sourcemesh.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.HttpBootstrap;
import io.sourcemesh.proxy.testing.Origin;
import io.sourcemesh.proxy.testing.TestCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A mutual-TLS client's certificate where Envoy uses it: what the proxy writes in x-forwarded-client-cert (Envoy's
 * mutateXfccRequestHeader under APPEND_FORWARD and SANITIZE_SET with set_current_client_cert_details — Istio's sidecar
 * inbound uses APPEND_FORWARD with subject, dns and uri), checked against openssl's reading of the same certificate;
 * what an RBAC rule on XFCC sees; and RBAC's {@code authenticated} principal.
 */
class ClientCertificateEndToEndTest {
    private static final String SLEEP = "spiffe://cluster.local/ns/default/sa/sleep";
    private static final String HTTPBIN = "spiffe://cluster.local/ns/default/sa/httpbin";

    @TempDir
    Path dir;
    private Origin origin;
    private Proxy proxy;
    private Path clientCrt;
    private Path clientKey;
    private Path otherCrt;
    private Path otherKey;
    private String tls;

    @BeforeEach
    void start() throws Exception {
        origin = Origin.start();
        TestCertificates.Pem server = TestCertificates.selfSigned("httpbin", "localhost", HTTPBIN);
        TestCertificates.Pem client = TestCertificates.selfSigned("sleep", SLEEP, "sleep.default.svc");
        Path serverCrt = Files.writeString(dir.resolve("server.crt"), server.certificate());
        Path serverKey = Files.writeString(dir.resolve("server.key"), server.privateKey());
        clientCrt = Files.writeString(dir.resolve("client.crt"), client.certificate());
        clientKey = Files.writeString(dir.resolve("client.key"), client.privateKey());
        TestCertificates.Pem other = TestCertificates.selfSigned("other", "spiffe://cluster.local/ns/default/sa/other");
        otherCrt = Files.writeString(dir.resolve("other.crt"), other.certificate());
        otherKey = Files.writeString(dir.resolve("other.key"), other.privateKey());
        Path trusted = Files.writeString(dir.resolve("trusted.crt"), client.certificate() + other.certificate());
        tls = """
                name: envoy.transport_sockets.tls
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
                  REQUIRE
                  common_tls_context:
                    tls_certificates: [{certificate_chain: {filename: "S_CRT"}, private_key: {filename: "S_KEY"}}]
                    validation_context: {trusted_ca: {filename: "C_CRT"}}
                """.replace("S_CRT", serverCrt.toString()).replace("S_KEY", serverKey.toString())
                .replace("C_CRT", trusted.toString());
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        origin.close();
    }

    private void proxy(String hcmFields, String rbacRules, boolean requireClientCertificate) {
        HttpBootstrap b = HttpBootstrap.toOrigin(origin.port()).listener("https").statPrefix("inbound").hcmFields(hcmFields)
                .transportSocket(tls.replace("REQUIRE", requireClientCertificate ? "require_client_certificate: true" : ""));
        if (!rbacRules.isEmpty()) {
            b.httpFilter("""
                    name: envoy.filters.http.rbac
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC
                    """ + rbacRules.indent(2));
        }
        proxy = Proxy.start(BootstrapLoader.loadText(b.yaml()), 1);
    }

    private Curl.Result get(boolean withCertificate, String... headers) {
        return get(withCertificate ? clientCrt : null, withCertificate ? clientKey : null, headers);
    }

    private Curl.Result get(Path crt, Path key, String... headers) {
        List<String> args = new java.util.ArrayList<>(List.of("-k"));
        if (crt != null) {
            args.addAll(List.of("--cert", crt.toString(), "--key", key.toString()));
        }
        for (String h : headers) {
            args.addAll(List.of("-H", h));
        }
        args.add("https://127.0.0.1:" + proxy.listenerAddress("https").getPort() + "/headers");
        return Curl.run(args.toArray(String[]::new));
    }

    /** openssl's reading of the client certificate: its SHA-256 fingerprint as Envoy writes it, and its RFC 2253 subject. */
    private String openssl(String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("openssl", "x509", "-noout", "-in", clientCrt.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).strip();
        assertEquals(0, p.waitFor(), out);
        return out.substring(out.indexOf('=') + 1).strip();
    }

    @Test
    void appendForwardAddsTheProxysElementAfterTheClientsAsIstiosSidecarInbound() throws Exception {
        proxy("""
                forward_client_cert_details: APPEND_FORWARD
                set_current_client_cert_details: {subject: true, dns: true, uri: true}
                """, "", true);
        assertEquals(200, get(true, "x-forwarded-client-cert: By=spiffe://upstream;Hash=0").status());
        String hash = openssl("-fingerprint", "-sha256").replace(":", "").toLowerCase(Locale.ROOT);
        String subject = openssl("-subject", "-nameopt", "RFC2253");
        assertEquals("By=spiffe://upstream;Hash=0,By=" + HTTPBIN + ";Hash=" + hash + ";Subject=\"" + subject + "\";URI=" + SLEEP
                + ";DNS=sleep.default.svc", origin.last().header("x-forwarded-client-cert"));
    }

    @Test
    void sanitizeSetReplacesTheClientsWithTheProxysOwnWithTheCertificate() throws Exception {
        proxy("""
                forward_client_cert_details: SANITIZE_SET
                set_current_client_cert_details: {cert: true, uri: true}
                """, "", true);
        assertEquals(200, get(true, "x-forwarded-client-cert: URI=spiffe://forged").status());
        String pem = Files.readString(clientCrt).replace("\n", "%0A").replace(" ", "%20").replace("+", "%2B")
                .replace("/", "%2F").replace("=", "%3D");
        String hash = openssl("-fingerprint", "-sha256").replace(":", "").toLowerCase(Locale.ROOT);
        assertEquals("By=" + HTTPBIN + ";Hash=" + hash + ";Cert=\"" + pem + "\";URI=" + SLEEP,
                origin.last().header("x-forwarded-client-cert"));
    }

    @Test
    void theChainDetailIsEveryCertificateTheClientSent() throws Exception {
        proxy("""
                forward_client_cert_details: SANITIZE_SET
                set_current_client_cert_details: {chain: true}
                """, "", true);
        assertEquals(200, get(true).status());
        String pem = Files.readString(clientCrt).replace("\n", "%0A").replace(" ", "%20").replace("+", "%2B")
                .replace("/", "%2F").replace("=", "%3D");
        String hash = openssl("-fingerprint", "-sha256").replace(":", "").toLowerCase(Locale.ROOT);
        assertEquals("By=" + HTTPBIN + ";Hash=" + hash + ";Chain=\"" + pem + "\"", origin.last().header("x-forwarded-client-cert"),
                "the client sent its one certificate: the chain is that certificate");
    }

    @Test
    void anRbacRuleOnTheClientsIdentitySeesWhatTheProxyVouchesFor() {
        proxy("""
                forward_client_cert_details: APPEND_FORWARD
                set_current_client_cert_details: {uri: true}
                """, """
                rules:
                  action: ALLOW
                  policies:
                    sleep-only:
                      permissions: [{any: true}]
                      principals: [{header: {name: x-forwarded-client-cert, string_match: {suffix: ";URI=%s"}}}]
                """.formatted(SLEEP), false);
        assertEquals(200, get(true).status(), "the client certificate's URI SAN");
        // trusted_ca without require_client_certificate: the certificate is asked for, not required (Envoy's rule)
        Curl.Result anonymous = get(false, "x-forwarded-client-cert: By=x;URI=" + SLEEP);
        assertEquals(403, anonymous.status(), "no certificate, so the client's own header is dropped: " + anonymous.err());
        assertEquals(1, origin.seen().size());
    }

    @Test
    void sanitizeAddsNothingEvenForAClientWithACertificate() {
        proxy("set_current_client_cert_details: {uri: true}\n", "", true);
        assertEquals(200, get(true, "x-forwarded-client-cert: URI=spiffe://forged").status());
        assertNull(origin.last().header("x-forwarded-client-cert"), origin.last().headers().toString());
    }

    @Test
    void rbacsAuthenticatedPrincipalIsTheClientCertificatesUriSan() {
        proxy("", """
                rules:
                  action: ALLOW
                  policies:
                    sleep:
                      permissions: [{any: true}]
                      principals: [{authenticated: {principal_name: {exact: "%s"}}}]
                """.formatted(SLEEP), false);
        assertEquals(200, get(clientCrt, clientKey).status());
        Curl.Result other = get(otherCrt, otherKey);
        assertEquals(403, other.status(), "another trusted client: " + other.err());
        assertEquals(403, get(null, null).status(), "no certificate: its names are no one's");
        assertEquals(1, origin.seen().size());
    }

    @Test
    void anyAuthenticatedClientIsOneThatCameOverTls() {
        proxy("", """
                rules:
                  action: DENY
                  policies:
                    tls-only:
                      permissions: [{any: true}]
                      principals: [{not_id: {authenticated: {}}}]
                """, false);
        assertEquals(200, get(null, null).status(), "TLS without a certificate is authenticated to Envoy");
        assertEquals(200, get(otherCrt, otherKey).status());
    }
}
