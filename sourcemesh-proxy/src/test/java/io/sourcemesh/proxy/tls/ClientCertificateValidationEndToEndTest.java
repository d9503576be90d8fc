package io.sourcemesh.proxy.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.HttpBootstrap;
import io.sourcemesh.proxy.testing.Origin;
import io.sourcemesh.proxy.testing.TestCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A downstream validation context's checks of a client certificate, over real mutual TLS with curl: Envoy's
 * DefaultCertValidator — the SAN matchers (typed, and the deprecated field over every SAN type; an exact DNS matcher
 * with a wildcard SAN), the certificate and SPKI pins (computed here with openssl, not with the proxy's code), CRLs
 * (every certificate of the chain, or the leaf only), a certificate demanded by a matcher even without
 * require_client_certificate, ACCEPT_UNTRUSTED — and the listener's {@code ssl.fail_verify_*} counters Envoy bumps.
 */
class ClientCertificateValidationEndToEndTest {
    private static final String SLEEP = "spiffe://cluster.local/ns/default/sa/sleep";

    @TempDir
    Path dir;
    private Origin origin;
    private Proxy proxy;
    private TestCertificates.Authority ca;
    private Path serverCrt;
    private Path serverKey;
    private Path caCrt;

    @BeforeEach
    void start() throws Exception {
        origin = Origin.start();
        TestCertificates.Pem server = TestCertificates.selfSigned("httpbin", "localhost");
        serverCrt = Files.writeString(dir.resolve("server.crt"), server.certificate());
        serverKey = Files.writeString(dir.resolve("server.key"), server.privateKey());
        ca = TestCertificates.Authority.root("clients-ca");
        caCrt = Files.writeString(dir.resolve("ca.crt"), ca.certificate());
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        origin.close();
    }

    private void proxy(String contextFields, String validationContext) {
        String socket = """
                name: envoy.transport_sockets.tls
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
                  FIELDS
                  common_tls_context:
                    tls_certificates: [{certificate_chain: {filename: "S_CRT"}, private_key: {filename: "S_KEY"}}]
                    validation_context:
                VALIDATION""".replace("S_CRT", serverCrt.toString()).replace("S_KEY", serverKey.toString())
                .replace("FIELDS", contextFields).replace("VALIDATION", validationContext.indent(6));
        proxy = Proxy.start(BootstrapLoader.loadText(HttpBootstrap.toOrigin(origin.port()).listener("https")
                .transportSocket(socket).yaml()), 1);
    }

    private Path write(String name, String pem) throws Exception {
        return Files.writeString(dir.resolve(name), pem);
    }

    /** A client of the CA with these SANs: its certificate and key files. */
    private Path[] client(String name, String... sans) throws Exception {
        TestCertificates.Pem pem = ca.issue(name, sans);
        return new Path[] {write(name + ".crt", pem.certificate()), write(name + ".key", pem.privateKey())};
    }

    private Curl.Result get(Path[] client) {
        List<String> args = new ArrayList<>(List.of("-k", "--max-time", "10"));
        if (client != null) {
            args.addAll(List.of("--cert", client[0].toString(), "--key", client[1].toString()));
        }
        args.add("https://127.0.0.1:" + proxy.listenerAddress("https").getPort() + "/headers");
        return Curl.run(args.toArray(String[]::new));
    }

    private void assertRefused(Curl.Result r, String why) {
        assertNotEquals(0, r.exitCode(), why + ": " + r.out());
    }

    private long counter(String suffix) {
        return proxy.stats().counters().entrySet().stream().filter(e -> e.getKey().startsWith("listener.")
                && e.getKey().endsWith("." + suffix)).mapToLong(java.util.Map.Entry::getValue).sum();
    }

    private String ca() {
        return "trusted_ca: {filename: \"" + caCrt + "\"}\n";
    }

    @Test
    void aTypedUriMatcherLetsInOnlyTheNamedWorkload() throws Exception {
        proxy("", ca() + "match_typed_subject_alt_names: [{san_type: URI, matcher: {exact: \"" + SLEEP + "\"}}]");
        assertEquals(200, get(client("sleep", SLEEP)).status());
        assertRefused(get(client("other", "spiffe://cluster.local/ns/default/sa/other")), "another client of the same CA");
        // A DNS SAN spelling the same string is not a URI SAN.
        assertRefused(get(client("dns", "sleep.default.svc")), "no URI SAN at all");
        assertEquals(2, counter("ssl.fail_verify_san"));
        assertEquals(2, counter("ssl.connection_error"));
    }

    @Test
    void theDeprecatedMatcherTriesEverySanType() throws Exception {
        proxy("", ca() + "match_subject_alt_names: [{prefix: \"sleep.\"}, {exact: \"ops@example.com\"}, {exact: \"127.0.0.9\"}]");
        assertEquals(200, get(client("dns", "sleep.default.svc")).status(), "a DNS SAN");
        assertEquals(200, get(client("mail", "ops@example.com")).status(), "an email SAN");
        assertEquals(200, get(client("ip", "127.0.0.9")).status(), "an IP SAN");
        assertRefused(get(client("other", "other.default.svc")), "no SAN matches");
        assertEquals(1, counter("ssl.fail_verify_san"));
    }

    @Test
    void anExactDnsMatcherFollowsDnsWildcardsInTheCertificate() throws Exception {
        proxy("", ca() + "match_typed_subject_alt_names: [{san_type: DNS, matcher: {exact: \"api.example.com\"}}]");
        assertEquals(200, get(client("wild", "*.example.com")).status(), "a wildcard SAN covers one label");
        assertEquals(200, get(client("upper", "API.Example.COM")).status(), "DNS names compare without case");
        assertRefused(get(client("deeper", "*.b.example.com")), "a wildcard of another domain");
        assertEquals(200, get(client("partial", "a*.example.com")).status(), "a partial wildcard the label fits");
        assertRefused(get(client("misfit", "b*.example.com")), "a partial wildcard the label does not fit");
    }

    @Test
    void aCertificatePinAcceptsThatCertificateOnly() throws Exception {
        Path[] pinned = client("pinned", SLEEP);
        Path[] other = client("other", SLEEP);
        // openssl's colon-separated fingerprint: Envoy takes the 95-character form as well as plain hex.
        String fingerprint = openssl("openssl x509 -noout -fingerprint -sha256 -in " + pinned[0]);
        fingerprint = fingerprint.substring(fingerprint.indexOf('=') + 1);
        assertEquals(95, fingerprint.length(), fingerprint);
        proxy("", ca() + "verify_certificate_hash: [\"" + fingerprint + "\"]");
        assertEquals(200, get(pinned).status());
        assertRefused(get(other), "the same CA and SAN, another certificate");
        assertEquals(1, counter("ssl.fail_verify_cert_hash"));
    }

    @Test
    void anSpkiPinAcceptsAnyCertificateOfThatKeyEvenWithoutATrustedCa() throws Exception {
        Path[] pinned = client("pinned", SLEEP);
        String spki = openssl("openssl x509 -noout -pubkey -in " + pinned[0]
                + " | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64");
        // No trusted_ca: the pin alone decides (Envoy: success only when a configured check passed).
        TestCertificates.Pem stranger = TestCertificates.selfSigned("stranger", SLEEP);
        proxy("", "verify_certificate_spki: [\"" + spki + "\"]");
        assertEquals(200, get(pinned).status());
        assertRefused(get(new Path[] {write("s.crt", stranger.certificate()), write("s.key", stranger.privateKey())}),
                "a self-signed certificate of another key");
    }

    @Test
    void aMatcherDemandsACertificateEvenWhenNoneIsRequired() throws Exception {
        proxy("", ca() + "match_typed_subject_alt_names: [{san_type: URI, matcher: {prefix: \"spiffe://\"}}]");
        assertRefused(get(null), "no certificate, but a SAN must match");
        assertEquals(1, counter("ssl.fail_verify_no_cert"));
        assertEquals(200, get(client("sleep", SLEEP)).status());
    }

    @Test
    void aTrustedCaAloneAsksButDoesNotDemand() throws Exception {
        proxy("", ca());
        assertEquals(200, get(null).status(), "no certificate is fine without require_client_certificate");
        TestCertificates.Pem stranger = TestCertificates.selfSigned("stranger", SLEEP);
        assertRefused(get(new Path[] {write("s.crt", stranger.certificate()), write("s.key", stranger.privateKey())}),
                "but a certificate sent is verified");
        assertEquals(1, counter("ssl.fail_verify_error"));
    }

    @Test
    void requireClientCertificateCountsTheMissingOne() throws Exception {
        proxy("require_client_certificate: true", ca());
        assertRefused(get(null), "required");
        assertEquals(1, counter("ssl.fail_verify_no_cert"));
        TestCertificates.Pem stranger = TestCertificates.selfSigned("stranger", SLEEP);
        assertRefused(get(new Path[] {write("s.crt", stranger.certificate()), write("s.key", stranger.privateKey())}),
                "not issued by the trusted CA");
        assertEquals(1, counter("ssl.fail_verify_error"));
    }

    @Test
    void aRevokedCertificateIsRefused() throws Exception {
        Path[] good = client("good", SLEEP);
        TestCertificates.Pem revoked = ca.issue("revoked", SLEEP);
        Path[] bad = {write("revoked.crt", revoked.certificate()), write("revoked.key", revoked.privateKey())};
        Path crl = write("ca.crl", ca.crl(revoked.certificate()));
        proxy("require_client_certificate: true", ca() + "crl: {filename: \"" + crl + "\"}");
        assertEquals(200, get(good).status());
        assertRefused(get(bad), "revoked by the CA's CRL");
        assertEquals(1, counter("ssl.fail_verify_error"));
    }

    @Test
    void onlyVerifyLeafCertCrlNeedsNoCrlForTheIntermediate() throws Exception {
        TestCertificates.Authority intermediate = ca.intermediate("issuing-ca");
        TestCertificates.Pem leaf = intermediate.issue("leaf", SLEEP);
        // curl sends the leaf with its intermediate; the root is the trusted CA.
        Path[] client = {write("chain.crt", leaf.certificate() + intermediate.certificate()), write("leaf.key", leaf.privateKey())};
        Path crl = write("issuing.crl", intermediate.crl());
        proxy("require_client_certificate: true", ca() + "crl: {filename: \"" + crl + "\"}");
        assertRefused(get(client), "the root published no CRL for the intermediate: every certificate is checked");
        proxy.close();
        proxy("require_client_certificate: true", ca() + "crl: {filename: \"" + crl + "\"}\nonly_verify_leaf_cert_crl: true");
        assertEquals(200, get(client).status(), "only the leaf is checked, against its issuer's CRL");
        TestCertificates.Pem revoked = intermediate.issue("revoked", SLEEP);
        Path revokedCrl = write("issuing2.crl", intermediate.crl(revoked.certificate()));
        proxy.close();
        proxy("require_client_certificate: true", ca() + "crl: {filename: \"" + revokedCrl + "\"}\nonly_verify_leaf_cert_crl: true");
        assertRefused(get(new Path[] {write("revoked-chain.crt", revoked.certificate() + intermediate.certificate()),
                write("revoked.key", revoked.privateKey())}), "the leaf is revoked");
    }

    @Test
    void acceptUntrustedLetsAnyCertificateThrough() throws Exception {
        TestCertificates.Pem stranger = TestCertificates.selfSigned("stranger", "spiffe://elsewhere");
        proxy("", ca() + "match_typed_subject_alt_names: [{san_type: URI, matcher: {exact: \"" + SLEEP + "\"}}]\n"
                + "trust_chain_verification: ACCEPT_UNTRUSTED");
        assertEquals(200, get(new Path[] {write("s.crt", stranger.certificate()), write("s.key", stranger.privateKey())}).status());
        assertEquals(200, get(null).status(), "nor is a certificate demanded");
    }

    private static String openssl(String pipeline) throws Exception {
        Process p = new ProcessBuilder("sh", "-c", pipeline).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).strip();
        assertEquals(0, p.waitFor(), out);
        return out;
    }
}
