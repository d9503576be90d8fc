package io.sourcemesh.proxy.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.HttpBootstrap;
import io.sourcemesh.proxy.testing.LogFiles;
import io.sourcemesh.proxy.testing.TestCertificates;
import io.sourcemesh.proxy.testing.TlsOrigin;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cluster's upstream_http_protocol_options over real TLS to a JDK TLS origin on loopback, requests by curl, as Envoy's
 * router sets them (source/common/router/router.cc; test/integration/auto_sni_integration_test.cc): auto_sni sends each
 * request's host (or override_auto_sni_header's value) as the SNI, and connections are pooled per name;
 * auto_san_validation refuses a server whose certificate does not name that host — 503 UF with the TLS error, as any
 * failed verification — beside the cluster's own SAN matchers.
 */
class AutoSniEndToEndTest {
    private static final String SPIFFE = "spiffe://cluster.local/ns/default/sa/httpbin";

    @TempDir
    Path dir;
    private TestCertificates.Authority ca;
    private TlsOrigin origin;
    private Proxy proxy;
    private Path log;

    @BeforeEach
    void start() {
        ca = TestCertificates.Authority.root("mesh-ca");
        log = dir.resolve("access.log");
        // The origin's certificate names a.example and *.wild.example, not b.example.
        origin = TlsOrigin.start(ca.issue("a", "a.example", "*.wild.example", SPIFFE), null, false);
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        origin.close();
    }

    /** The proxy to the origin: a TLS cluster verifying the CA (and {@code validation} more), with these upstream options. */
    private void proxy(String upstreamOptions, String validation) throws Exception {
        String ca = Files.writeString(dir.resolve("ca.crt"), this.ca.certificate()).toString();
        String fields = """
                typed_extension_protocol_options:
                  envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                    "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                    explicit_http_config: {http_protocol_options: {}}
                """ + (upstreamOptions.isEmpty() ? "" : "    upstream_http_protocol_options: " + upstreamOptions + "\n") + """
                transport_socket:
                  name: envoy.transport_sockets.tls
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
                    common_tls_context:
                      validation_context: {trusted_ca: {filename: "%s"}%s}
                """.formatted(ca, validation);
        proxy = Proxy.start(BootstrapLoader.loadText(HttpBootstrap.toOrigin(origin.port())
                .accessLog(log, "%RESPONSE_CODE% %RESPONSE_FLAGS% %REQ(:AUTHORITY)% %UPSTREAM_TRANSPORT_FAILURE_REASON%")
                .clusterFields(fields).yaml()), 1);
    }

    private Curl.Result get(String host, String... headers) {
        List<String> args = new ArrayList<>(List.of("-H", "Host: " + host));
        for (String h : headers) {
            args.addAll(List.of("-H", h));
        }
        args.add("http://127.0.0.1:" + proxy.listenerAddress("http").getPort() + "/get");
        return Curl.run(args.toArray(String[]::new));
    }

    private long counter(String name) {
        return proxy.stats().counters().getOrDefault("cluster.origin." + name, 0L);
    }

    @Test
    void autoSniSendsEachRequestsHostAndPoolsAConnectionPerName() throws Exception {
        proxy("{auto_sni: true}", "");
        for (String host : List.of("a.example", "a.example:8080", "b.example", "a.example", "b.example:443")) {
            Curl.Result r = get(host);
            assertEquals(200, r.status(), host + ": " + r);
        }
        // Without auto_san_validation a host the certificate does not name is reached too (only the CA is verified).
        assertEquals(List.of("a.example", "b.example"), origin.serverNames,
                "one handshake per name, the port left out, each name's connection reused only for it");
        assertEquals(2, counter("upstream_cx_total"));
        // An IP address is no SNI (RFC 6066; Envoy's parseAuthority): a third connection, sending none.
        assertEquals(200, get("127.0.0.1:1234").status());
        assertEquals(List.of("a.example", "b.example", ""), origin.serverNames);
    }

    @Test
    void withoutTheOptionsTheConnectionSendsNoSniAndIsShared() throws Exception {
        proxy("", "");
        assertEquals(200, get("a.example").status());
        assertEquals(200, get("b.example").status());
        assertEquals(List.of(""), origin.serverNames);
    }

    @Test
    void autoSanValidationRefusesAServerThatDoesNotNameTheHost() throws Exception {
        proxy("{auto_sni: true, auto_san_validation: true}", "");
        assertEquals(200, get("a.example").status());
        assertEquals(200, get("x.wild.example").status(), "a wildcard DNS SAN covers one label (Envoy's dnsNameMatch)");
        Curl.Result r = get("b.example");
        assertEquals(503, r.status(), r.toString());
        String reason = "TLS_error:|268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED:verify cert failed: SAN matcher, "
                + "certificate SANs are [a.example, *.wild.example, " + SPIFFE + "], the request's host is b.example:TLS_error_end";
        assertEquals("upstream connect error or disconnect/reset before headers. reset reason: connection failure, "
                + "transport failure reason: " + reason, r.body());
        assertEquals(1, counter("ssl.fail_verify_san"));
        assertEquals(1, counter("upstream_cx_connect_fail"));
        List<String> lines = LogFiles.awaitLines(log, 3);
        assertEquals("503 UF b.example " + reason, lines.get(2));
        assertEquals(List.of("a.example", "x.wild.example"), origin.serverNames, "b.example's handshake never completed");
        assertEquals(3, origin.accepted.get());
        // An IP host sends no SNI but is still required as a SAN (Envoy sets the SAN list either way).
        assertEquals(503, get("127.0.0.1").status());
        assertEquals(2, counter("ssl.fail_verify_san"));
    }

    @Test
    void theRequestsSanIsRequiredBesideTheClustersMatchers() throws Exception {
        String matcher = ", match_typed_subject_alt_names: [{san_type: URI, matcher: {exact: \"%s\"}}]";
        proxy("{auto_san_validation: true}", matcher.formatted(SPIFFE));
        assertEquals(200, get("a.example").status(), "both the host and the matcher name the certificate");
        assertEquals(503, get("b.example").status(), "the matcher passes, the host's SAN does not");
        assertEquals(List.of(""), origin.serverNames, "auto_san_validation alone sends no SNI");
        assertEquals(2, origin.accepted.get(), "a connection per name required");
        proxy.close();
        proxy("{auto_san_validation: true}", matcher.formatted("spiffe://cluster.local/ns/default/sa/other"));
        Curl.Result r = get("a.example");
        assertEquals(503, r.status(), "the host's SAN passes, the matcher does not");
        assertTrue(r.body().endsWith("CERTIFICATE_VERIFY_FAILED:verify cert failed: SAN matcher, certificate SANs are [a.example, "
                + "*.wild.example, " + SPIFFE + "]:TLS_error_end"), r.body());
    }

    @Test
    void theOverrideHeaderNamesTheSniWhenPresentAndNotEmpty() throws Exception {
        proxy("{auto_sni: true, auto_san_validation: true, override_auto_sni_header: X-Upstream-Host}", "");
        assertEquals(200, get("b.example", "x-upstream-host: a.example").status(), "the header's name, not the Host's, is checked");
        assertEquals(200, get("b.example", "x-upstream-host: y.wild.example:8443").status());
        assertEquals(503, get("a.example", "x-upstream-host: b.example").status());
        assertEquals(200, get("a.example", "x-upstream-host;").status(), "an empty header leaves the Host");
        assertEquals(List.of("a.example", "y.wild.example"), origin.serverNames);
        assertEquals(3, origin.accepted.get(), "the last request reused a.example's connection");
    }
}
