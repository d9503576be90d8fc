package io.sourcemesh.proxy.rbac;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.LogFiles;
import io.sourcemesh.proxy.testing.Origin;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * envoy.filters.http.rbac end to end: a proxy from a YAML bootstrap, real curl from chosen
 * loopback addresses, the 403 body, the access log's details, /stats counters and the rbac logger.
 */
class HttpRbacEndToEndTest {
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

    static String bootstrap(int originPort, Path log, String rbac) {
        return bootstrap(originPort, log, rbac, "use_remote_address: true\n");
    }

    /** {@code hcmFields}: the connection manager's client-address fields. */
    static String bootstrap(int originPort, Path log, String rbac, String hcmFields) {
        return """
                admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
                static_resources:
                  listeners:
                  - name: http
                    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
                    filter_chains:
                    - filters:
                      - name: envoy.filters.network.http_connection_manager
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                          stat_prefix: ingress_http
                @HCM_FIELDS@
                          access_log:
                          - name: envoy.access_loggers.file
                            typed_config:
                              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                              path: @LOG@
                              log_format:
                                json_format:
                                  code: "%RESPONSE_CODE%"
                                  flags: "%RESPONSE_FLAGS%"
                                  details: "%RESPONSE_CODE_DETAILS%"
                                  body_bytes: "%BYTES_SENT%"
                                  client: "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"
                                  cluster: "%UPSTREAM_CLUSTER%"
                                  host: "%UPSTREAM_HOST%"
                          route_config:
                            virtual_hosts:
                            - name: all
                              domains: ["*"]
                              routes:
                              - match: {prefix: "/"}
                                route: {cluster: backend}
                          http_filters:
                          - name: envoy.filters.http.rbac
                            typed_config:
                              "@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC
                RBAC_RULES
                          - name: envoy.filters.http.router
                            typed_config:
                              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
                  clusters:
                  - name: backend
                    connect_timeout: 1s
                    load_assignment:
                      cluster_name: backend
                      endpoints:
                      - lb_endpoints:
                        - endpoint:
                            address: {socket_address: {address: 127.0.0.1, port_value: @ORIGIN_PORT@}}
                """.replace("@LOG@", log.toString()).replace("@ORIGIN_PORT@", Integer.toString(originPort))
                .replace("RBAC_RULES\n", rbac.indent(14))
                .replace("@HCM_FIELDS@\n", hcmFields.indent(10));
    }

    private static final String RULES = """
            rules:
              action: ALLOW
              policies:
                trusted-client:
                  permissions: [{any: true}]
                  principals: [{remote_ip: {address_prefix: 127.0.0.42, prefix_len: 32}}]
                public-get:
                  permissions:
                  - and_rules:
                      rules:
                      - url_path: {path: {prefix: /public/}}
                      - header: {name: ":method", string_match: {exact: GET}}
                  principals: [{any: true}]
            shadow_rules:
              action: DENY
              policies:
                no-admin:
                  permissions: [{url_path: {path: {prefix: /admin, ignore_case: true}}}]
                  principals: [{any: true}]
            """;

    private String url(String path) {
        return "http://127.0.0.1:" + proxy.listenerAddress("http").getPort() + path;
    }

    private String admin(String path) {
        return "http://127.0.0.1:" + proxy.adminAddress().orElseThrow().getPort() + path;
    }

    private long counter(String name) {
        String stats = Curl.run(admin("/stats?filter=" + name.replace(".", "\\.") + "$")).body();
        for (String line : stats.split("\n")) {
            if (line.startsWith(name + ": ")) {
                return Long.parseLong(line.substring(name.length() + 2).trim());
            }
        }
        throw new AssertionError(name + " not in /stats: " + stats);
    }

    @Test
    void deniesWith403LogsThePolicyAndCounts() throws Exception {
        Path log = dir.resolve("access.log");
        proxy = Proxy.start(BootstrapLoader.loadText(bootstrap(origin.port(), log, RULES)), 1);

        Curl.Result allowed = Curl.run("--interface", "127.0.0.42", url("/private"));
        assertEquals(200, allowed.status(), allowed.err());
        Curl.Result denied = Curl.run("--interface", "127.0.0.43", url("/private"));
        assertEquals(403, denied.status());
        assertEquals("RBAC: access denied", denied.body());
        assertEquals(200, Curl.run("--interface", "127.0.0.43", url("/public/x?y=1")).status());
        assertEquals(403, Curl.run("--interface", "127.0.0.43", "-X", "POST", url("/public/x")).status());
        assertEquals(200, Curl.run("--interface", "127.0.0.42", url("/ADMIN/x")).status(), "shadow rules never block");
        assertEquals(1, origin.seen().stream().filter(s -> s.uri().equals("/private")).count(), "a denied request never reaches the app");

        List<String> lines = LogFiles.awaitLines(log, 5);
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        var deniedLine = json.readTree(lines.get(1));
        assertEquals(403, deniedLine.get("code").asInt());
        assertEquals("rbac_access_denied_matched_policy[none]", deniedLine.get("details").asText());
        assertEquals("-", deniedLine.get("flags").asText(), "Envoy sets no response flag for an RBAC denial");
        assertEquals(19, deniedLine.get("body_bytes").asInt());
        assertEquals("127.0.0.43", deniedLine.get("client").asText());
        // The connection manager resolves the route before any filter runs (Envoy's refreshCachedRoute), so a denied
        // request logs its route's cluster, as Istio's inbound logs show for RBAC denials; no host was picked.
        assertEquals("backend", deniedLine.get("cluster").asText());
        assertTrue(deniedLine.get("host").isNull() || deniedLine.get("host").asText().equals("-"), deniedLine.toString());
        assertEquals("via_upstream", json.readTree(lines.get(0)).get("details").asText());

        assertEquals(3, counter("http.ingress_http.rbac.allowed"));
        assertEquals(2, counter("http.ingress_http.rbac.denied"));
        assertEquals(4, counter("http.ingress_http.rbac.shadow_allowed"));
        assertEquals(1, counter("http.ingress_http.rbac.shadow_denied"));
    }

    @Test
    void denyActionNamesTheMatchedPolicyInTheDetails() throws Exception {
        Path log = dir.resolve("access.log");
        String rules = """
                rules:
                  action: DENY
                  policies:
                    "ns[demo]-policy[block-status]-rule[0]":
                      permissions: [{url_path: {path: {prefix: /status/}}}]
                      principals: [{direct_remote_ip: {address_prefix: 127.0.0.0, prefix_len: 8}}]
                """;
        proxy = Proxy.start(BootstrapLoader.loadText(bootstrap(origin.port(), log, rules)), 1);
        assertEquals(403, Curl.run(url("/status/200")).status());
        assertEquals(200, Curl.run(url("/get")).status());
        var line = new com.fasterxml.jackson.databind.ObjectMapper().readTree(LogFiles.awaitLines(log, 2).get(0));
        assertEquals("rbac_access_denied_matched_policy[ns[demo]-policy[block-status]-rule[0]]", line.get("details").asText());
    }

    /**
     * Envoy's header matcher treats a deprecated {@code exact_match: ""} as "any value" (header_utility's
     * exact matcher: an empty expected value matches whatever is present), so this DENY policy blocks
     * every request that carries the header, empty or not.
     */
    @Test
    void emptyExactMatchDeniesAnyValueOfThePresentHeader() throws Exception {
        String rules = """
                rules:
                  action: DENY
                  policies:
                    no-debug:
                      permissions: [{header: {name: x-debug, exact_match: ""}}]
                      principals: [{any: true}]
                """;
        proxy = Proxy.start(BootstrapLoader.loadText(bootstrap(origin.port(), dir.resolve("a.log"), rules)), 1);
        assertEquals(403, Curl.run("-H", "X-Debug: 1", url("/get")).status(), "a value");
        assertEquals(403, Curl.run("-H", "X-Debug;", url("/get")).status(), "an empty value");
        assertEquals(200, Curl.run(url("/get")).status(), "no such header");
        assertEquals(1, origin.seen().size());
    }

    /**
     * Envoy compares a matcher's UTF-8 bytes with the header's bytes (and RE2 reads them as UTF-8), so
     * a non-ASCII value in a policy matches the same text sent by a client; {@code ignore_case} folds
     * ASCII letters only (absl's EqualsIgnoreCase).
     */
    @Test
    void nonAsciiValuesMatchAsUtf8BytesAndIgnoreCaseFoldsOnlyAscii() throws Exception {
        String rules = """
                rules:
                  action: DENY
                  policies:
                    a-exact:
                      permissions: [{header: {name: x-user, string_match: {exact: "JOSÉ", ignore_case: true}}}]
                      principals: [{any: true}]
                    b-regex:
                      permissions: [{header: {name: x-team, safe_regex_match: {regex: "caf."}}}]
                      principals: [{any: true}]
                """;
        proxy = Proxy.start(BootstrapLoader.loadText(bootstrap(origin.port(), dir.resolve("a.log"), rules)), 1);
        int port = proxy.listenerAddress("http").getPort();
        assertEquals(403, rawStatus(port, "X-User: josÉ"), "the same UTF-8 bytes, ASCII letters in another case");
        assertEquals(200, rawStatus(port, "X-User: josé"), "É and é differ in a non-ASCII byte: no folding there");
        assertEquals(403, rawStatus(port, "X-Team: café"), "RE2's '.' is one UTF-8 character");
        assertEquals(200, rawStatus(port, "X-Team: cafe!!"));
        assertEquals(403, rawStatus(port, "X-Team: caf\u0085"), "RE2's '.' is any character but a newline");
    }

    /** A request with one extra header line written as UTF-8 bytes, as a client would send it; the status code. */
    private static int rawStatus(int port, String headerLine) throws Exception {
        byte[] head = ("GET /get HTTP/1.1\r\nHost: x\r\n" + headerLine + "\r\nConnection: close\r\n\r\n")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        try (var s = io.sourcemesh.proxy.testing.RawSocket.connect(port)) {
            String line = s.send(head).readUntilClose(10_000).statusLine();
            return Integer.parseInt(line.substring(9, 12));
        }
    }

    /**
     * A CIDR written as an IPv4-mapped IPv6 prefix is an IPv6 range in Envoy (its address parser keeps
     * the family as written): it admits the client an XFF entry "::ffff:6.6.6.6" names (kept IPv6 by
     * the connection manager) and not the IPv4 client 6.6.6.6.
     */
    @Test
    void anIpv4MappedRangeIsAnIpv6Range() throws Exception {
        String rules = """
                rules:
                  action: ALLOW
                  policies:
                    mapped-clients:
                      permissions: [{any: true}]
                      principals: [{remote_ip: {address_prefix: "::ffff:6.6.6.0", prefix_len: 120}}]
                """;
        proxy = Proxy.start(BootstrapLoader.loadText(bootstrap(origin.port(), dir.resolve("a.log"), rules,
                "use_remote_address: true\nxff_num_trusted_hops: 1\n")), 1);
        assertEquals(200, Curl.run("-H", "X-Forwarded-For: ::ffff:6.6.6.6", url("/get")).status());
        assertEquals(403, Curl.run("-H", "X-Forwarded-For: 6.6.6.6", url("/get")).status());
        assertEquals(403, Curl.run("-H", "X-Forwarded-For: ::ffff:6.6.7.6", url("/get")).status());
    }

    /**
     * The matchers Istio writes for {@code methods} and {@code hosts} (":method" exact; ":authority"
     * exact and "host:" prefix, ignore_case), Envoy's "host" alias of ":authority", and a repeated
     * header seen as its values joined with "," (getAllOfHeaderAsString).
     */
    @Test
    void methodAuthorityAndRepeatedHeadersAsEnvoySeesThem() throws Exception {
        String rules = """
                rules:
                  action: ALLOW
                  policies:
                    get-example:
                      permissions:
                      - and_rules:
                          rules:
                          - header: {name: ":method", string_match: {exact: GET}}
                          - or_rules:
                              rules:
                              - header: {name: ":authority", string_match: {exact: example.com, ignore_case: true}}
                              - header: {name: ":authority", string_match: {prefix: "example.com:", ignore_case: true}}
                              - header: {name: Host, string_match: {exact: alias.example}}
                      principals: [{not_id: {header: {name: x-group, string_match: {exact: "a,b"}}}}]
                """;
        proxy = Proxy.start(BootstrapLoader.loadText(bootstrap(origin.port(), dir.resolve("a.log"), rules)), 1);
        assertEquals(200, Curl.run("-H", "Host: Example.COM", url("/get")).status());
        assertEquals(200, Curl.run("-H", "Host: example.com:8080", url("/get")).status(), "the port stays in :authority");
        assertEquals(200, Curl.run("-H", "Host: alias.example", url("/get")).status(), "host is :authority");
        assertEquals(403, Curl.run("-H", "Host: example.org", url("/get")).status());
        assertEquals(403, Curl.run("-X", "POST", "-H", "Host: example.com", url("/get")).status());
        assertEquals(200, Curl.run("-H", "Host: example.com", "-H", "X-Group: a", url("/get")).status());
        assertEquals(403, Curl.run("-H", "Host: example.com", "-H", "X-Group: a", "-H", "X-Group: b", url("/get")).status(),
                "two lines are one value \"a,b\"");
    }

    @Test
    void logActionNeverBlocks() throws Exception {
        String rules = """
                rules:
                  action: LOG
                  policies:
                    everything:
                      permissions: [{any: true}]
                      principals: [{any: true}]
                """;
        proxy = Proxy.start(BootstrapLoader.loadText(bootstrap(origin.port(), dir.resolve("a.log"), rules)), 1);
        assertEquals(200, Curl.run(url("/anything")).status());
        assertEquals(1, counter("http.ingress_http.rbac.allowed"));
        assertEquals(0, counter("http.ingress_http.rbac.denied"));
        String dump = Curl.run(admin("/config_dump")).body();
        assertTrue(dump.contains("\"@type\": \"type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC\""), dump);
        assertTrue(dump.contains("\"action\": \"LOG\""), dump);
    }

    @Test
    void rbacDebugLoggingSaysWhatWasDecidedOnWhichAddresses() throws Exception {
        proxy = Proxy.start(BootstrapLoader.loadText(bootstrap(origin.port(), dir.resolve("a.log"), RULES)), 1);
        List<String> messages = new CopyOnWriteArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                messages.add(r.getMessage());
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        Logger rbac = Logger.getLogger("io.sourcemesh.proxy.rbac");
        rbac.addHandler(capture);
        try {
            Curl.run("--interface", "127.0.0.43", url("/before"));
            assertEquals(List.of(), messages, "silent at the default level");
            String listing = Curl.run("-X", "POST", admin("/logging?rbac=debug")).body();
            assertTrue(listing.contains("  rbac: debug\n"), listing);
            assertEquals(403, Curl.run("--interface", "127.0.0.43", "-H", "X-Forwarded-For: 127.0.0.42", url("/private")).status());
            String all = String.join("\n", messages);
            assertTrue(all.contains("enforced denied, matched policy none"), all);
            assertTrue(all.contains("directRemoteIP: 127.0.0.43:"), all);
            assertTrue(all.contains("remoteIP: 127.0.0.43:"), "use_remote_address with 0 trusted hops ignores the forged XFF: " + all);
            assertTrue(all.contains("shadow allowed, matched policy none"), all);
        } finally {
            rbac.removeHandler(capture);
            Curl.run("-X", "POST", admin("/logging?rbac=info"));
        }
    }
}
