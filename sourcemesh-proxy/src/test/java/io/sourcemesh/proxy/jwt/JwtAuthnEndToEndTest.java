package io.sourcemesh.proxy.jwt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.LogFiles;
import io.sourcemesh.proxy.testing.Origin;
import io.sourcemesh.proxy.testing.TestJwts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * envoy.filters.http.jwt_authn end to end, configured as Istio's RequestAuthentication writes it (one provider
 * "origins-0", requires_any {provider, allow_missing}, the payload in metadata "payload") in front of the RBAC filter
 * as Istio's AuthorizationPolicy requestPrincipals and request.auth.claims write it: real curl, tokens signed by a key
 * made here, the 401s' bodies and WWW-Authenticate, what the app receives, the access log and the counters.
 */
class JwtAuthnEndToEndTest {
    private static final String ISS = "https://issuer.example";

    private Origin origin;
    private Proxy proxy;
    private TestJwts key;

    @TempDir
    Path dir;

    @BeforeEach
    void start() throws Exception {
        origin = Origin.start();
        key = TestJwts.rsa("k1");
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        origin.close();
    }

    private String bootstrap(Path log) {
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
                          use_remote_address: true
                          access_log:
                          - name: envoy.access_loggers.file
                            typed_config:
                              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                              path: @LOG@
                              log_format:
                                json_format:
                                  code: "%RESPONSE_CODE%"
                                  details: "%RESPONSE_CODE_DETAILS%"
                                  path: "%REQ(:PATH)%"
                                  sub: "%DYNAMIC_METADATA(envoy.filters.http.jwt_authn:payload:sub)%"
                          route_config:
                            virtual_hosts:
                            - name: all
                              domains: ["*"]
                              routes:
                              - match: {prefix: "/"}
                                route: {cluster: backend}
                          http_filters:
                          - name: envoy.filters.http.jwt_authn
                            typed_config:
                              "@type": type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication
                              providers:
                                origins-0:
                                  issuer: @ISS@
                                  audiences: [api.example]
                                  local_jwks:
                                    inline_string: '@JWKS@'
                                  forward_payload_header: x-jwt-payload
                                  payload_in_metadata: payload
                                  normalize_payload_in_metadata: {space_delimited_claims: [permission, scope]}
                                  claim_to_headers: [{header_name: x-jwt-sub, claim_name: sub}]
                              rules:
                              - match: {prefix: /}
                                requires:
                                  requires_any:
                                    requirements:
                                    - provider_name: origins-0
                                    - allow_missing: {}
                              bypass_cors_preflight: true
                          - name: envoy.filters.http.rbac
                            typed_config:
                              "@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC
                              rules:
                                action: ALLOW
                                policies:
                                  ns[demo]-policy[open]-rule[0]:
                                    permissions: [{url_path: {path: {prefix: /open}}}]
                                    principals: [{any: true}]
                                  ns[demo]-policy[users]-rule[0]:
                                    permissions: [{url_path: {path: {prefix: /secure}}}]
                                    principals:
                                    - and_ids:
                                        ids:
                                        - metadata:
                                            filter: envoy.filters.http.jwt_authn
                                            path: [{key: payload}, {key: iss}]
                                            value: {string_match: {exact: @ISS@}}
                                        - metadata:
                                            filter: envoy.filters.http.jwt_authn
                                            path: [{key: payload}, {key: sub}]
                                            value: {string_match: {exact: alice}}
                                  ns[demo]-policy[admins]-rule[0]:
                                    permissions: [{url_path: {path: {prefix: /admin}}}]
                                    principals:
                                    - metadata:
                                        filter: envoy.filters.http.jwt_authn
                                        path: [{key: payload}, {key: groups}]
                                        value:
                                          or_match:
                                            value_matchers:
                                            - list_match: {one_of: {or_match: {value_matchers: [{string_match: {exact: admin}}, {string_match: {exact: root}}]}}}
                                            - or_match: {value_matchers: [{string_match: {exact: admin}}, {string_match: {exact: root}}]}
                                  ns[demo]-policy[writers]-rule[0]:
                                    permissions: [{url_path: {path: {prefix: /write}}}]
                                    principals:
                                    - metadata:
                                        filter: envoy.filters.http.jwt_authn
                                        path: [{key: payload}, {key: scope}]
                                        value: {list_match: {one_of: {string_match: {exact: write}}}}
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
                """.replace("@LOG@", log.toString()).replace("@ORIGIN_PORT@", Integer.toString(origin.port()))
                .replace("@ISS@", ISS).replace("@JWKS@", key.jwks());
    }

    private String url(String path) {
        return "http://127.0.0.1:" + proxy.listenerAddress("http").getPort() + path;
    }

    private long counter(String name) {
        String stats = Curl.run("http://127.0.0.1:" + proxy.adminAddress().orElseThrow().getPort()
                + "/stats?filter=" + name.replace(".", "\\.") + "$").body();
        for (String line : stats.split("\n")) {
            if (line.startsWith(name + ": ")) {
                return Long.parseLong(line.substring(name.length() + 2).trim());
            }
        }
        throw new AssertionError(name + " not in /stats: " + stats);
    }

    private String token(String sub, String aud, long exp, String extra) {
        return key.sign(TestJwts.claims(ISS, sub, aud, exp, extra));
    }

    private Curl.Result bearer(String token, String path) {
        return Curl.run("-H", "Authorization: Bearer " + token, url(path));
    }

    @Test
    void requestPrincipalsAllowAValidTokenAndRefuseEveryBadOne() throws Exception {
        Path log = dir.resolve("access.log");
        proxy = Proxy.start(BootstrapLoader.loadText(bootstrap(log)), 1);

        assertEquals(200, Curl.run(url("/open")).status(), "no token: allow_missing lets it through to RBAC");
        Curl.Result noToken = Curl.run(url("/secure"));
        assertEquals(403, noToken.status(), "no token, no request principal: RBAC denies");
        assertEquals("RBAC: access denied", noToken.body());

        String good = token("alice", "api.example", 300, "");
        Curl.Result ok = Curl.run("-H", "Authorization: Bearer " + good, "-H", "x-jwt-sub: mallory", url("/secure"));
        assertEquals(200, ok.status(), ok.err());
        Origin.Seen seen = origin.last();
        assertNull(seen.header("authorization"), "forward unset: the token does not reach the app");
        assertEquals(good.split("\\.")[1], seen.header("x-jwt-payload"));
        assertEquals("alice", seen.header("x-jwt-sub"), "the claim, never the client's own header");
        assertEquals(403, bearer(token("bob", "api.example", 300, ""), "/secure").status(), "a valid token of another subject");

        Path headers = dir.resolve("headers");
        Curl.Result forged = Curl.run("-D", headers.toString(), "-H",
                "Authorization: Bearer " + TestJwts.rsa("k1").sign(TestJwts.claims(ISS, "alice", "api.example", 300, "")),
                url("/secure?x=1"));
        assertEquals(401, forged.status());
        assertEquals("Jwt verification fails", forged.body());
        String wwwAuthenticate = Files.readAllLines(headers).stream()
                .filter(l -> l.toLowerCase().startsWith("www-authenticate:")).findFirst().orElseThrow();
        assertEquals("www-authenticate: Bearer realm=\"http://127.0.0.1:" + proxy.listenerAddress("http").getPort()
                + "/secure?x=1\", error=\"invalid_token\"", wwwAuthenticate.strip());

        Curl.Result expired = bearer(token("alice", "api.example", -120, ""), "/secure");
        assertEquals(401, expired.status());
        assertEquals("Jwt is expired", expired.body());
        Curl.Result otherIssuer = bearer(key.sign(TestJwts.claims("https://other.example", "alice", "api.example", 300, "")), "/open");
        assertEquals(401, otherIssuer.status(), "an invalid token is refused even where RBAC would allow anyone");
        assertEquals("Jwt issuer is not configured", otherIssuer.body());
        Curl.Result otherAudience = bearer(token("alice", "other.example", 300, ""), "/secure");
        assertEquals(403, otherAudience.status());
        assertEquals("Audiences in Jwt are not allowed", otherAudience.body());
        Curl.Result garbage = bearer("not-a-token", "/open");
        assertEquals(401, garbage.status());
        assertEquals("Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections", garbage.body());

        Curl.Result inQuery = Curl.run(url("/secure?access_token=" + good));
        assertEquals(200, inQuery.status(), "Envoy's default locations include the access_token parameter");
        assertEquals(401, Curl.run(url("/secure?access_token=" + good.substring(0, good.length() - 4) + "AAAA")).status());

        assertEquals(200, Curl.run("-X", "OPTIONS", "-H", "Origin: https://a.example", "-H", "Access-Control-Request-Method: GET",
                "-H", "Authorization: Bearer garbage", url("/open")).status(), "bypass_cors_preflight");

        long requests = 12;
        List<String> lines = LogFiles.awaitLines(log, (int) requests);
        ObjectMapper json = new ObjectMapper();
        JsonNode forgedLine = lines.stream().map(l -> read(json, l)).filter(l -> l.get("path").asText().equals("/secure?x=1"))
                .findFirst().orElseThrow();
        assertEquals("jwt_authn_access_denied{Jwt_verification_fails}", forgedLine.get("details").asText());
        assertTrue(forgedLine.get("sub").isNull(), "a refused token leaves no metadata");
        assertEquals(List.of("alice"), lines.stream().map(l -> read(json, l)).filter(l -> l.get("path").asText().equals("/secure")
                && l.get("code").asInt() == 200).map(l -> l.get("sub").asText()).toList(),
                "the verified payload, in the stream's dynamic metadata, reaches the access log");
        assertEquals(6, counter("http.ingress_http.jwt_authn.denied"));
        assertEquals(6, counter("http.ingress_http.jwt_authn.allowed"));
        assertEquals(1, counter("http.ingress_http.jwt_authn.cors_preflight_bypassed"));
    }

    @Test
    void claimsReachRbacAsIstiosWhenKeysReadThem() throws Exception {
        proxy = Proxy.start(BootstrapLoader.loadText(bootstrap(dir.resolve("a.log"))), 1);
        assertEquals(200, bearer(token("a", "api.example", 300, "\"groups\":[\"dev\",\"admin\"]"), "/admin").status(), "a list claim");
        assertEquals(200, bearer(token("a", "api.example", 300, "\"groups\":\"root\""), "/admin").status(), "a string claim");
        assertEquals(403, bearer(token("a", "api.example", 300, "\"groups\":[\"dev\"]"), "/admin").status());
        assertEquals(403, bearer(token("a", "api.example", 300, ""), "/admin").status(), "no such claim");
        assertEquals(403, Curl.run(url("/admin")).status(), "no token");
        assertEquals(200, bearer(token("a", "api.example", 300, "\"scope\":\"read write\""), "/write").status(),
                "a space-delimited scope is a list in the metadata");
        assertEquals(403, bearer(token("a", "api.example", 300, "\"scope\":\"read writer\""), "/write").status());
        assertTrue(origin.seen().stream().allMatch(s -> s.uri().equals("/admin") || s.uri().equals("/write")));
    }

    @Test
    void aTokenInANamedCookieIsVerifiedAndTheCookieReachesTheApp() throws Exception {
        String yaml = bootstrap(dir.resolve("c.log")).replaceFirst("( +)(claim_to_headers: .*)\n", "$1$2\n$1from_cookies: [session]\n");
        proxy = Proxy.start(BootstrapLoader.loadText(yaml), 1);
        String good = token("alice", "api.example", 300, "");
        assertEquals(200, Curl.run("-b", "theme=dark; session=" + good, url("/secure")).status());
        assertEquals("alice", origin.last().header("x-jwt-sub"));
        assertTrue(origin.last().header("cookie").contains("session=" + good), "Envoy leaves a cookie token in place");
        Curl.Result forged = Curl.run("-b", "session=" + TestJwts.rsa("k1").sign(TestJwts.claims(ISS, "alice", "api.example", 300, "")),
                url("/secure"));
        assertEquals(401, forged.status());
        assertEquals("Jwt verification fails", forged.body());
        assertEquals(403, bearer(good, "/secure").status(), "only the cookie is read now: the bearer header is no token");
    }

    @Test
    void anHmacKeySetVerifiesHsTokensThroughTheProxy() throws Exception {
        key = TestJwts.hmac("HS384", "shared");
        proxy = Proxy.start(BootstrapLoader.loadText(bootstrap(dir.resolve("h.log"))), 1);
        assertEquals(200, bearer(token("alice", "api.example", 300, ""), "/secure").status());
        assertEquals("alice", origin.last().header("x-jwt-sub"));
        Curl.Result otherSecret = bearer(TestJwts.hmac("HS384", "shared").sign(TestJwts.claims(ISS, "alice", "api.example", 300, "")),
                "/secure");
        assertEquals(401, otherSecret.status());
        assertEquals("Jwt verification fails", otherSecret.body());
        Curl.Result rsa = bearer(TestJwts.rsa("shared").sign(TestJwts.claims(ISS, "alice", "api.example", 300, "")), "/secure");
        assertEquals(401, rsa.status());
        assertEquals("Jwks doesn't have key to match kid or alg from Jwt", rsa.body());
    }

    private static JsonNode read(ObjectMapper json, String line) {
        try {
            return json.readTree(line);
        } catch (Exception e) {
            throw new AssertionError(line, e);
        }
    }
}
