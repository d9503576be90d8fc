package io.sourcemesh.proxy.config;

import static io.sourcemesh.proxy.config.Bootstraps.HCM;
import static io.sourcemesh.proxy.config.Bootstraps.hcm;
import static io.sourcemesh.proxy.config.Bootstraps.loadHcm;
import static io.sourcemesh.proxy.config.Bootstraps.rejects;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.sourcemesh.proxy.jwt.JwtAuthnConfig;
import io.sourcemesh.proxy.jwt.JwtProvider;
import io.sourcemesh.proxy.jwt.JwtRequirement;
import io.sourcemesh.proxy.jwt.RemoteJwks;
import io.sourcemesh.proxy.testing.TestJwts;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** envoy.filters.http.jwt_authn from YAML: Istio's shape translated, the rest refused by path. */
class JwtAuthnTranslationTest {
    private static final String TYPE = "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication";
    private static final String F = HCM + ".http_filters[0].typed_config";
    private static final String JWKS = TestJwts.rsa("k1").jwks();

    static String jwt(String body) {
        return hcm("http_filters:\n- name: envoy.filters.http.jwt_authn\n  typed_config:\n    \"@type\": " + TYPE + "\n"
                + body.indent(4) + "- name: envoy.filters.http.router\n");
    }

    private static String provider(String fields) {
        return "providers:\n  origins-0:\n    issuer: iss\n    local_jwks: {inline_string: '" + JWKS + "'}\n" + fields.indent(4)
                + "rules:\n- match: {prefix: /}\n  requires: {requires_any: {requirements: [{provider_name: origins-0}, {allow_missing: {}}]}}\n";
    }

    @Test
    void istiosRequestAuthenticationShape() {
        HttpConnectionManagerConfig h = loadHcm(jwt(provider("""
                audiences: [a, b]
                forward: true
                from_headers: [{name: X-Jwt, value_prefix: "Token "}]
                from_params: [token]
                forward_payload_header: X-Payload
                payload_in_metadata: payload
                normalize_payload_in_metadata: {space_delimited_claims: [permission, scope]}
                claim_to_headers: [{header_name: X-Sub, claim_name: sub}]
                clock_skew_seconds: 5
                """) + "bypass_cors_preflight: true\n"));
        JwtAuthnConfig c = assertInstanceOf(HttpFilterConfig.JwtAuthn.class, h.httpFilters().get(0)).jwt();
        JwtProvider p = c.providers().get("origins-0");
        assertEquals(List.of("a", "b"), p.audiences());
        assertEquals(List.of(new JwtProvider.HeaderLocation("x-jwt", "Token ")), p.fromHeaders());
        assertEquals(List.of("token"), p.fromParams());
        assertEquals("x-payload", p.forwardPayloadHeader());
        assertEquals(Set.of("permission", "scope"), p.spaceDelimitedClaims());
        assertEquals(List.of(new JwtProvider.ClaimToHeader("x-sub", "sub")), p.claimToHeaders());
        assertEquals(5, p.clockSkewSeconds());
        assertEquals(true, p.forward());
        assertEquals(true, c.bypassCorsPreflight());
        JwtRequirement.Any any = assertInstanceOf(JwtRequirement.Any.class, c.rules().get(0).requirement());
        assertEquals(new JwtRequirement.Provider(p, List.of()), any.requirements().get(0));
        assertEquals(new JwtRequirement.AllowMissing(List.of(p), false), any.requirements().get(1),
                "allow_missing reads its sibling providers' locations");
        assertEquals(60, ((HttpFilterConfig.JwtAuthn) loadHcm(jwt(provider(""))).httpFilters().get(0)).jwt()
                .providers().get("origins-0").clockSkewSeconds(), "Envoy's default skew");
        RemoteJwks r = ((HttpFilterConfig.JwtAuthn) loadHcm(jwt("providers:\n  origins-0:\n    issuer: iss\n    remote_jwks: "
                + "{http_uri: {uri: \"https://keys.example:8443/a/jwks.json?v=2\", cluster: keys, timeout: 2s}, cache_duration: 300s, "
                + "async_fetch: {fast_listener: true}, retry_policy: {num_retries: 3, retry_back_off: {base_interval: 0.1s}}}\n"))
                .httpFilters().get(0)).jwt().providers().get("origins-0").remoteJwks();
        assertEquals("/a/jwks.json?v=2", r.pathAndQuery());
        assertEquals("keys.example:8443", r.authority());
        assertEquals("keys", r.cluster());
        assertEquals(java.time.Duration.ofSeconds(2), r.timeout());
        assertEquals(java.time.Duration.ofMinutes(5), r.cacheDuration());
        assertEquals(new RemoteJwks.AsyncFetch(java.time.Duration.ofSeconds(1)), r.asyncFetch(), "Envoy's 1 s failed_refetch_duration");
        assertEquals(new RemoteJwks.Retry(3, java.time.Duration.ofMillis(100), java.time.Duration.ofSeconds(1)), r.retry());
        assertEquals(RemoteJwks.DEFAULT_CACHE_DURATION, ((HttpFilterConfig.JwtAuthn) loadHcm(jwt("providers:\n  origins-0:\n"
                + "    remote_jwks: {http_uri: {uri: \"http://k/\", cluster: keys, timeout: 2s}}\n")).httpFilters().get(0)).jwt()
                .providers().get("origins-0").remoteJwks().cacheDuration(), "Envoy's 10 minutes");
        assertEquals(List.of("session", "jwt"), ((HttpFilterConfig.JwtAuthn) loadHcm(jwt(provider("from_cookies: [session, jwt]\n")))
                .httpFilters().get(0)).jwt().providers().get("origins-0").fromCookies());
    }

    @Test
    void refusesWhatItDoesNotImplementByPath() {
        String p = F + ".providers.origins-0";
        String remote = "providers:\n  origins-0:\n    issuer: iss\n    remote_jwks: {http_uri: {uri: \"http://a/\", cluster: c, timeout: 1s}";
        rejects(jwt(remote + ", async_fetch: {}}\n"), p + ".remote_jwks.async_fetch.fast_listener: must be true: a listener here "
                + "does not wait for its JWKS fetch (Envoy's init manager); the fetch starts when the proxy serves the config");
        rejects(jwt(remote + ", retry_policy: {retry_on: \"5xx,retriable-4xx\"}}\n"), p + ".remote_jwks.retry_policy.retry_on: "
                + "\"retriable-4xx\" is not supported (only 5xx, gateway-error, connect-failure and reset, which a JWKS fetch retries on)");
        rejects(jwt(remote + ", retry_policy: {host_selection_retry_max_attempts: 2}}\n"), p + ".remote_jwks.retry_policy."
                + "host_selection_retry_max_attempts: field is not supported");
        rejects(jwt(remote.replace("cluster: c, ", "") + "}\n"), p + ".remote_jwks.http_uri.cluster: is required");
        rejects(jwt(remote.replace(", timeout: 1s", "") + "}\n"), p + ".remote_jwks.http_uri.timeout: is required");
        rejects(jwt("providers:\n  origins-0:\n    issuer: iss\n"), p + ": local_jwks or remote_jwks is required");
        rejects(jwt(provider("from_cookies: [session, \"\"]\n")), p + ".from_cookies[1]: must not be empty");
        rejects(jwt(provider("header_in_metadata: h\n")), p + ".header_in_metadata: field is not supported");
        rejects(jwt(provider("clear_route_cache: true\n")), p + ".clear_route_cache: field is not supported");
        rejects(jwt(provider("") + "requirement_map: {r: {provider_name: origins-0}}\n"), F + ".requirement_map: field is not supported");
        rejects(jwt(provider("").replace(JWKS, "{\"keys\":[{\"kty\":\"oct\"}]}")),
                p + ".local_jwks.inline_string: keys[0]: [k] field is missing for an HMAC key");
        rejects(jwt(provider("").replace("provider_name: origins-0", "provider_name: nobody")),
                F + ".rules[0].requires.requires_any.requirements[0]: Required provider ['nobody'] is not configured.");
        rejects(jwt(provider("").replace("{prefix: /}", "{safe_regex: {regex: \"/.*\"}}")), F + ".rules[0].match.safe_regex: field is not supported");
    }
}
