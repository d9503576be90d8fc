package io.sourcemesh.proxy.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.accesslog.IstioFormats;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.HttpBootstrap;
import io.sourcemesh.proxy.testing.LogFiles;
import io.sourcemesh.proxy.testing.Origin;
import io.sourcemesh.proxy.testing.TestCertificates;
import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bouncycastle.asn1.x500.X500Name;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The access log's TLS commands under real curl over TLS and mutual TLS, in text and JSON, for HTTP and tcp_proxy,
 * each field checked against a value the test reads itself: curl's report of the protocol and cipher (OpenSSL's
 * names, as Envoy's BoringSSL prints them), the certificate files read with the JDK (digests, validity) and with
 * openssl (RFC 2253 subject and issuer, serial), and openssl s_client's session id. Over plaintext every one is "-"
 * in text and null in JSON.
 */
class TlsAccessLogEndToEndTest {
    private static final String SLEEP = "spiffe://cluster.local/ns/default/sa/sleep";
    private static final String HTTPBIN = "spiffe://cluster.local/ns/default/sa/httpbin";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The commands in one order: the text line is their values joined by '|', the JSON object has them as keys. */
    private static final Map<String, String> FIELDS = new LinkedHashMap<>();

    static {
        FIELDS.put("version", "%DOWNSTREAM_TLS_VERSION%");
        FIELDS.put("cipher", "%DOWNSTREAM_TLS_CIPHER%");
        FIELDS.put("session", "%DOWNSTREAM_TLS_SESSION_ID%");
        FIELDS.put("peer_uri", "%DOWNSTREAM_PEER_URI_SAN%");
        FIELDS.put("peer_dns", "%DOWNSTREAM_PEER_DNS_SAN%");
        FIELDS.put("peer_subject", "%DOWNSTREAM_PEER_SUBJECT%");
        FIELDS.put("peer_issuer", "%DOWNSTREAM_PEER_ISSUER%");
        FIELDS.put("peer_serial", "%DOWNSTREAM_PEER_SERIAL%");
        FIELDS.put("peer_sha256", "%DOWNSTREAM_PEER_FINGERPRINT_256%");
        FIELDS.put("peer_sha1", "%DOWNSTREAM_PEER_FINGERPRINT_1%");
        FIELDS.put("peer_cert", "%DOWNSTREAM_PEER_CERT%");
        FIELDS.put("peer_start", "%DOWNSTREAM_PEER_CERT_V_START%");
        FIELDS.put("peer_end", "%DOWNSTREAM_PEER_CERT_V_END(%s)%");
        FIELDS.put("peer_chain_sha256", "%DOWNSTREAM_PEER_CHAIN_FINGERPRINTS_256%");
        FIELDS.put("local_uri", "%DOWNSTREAM_LOCAL_URI_SAN%");
        FIELDS.put("local_dns", "%DOWNSTREAM_LOCAL_DNS_SAN%");
        FIELDS.put("local_subject", "%DOWNSTREAM_LOCAL_SUBJECT%");
        FIELDS.put("upstream_version", "%UPSTREAM_TLS_VERSION%");
        FIELDS.put("upstream_peer", "%UPSTREAM_PEER_SUBJECT%");
    }

    private static final String TEXT = String.join("|", FIELDS.values());

    private static String jsonFormat() {
        StringBuilder yaml = new StringBuilder("{");
        FIELDS.forEach((k, v) -> yaml.append(yaml.length() > 1 ? ", " : "").append(k).append(": \"").append(v).append('"'));
        return yaml.append('}').toString();
    }

    @TempDir
    Path dir;
    private Origin origin;
    private Proxy proxy;
    private Path serverCrt;
    private Path serverKey;
    private Path clientCrt;
    private Path clientKey;
    private Path textLog;
    private Path jsonLog;

    @BeforeEach
    void start() throws Exception {
        origin = Origin.start();
        // RSA: the ECDHE-RSA suites, the form the Envoy docs show
        TestCertificates.Pem server = TestCertificates.selfSigned("RSA", new X500Name("CN=httpbin,O=Acme\\, Inc.,C=US"),
                new BigInteger("00c0ffee", 16), "localhost", "httpbin.default.svc", HTTPBIN);
        TestCertificates.Pem client = TestCertificates.selfSigned("EC",
                new X500Name("CN=sleep,OU=eng,O=Acme\\, Inc.,L=San Francisco,ST=California,C=US,E=sleep@example.com"),
                new BigInteger("0a1b2c3d4e5f", 16), SLEEP, "sleep.default.svc", "sleep");
        serverCrt = Files.writeString(dir.resolve("server.crt"), server.certificate());
        serverKey = Files.writeString(dir.resolve("server.key"), server.privateKey());
        clientCrt = Files.writeString(dir.resolve("client.crt"), client.certificate());
        clientKey = Files.writeString(dir.resolve("client.key"), client.privateKey());
        textLog = dir.resolve("text.log");
        jsonLog = dir.resolve("json.log");
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        origin.close();
    }

    private String tls(boolean requireClientCertificate) {
        return """
                name: envoy.transport_sockets.tls
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
                  require_client_certificate: REQUIRE
                  common_tls_context:
                    tls_certificates: [{certificate_chain: {filename: "S_CRT"}, private_key: {filename: "S_KEY"}}]
                    validation_context: {trusted_ca: {filename: "C_CRT"}}
                """.replace("S_CRT", serverCrt.toString()).replace("S_KEY", serverKey.toString())
                .replace("C_CRT", clientCrt.toString()).replace("REQUIRE", Boolean.toString(requireClientCertificate));
    }

    private void httpProxy(String transportSocket) {
        HttpBootstrap b = HttpBootstrap.toOrigin(origin.port()).listener("l").accessLog(textLog, TEXT).jsonAccessLog(jsonLog, jsonFormat());
        if (transportSocket != null) {
            b.transportSocket(transportSocket);
        }
        proxy = Proxy.start(BootstrapLoader.loadText(b.yaml()), 1);
    }

    private int port() {
        return proxy.listenerAddress("l").getPort();
    }

    /** curl -v over https, with the client certificate or without; its verbose report on stderr. */
    private Curl.Result curl(boolean withCertificate, String... extra) {
        List<String> args = new ArrayList<>(List.of("-v", "-k"));
        if (withCertificate) {
            args.addAll(List.of("--cert", clientCrt.toString(), "--key", clientKey.toString()));
        }
        args.addAll(List.of(extra));
        args.add("https://127.0.0.1:" + port() + "/tls");
        Curl.Result r = Curl.run(args.toArray(String[]::new));
        assertEquals(200, r.status(), r.err());
        return r;
    }

    private static final Pattern NEGOTIATED = Pattern.compile("SSL connection using (\\S+) / (\\S+)");

    /** curl's report of the protocol and the cipher suite, the latter by OpenSSL's name. */
    private static String[] negotiated(Curl.Result r) {
        Matcher m = NEGOTIATED.matcher(r.err());
        assertTrue(m.find(), r.err());
        return new String[] {m.group(1), m.group(2)};
    }

    private String openssl(Path crt, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("openssl", "x509", "-noout", "-in", crt.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        out = out.endsWith("\n") ? out.substring(0, out.length() - 1) : out;
        return out.substring(out.indexOf('=') + 1);
    }

    private static X509Certificate read(Path crt) throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(Files.readAllBytes(crt)));
    }

    private static String digest(X509Certificate c, String algorithm) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance(algorithm).digest(c.getEncoded()));
    }

    /** What each field should read for a handshake of {@code version} and {@code cipher} with the client's certificate. */
    private Map<String, String> expected(String version, String cipher, boolean peer) throws Exception {
        X509Certificate client = read(clientCrt);
        Map<String, String> e = new LinkedHashMap<>();
        e.put("version", version);
        e.put("cipher", cipher);
        // TLS 1.2: 32 random bytes the server sent (compared with the client's in theSessionIdIs…); TLS 1.3 has none
        e.put("session", version.equals("TLSv1.2") ? ANY_SESSION_ID : null);
        e.put("peer_uri", peer ? SLEEP : null);
        e.put("peer_dns", peer ? "sleep.default.svc,sleep" : null);
        e.put("peer_subject", peer ? openssl(clientCrt, "-subject", "-nameopt", "RFC2253") : null);
        e.put("peer_issuer", peer ? openssl(clientCrt, "-issuer", "-nameopt", "RFC2253") : null);
        e.put("peer_serial", peer ? openssl(clientCrt, "-serial").toLowerCase(Locale.ROOT) : null);
        e.put("peer_sha256", peer ? digest(client, "SHA-256") : null);
        e.put("peer_sha1", peer ? digest(client, "SHA-1") : null);
        e.put("peer_cert", peer ? Files.readString(clientCrt).replace("\n", "%0A").replace(" ", "%20").replace("+", "%2B")
                .replace("/", "%2F").replace("=", "%3D") : null);
        e.put("peer_start", peer ? DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC)
                .format(client.getNotBefore().toInstant()) : null);
        e.put("peer_end", peer ? Long.toString(client.getNotAfter().getTime() / 1000) : null);
        e.put("peer_chain_sha256", peer ? digest(client, "SHA-256") : null); // curl sends the one certificate
        e.put("local_uri", HTTPBIN);
        e.put("local_dns", "localhost,httpbin.default.svc");
        e.put("local_subject", openssl(serverCrt, "-subject", "-nameopt", "RFC2253"));
        e.put("upstream_version", null);
        e.put("upstream_peer", null);
        return e;
    }

    /** Stands for any session id: 64 hex digits. */
    private static final String ANY_SESSION_ID = new String("any session id");

    private static Map<String, String> allUnset() {
        Map<String, String> e = new LinkedHashMap<>();
        FIELDS.keySet().forEach(k -> e.put(k, null));
        return e;
    }

    /** The text line's fields and the JSON object's, each against {@code expected} (null: "-" in text, null in JSON). */
    private static void assertLogged(Map<String, String> expected, String textLine, String jsonLine) throws Exception {
        String[] text = textLine.split("\\|", -1);
        assertEquals(FIELDS.size(), text.length, textLine);
        JsonNode json = JSON.readTree(jsonLine);
        int i = 0;
        for (Map.Entry<String, String> e : expected.entrySet()) {
            String key = e.getKey();
            String textValue = text[i++];
            JsonNode jsonValue = json.get(key);
            if (e.getValue() == ANY_SESSION_ID) {
                assertTrue(textValue.matches("[0-9a-f]{64}"), "the session's id in hex: " + textValue);
                assertEquals(textValue, jsonValue.textValue());
                continue;
            }
            if (e.getValue() == null) {
                assertEquals("-", textValue, key + " in " + textLine);
                assertTrue(jsonValue.isNull(), key + " in " + jsonLine);
            } else {
                assertEquals(e.getValue(), textValue, key + " (text)");
                assertTrue(jsonValue.isTextual(), key + " in " + jsonLine);
                assertEquals(e.getValue(), jsonValue.textValue(), key + " (JSON)");
            }
        }
    }

    @Test
    void mutualTlsOverHttpTls13() throws Exception {
        httpProxy(tls(true));
        String[] n = negotiated(curl(true));
        assertEquals("TLSv1.3", n[0]);
        assertLogged(expected("TLSv1.3", n[1], true), LogFiles.awaitLine(textLog), LogFiles.awaitLine(jsonLog));
    }

    /** TLS 1.2 with a chosen ECDHE-RSA suite: the name in the log is OpenSSL's, as curl (over OpenSSL) reports it. */
    @Test
    void mutualTlsOverHttpTls12WithAnEcdheRsaSuite() throws Exception {
        httpProxy(tls(true));
        String[] n = negotiated(curl(true, "--tlsv1.2", "--tls-max", "1.2", "--ciphers", "ECDHE-RSA-AES128-GCM-SHA256"));
        assertEquals("TLSv1.2", n[0]);
        assertEquals("ECDHE-RSA-AES128-GCM-SHA256", n[1]);
        assertLogged(expected("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", true), LogFiles.awaitLine(textLog),
                LogFiles.awaitLine(jsonLog));
    }

    /**
     * The session id of a TLS 1.2 handshake is the one the server sent in its ServerHello, as openssl s_client shows
     * it (without a session ticket: with one, the client names the session by the ticket's hash instead).
     */
    @Test
    void theSessionIdIsTheOneTheClientWasGiven() throws Exception {
        httpProxy(tls(false));
        Process p = new ProcessBuilder("openssl", "s_client", "-connect", "127.0.0.1:" + port(), "-tls1_2", "-no_ticket",
                "-ign_eof")
                .redirectErrorStream(true).start();
        p.getOutputStream().write("GET /tls HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        Matcher m = Pattern.compile("Session-ID: ([0-9A-F]+)").matcher(out);
        assertTrue(m.find(), out);
        String[] text = LogFiles.awaitLine(textLog).split("\\|", -1);
        assertEquals(m.group(1).toLowerCase(Locale.ROOT), text[2]);
        assertEquals("TLSv1.2", text[0]);
    }

    /** A validation context without require_client_certificate: a client without a certificate still gets TLS facts. */
    @Test
    void tlsWithoutAClientCertificateHasNoPeerFields() throws Exception {
        httpProxy(tls(false));
        String[] n = negotiated(curl(false));
        assertLogged(expected(n[0], n[1], false), LogFiles.awaitLine(textLog), LogFiles.awaitLine(jsonLog));
    }

    @Test
    void plaintextHasNone() throws Exception {
        httpProxy(null);
        assertEquals(200, Curl.run("http://127.0.0.1:" + port() + "/plain").status());
        assertLogged(allUnset(), LogFiles.awaitLine(textLog), LogFiles.awaitLine(jsonLog));
    }

    /** Every request of a kept-alive connection carries its TLS (each HTTP stream, and a reused one). */
    @Test
    void everyRequestOfAConnectionCarriesItsTls() throws Exception {
        httpProxy(tls(true));
        List<String> args = new ArrayList<>(List.of("-v", "-k", "--cert", clientCrt.toString(), "--key", clientKey.toString()));
        for (int i = 0; i < 3; i++) {
            args.add("https://127.0.0.1:" + port() + "/r" + i);
        }
        Curl.Result r = Curl.run(args.toArray(String[]::new));
        assertEquals(0, r.exitCode(), r.err());
        String[] n = negotiated(r);
        List<String> text = LogFiles.awaitLines(textLog, 3);
        List<String> json = LogFiles.awaitLines(jsonLog, 3);
        for (int i = 0; i < 3; i++) {
            assertLogged(expected(n[0], n[1], true), text.get(i), json.get(i));
        }
        assertEquals(1L, proxy.stats().counters().get("http.http.downstream_cx_total"),
                "one connection: " + proxy.stats().counters());
    }

    /** A chain that terminates TLS and then tcp_proxies: its one stream, logged at the close, has the TLS facts too. */
    @Test
    void tcpProxyOverTerminatedTls() throws Exception {
        String bootstrap = """
                static_resources:
                  listeners:
                  - name: l
                    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
                    filter_chains:
                    - transport_socket:
                TLS
                      filters:
                      - name: envoy.filters.network.tcp_proxy
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                          stat_prefix: tcp
                          cluster: origin
                          access_log:
                          - name: envoy.access_loggers.file
                            typed_config:
                              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                              path: TEXT_LOG
                              log_format: {text_format_source: {inline_string: "TEXT_FORMAT\\n"}}
                          - name: envoy.access_loggers.file
                            typed_config:
                              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                              path: JSON_LOG
                              log_format: {json_format: JSON_FORMAT}
                  clusters:
                  - name: origin
                    connect_timeout: 1s
                    load_assignment:
                      cluster_name: origin
                      endpoints:
                      - lb_endpoints:
                        - endpoint:
                            address: {socket_address: {address: 127.0.0.1, port_value: ORIGIN_PORT}}
                """.replace("TLS\n", tls(true).indent(8)).replace("TEXT_LOG", textLog.toString())
                .replace("JSON_LOG", jsonLog.toString()).replace("TEXT_FORMAT", TEXT).replace("JSON_FORMAT", jsonFormat())
                .replace("ORIGIN_PORT", Integer.toString(origin.port()));
        proxy = Proxy.start(BootstrapLoader.loadText(bootstrap), 1);
        String[] n = negotiated(curl(true));
        assertLogged(expected(n[0], n[1], true), LogFiles.awaitLine(textLog), LogFiles.awaitLine(jsonLog));
    }

    /** Istio's default formats on a TLS listener are what they were: no TLS command among them. */
    @Test
    void istiosDefaultJsonFormatOverTls() throws Exception {
        StringBuilder istio = new StringBuilder("{");
        IstioFormats.DEFAULT_JSON.forEach((k, v) -> istio.append(istio.length() > 1 ? ", " : "").append(k).append(": \"").append(v)
                .append('"'));
        istio.append('}');
        proxy = Proxy.start(BootstrapLoader.loadText(HttpBootstrap.toOrigin(origin.port()).listener("l")
                .jsonAccessLog(jsonLog, istio.toString()).transportSocket(tls(true)).yaml()), 1);
        curl(true);
        JsonNode n = JSON.readTree(LogFiles.awaitLine(jsonLog));
        assertEquals(IstioFormats.DEFAULT_JSON.keySet(), iterable(n.fieldNames()));
        assertEquals(200, n.get("response_code").intValue());
        assertEquals("/tls", n.get("path").textValue());
        assertEquals("origin", n.get("upstream_cluster").textValue());
        assertTrue(n.get("upstream_transport_failure_reason").isNull());
    }

    private static java.util.Set<String> iterable(java.util.Iterator<String> it) {
        java.util.Set<String> out = new java.util.LinkedHashSet<>();
        it.forEachRemaining(out::add);
        return out;
    }
}
