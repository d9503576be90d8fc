package io.sourcemesh.proxy.accesslog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The TLS commands over a stream whose connection's TLS is given here (the real one, read from a handshake, is
 * {@code tls.DownstreamTlsInfo}; the end-to-end tests run it under curl): Envoy's StreamInfoSslConnectionInfoFormatterProvider
 * — unset on a plaintext connection and for an empty value, SANs joined by ',' — and SystemTimeFormatter for the
 * certificate's validity; the UPSTREAM_ ones over the stream's upstream connection's TLS
 * (StreamInfoUpstreamSslConnectionInfoFormatterProvider).
 */
class TlsCommandsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    record Cert(List<String> uriSans, List<String> dnsSans, List<String> ipSans, List<String> emailSans, String subject,
            String issuer, String serialNumber, String sha256Digest, String sha1Digest, String urlEncodedPem,
            long notBeforeMillis, long notAfterMillis) implements TlsCertificate {}

    record Tls(String tlsVersion, String cipherSuite, String sessionId, TlsCertificate peerCertificate,
            List<? extends TlsCertificate> peerChain, TlsCertificate localCertificate) implements TlsConnectionInfo {}

    static final Cert CLIENT = new Cert(List.of("spiffe://cluster.local/ns/default/sa/sleep"),
            List.of("sleep.default.svc", "sleep"), List.of("10.0.0.1", "::1"), List.of("ops@example.com"),
            "CN=sleep,O=Acme\\, Inc.", "CN=root-ca,O=Acme\\, Inc.", "0abc",
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3",
            "-----BEGIN%20CERTIFICATE-----%0AMIIB%2Fz%3D%3D%0A-----END%20CERTIFICATE-----%0A",
            Instant.parse("2024-01-01T00:00:00Z").toEpochMilli(), Instant.parse("2025-01-01T12:30:00Z").toEpochMilli());
    static final Cert CA = new Cert(List.of(), List.of(), List.of(), List.of(), "CN=root-ca,O=Acme\\, Inc.",
            "CN=root-ca,O=Acme\\, Inc.", "1", "ca256", "ca1", "pem", 0, 0);
    static final Cert SERVER = new Cert(List.of("spiffe://cluster.local/ns/default/sa/httpbin"), List.of("httpbin"), List.of(),
            List.of(), "CN=httpbin", "CN=httpbin", "2a", "s256", "s1", "spem", 0, 0);

    static final Tls MUTUAL = new Tls("TLSv1.3", "TLS_AES_128_GCM_SHA256", "00ff10", CLIENT, List.of(CLIENT, CA), SERVER);
    static final Tls SERVER_ONLY = new Tls("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", "", null, List.of(),
            new Cert(List.of(), List.of(), List.of(), List.of(), "CN=httpbin", "CN=httpbin", "2a", "", "", "", 0, 0));
    /** A TLS connection whose handshake never completed. */
    static final Tls UNFINISHED = new Tls(null, null, null, null, List.of(), null);

    private static String text(String format, TlsConnectionInfo tls) {
        return SubstitutionFormat.parse(format).format(Streams.httpbinInbound().downstreamTls(tls));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '#', textBlock = """
            %DOWNSTREAM_TLS_VERSION%                 # TLSv1.3                                        # TLSv1.2
            %DOWNSTREAM_TLS_CIPHER%                  # TLS_AES_128_GCM_SHA256                         # ECDHE-RSA-AES128-GCM-SHA256
            %DOWNSTREAM_TLS_SESSION_ID%              # 00ff10                                         # -
            %DOWNSTREAM_PEER_URI_SAN%                # spiffe://cluster.local/ns/default/sa/sleep     # -
            %DOWNSTREAM_PEER_DNS_SAN%                # sleep.default.svc,sleep                        # -
            %DOWNSTREAM_PEER_IP_SAN%                 # 10.0.0.1,::1                                   # -
            %DOWNSTREAM_PEER_EMAIL_SAN%              # ops@example.com                                # -
            %DOWNSTREAM_PEER_SUBJECT%                # CN=sleep,O=Acme\\, Inc.                        # -
            %DOWNSTREAM_PEER_ISSUER%                 # CN=root-ca,O=Acme\\, Inc.                      # -
            %DOWNSTREAM_PEER_SERIAL%                 # 0abc                                           # -
            %DOWNSTREAM_PEER_FINGERPRINT_256%        # 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 # -
            %DOWNSTREAM_PEER_FINGERPRINT_1%          # a94a8fe5ccb19ba61c4c0873d391e987982fbbd3       # -
            %DOWNSTREAM_PEER_CERT%                   # -----BEGIN%20CERTIFICATE-----%0AMIIB%2Fz%3D%3D%0A-----END%20CERTIFICATE-----%0A # -
            %DOWNSTREAM_PEER_CHAIN_FINGERPRINTS_256% # 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08,ca256 # -
            %DOWNSTREAM_PEER_CHAIN_FINGERPRINTS_1%   # a94a8fe5ccb19ba61c4c0873d391e987982fbbd3,ca1   # -
            %DOWNSTREAM_PEER_CHAIN_SERIALS%          # 0abc,1                                         # -
            %DOWNSTREAM_PEER_CERT_V_START%           # 2024-01-01T00:00:00.000Z                       # -
            %DOWNSTREAM_PEER_CERT_V_END%             # 2025-01-01T12:30:00.000Z                       # -
            %DOWNSTREAM_PEER_CERT_V_START(%s)%       # 1704067200                                     # -
            %DOWNSTREAM_PEER_CERT_V_END(%Y/%m/%d)%   # 2025/01/01                                     # -
            %DOWNSTREAM_LOCAL_URI_SAN%               # spiffe://cluster.local/ns/default/sa/httpbin   # -
            %DOWNSTREAM_LOCAL_DNS_SAN%               # httpbin                                        # -
            %DOWNSTREAM_LOCAL_IP_SAN%                # -                                              # -
            %DOWNSTREAM_LOCAL_EMAIL_SAN%             # -                                              # -
            %DOWNSTREAM_LOCAL_SUBJECT%               # CN=httpbin                                     # CN=httpbin
            """)
    void mutualTlsThenServerOnlyTls(String format, String mutual, String serverOnly) {
        assertEquals(mutual, text(format, MUTUAL), "mutual TLS");
        assertEquals(serverOnly, text(format, SERVER_ONLY), "TLS without a client certificate");
        assertEquals("-", text(format, null), "plaintext");
        assertEquals("-", text(format, UNFINISHED), "a handshake that did not complete");
    }

    @Test
    void jsonGivesStringsAndNullForUnset() throws Exception {
        Map<String, Object> format = new LinkedHashMap<>();
        format.put("version", "%DOWNSTREAM_TLS_VERSION%");
        format.put("cipher", "%DOWNSTREAM_TLS_CIPHER%");
        format.put("uri", "%DOWNSTREAM_PEER_URI_SAN%");
        format.put("dns", "%DOWNSTREAM_PEER_DNS_SAN%");
        format.put("subject", "%DOWNSTREAM_PEER_SUBJECT%");
        format.put("serial", "%DOWNSTREAM_PEER_SERIAL%");
        format.put("start", "%DOWNSTREAM_PEER_CERT_V_START(%s)%");
        format.put("mixed", "peer=%DOWNSTREAM_PEER_URI_SAN% via %DOWNSTREAM_TLS_VERSION%");
        format.put("upstream", "%UPSTREAM_TLS_VERSION%");
        JsonFormatter f = JsonFormatter.of(format);

        JsonNode n = JSON.readTree(f.format(Streams.httpbinInbound().downstreamTls(MUTUAL)));
        assertEquals("TLSv1.3", n.get("version").textValue());
        assertEquals("TLS_AES_128_GCM_SHA256", n.get("cipher").textValue());
        assertEquals("spiffe://cluster.local/ns/default/sa/sleep", n.get("uri").textValue());
        assertEquals("sleep.default.svc,sleep", n.get("dns").textValue());
        assertEquals("CN=sleep,O=Acme\\, Inc.", n.get("subject").textValue());
        assertEquals("0abc", n.get("serial").textValue());
        assertTrue(n.get("start").isTextual(), "a time is a string, as Envoy's SystemTimeFormatter's value: " + n);
        assertEquals("1704067200", n.get("start").textValue());
        assertEquals("peer=spiffe://cluster.local/ns/default/sa/sleep via TLSv1.3", n.get("mixed").textValue());
        assertTrue(n.get("upstream").isNull());

        for (TlsConnectionInfo none : new TlsConnectionInfo[] {null, UNFINISHED}) {
            n = JSON.readTree(f.format(Streams.httpbinInbound().downstreamTls(none)));
            for (String key : List.of("version", "cipher", "uri", "dns", "subject", "serial", "start", "upstream")) {
                assertTrue(n.get(key).isNull(), key + " " + n);
            }
            assertEquals("peer=- via -", n.get("mixed").textValue());
        }
        n = JSON.readTree(f.format(Streams.httpbinInbound().downstreamTls(SERVER_ONLY)));
        assertEquals("TLSv1.2", n.get("version").textValue());
        assertTrue(n.get("uri").isNull() && n.get("subject").isNull() && n.get("start").isNull(), n.toString());
    }

    /** A plaintext upstream (a cluster without an UpstreamTlsContext), whatever the downstream: Envoy's output is unset. */
    @ParameterizedTest
    @ValueSource(strings = {"UPSTREAM_TLS_VERSION", "UPSTREAM_TLS_CIPHER", "UPSTREAM_TLS_SESSION_ID", "UPSTREAM_PEER_SUBJECT",
            "UPSTREAM_PEER_ISSUER", "UPSTREAM_PEER_CERT", "UPSTREAM_PEER_URI_SAN", "UPSTREAM_PEER_DNS_SAN",
            "UPSTREAM_PEER_IP_SAN", "UPSTREAM_LOCAL_URI_SAN", "UPSTREAM_LOCAL_DNS_SAN", "UPSTREAM_LOCAL_IP_SAN",
            "UPSTREAM_PEER_CERT_V_START", "UPSTREAM_PEER_CERT_V_END", "UPSTREAM_PEER_CERT_V_START(%s)"})
    void aPlaintextUpstreamLeavesTheUpstreamCommandsUnset(String command) {
        assertEquals("[-]", text("[%" + command + "%]", MUTUAL));
    }

    /** The upstream connection's TLS: the server's certificate is the peer, the proxy's client certificate the local one. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '#', textBlock = """
            %UPSTREAM_TLS_VERSION%                   # TLSv1.3
            %UPSTREAM_TLS_CIPHER%                    # TLS_AES_128_GCM_SHA256
            %UPSTREAM_TLS_SESSION_ID%                # -
            %UPSTREAM_PEER_SUBJECT%                  # CN=httpbin
            %UPSTREAM_PEER_ISSUER%                   # CN=httpbin
            %UPSTREAM_PEER_CERT%                     # spem
            %UPSTREAM_PEER_URI_SAN%                  # spiffe://cluster.local/ns/default/sa/httpbin
            %UPSTREAM_PEER_DNS_SAN%                  # httpbin
            %UPSTREAM_PEER_IP_SAN%                   # -
            %UPSTREAM_LOCAL_URI_SAN%                 # spiffe://cluster.local/ns/default/sa/sleep
            %UPSTREAM_LOCAL_DNS_SAN%                 # sleep.default.svc,sleep
            %UPSTREAM_LOCAL_IP_SAN%                  # 10.0.0.1,::1
            %UPSTREAM_PEER_CERT_V_START(%Y-%m-%d)%   # 1970-01-01
            """)
    void theUpstreamConnectionsTls(String command, String expected) {
        Tls upstream = new Tls("TLSv1.3", "TLS_AES_128_GCM_SHA256", null, SERVER, List.of(SERVER), CLIENT);
        assertEquals(expected, SubstitutionFormat.parse(command).format(Streams.httpbinInbound().upstreamTls(upstream)));
    }

    @Test
    void syntaxAsEnvoysCommandSyntaxChecker() {
        for (String bad : List.of("%DOWNSTREAM_TLS_VERSION(x)%", "%DOWNSTREAM_PEER_URI_SAN:10%", "%DOWNSTREAM_PEER_CERT_V_START:5%",
                "%UPSTREAM_TLS_CIPHER(x)%", "%DOWNSTREAM_PEER_CERT_V_END(%n)%")) {
            assertThrows(IllegalArgumentException.class, () -> SubstitutionFormat.parse(bad), bad);
        }
        // Envoy's names that this proxy does not implement are refused by name, never printed unset
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SubstitutionFormat.parse("%DOWNSTREAM_PEER_OTHERNAME_SAN%"));
        assertEquals("unsupported access log command: %DOWNSTREAM_PEER_OTHERNAME_SAN%", e.getMessage());
    }

    @Test
    void aFormatWithoutTlsCommandsNeverAsksTheConnection() {
        AtomicInteger asked = new AtomicInteger();
        TlsConnectionInfo counting = (TlsConnectionInfo) java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {TlsConnectionInfo.class}, (p, m, a) -> {
                    asked.incrementAndGet();
                    return null;
                });
        SubstitutionFormat.parse(IstioFormats.DEFAULT_TEXT).format(Streams.httpbinInbound().downstreamTls(counting));
        JsonFormatter.of(IstioFormats.DEFAULT_JSON).format(Streams.httpbinInbound().downstreamTls(counting));
        assertEquals(0, asked.get());
        assertEquals("-", text("%DOWNSTREAM_TLS_VERSION%", counting));
        assertEquals(1, asked.get());
    }

    @Test
    void aRestartedStreamForgetsTheConnectionsTls() {
        StreamInfo s = Streams.httpbinInbound().downstreamTls(MUTUAL);
        assertEquals("-", SubstitutionFormat.parse("%DOWNSTREAM_TLS_VERSION%").format(s.restart(0)));
        assertEquals("TLSv1.3", SubstitutionFormat.parse("%DOWNSTREAM_TLS_VERSION%").format(
                StreamInfo.forRequest(Streams.httpbinInbound().downstreamTls(MUTUAL))));
    }
}
