package io.sourcemesh.proxy.jwt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.proxy.testing.TestJwts;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** The verifier on its own: every algorithm with a key made here, the time and audience checks, Istio's requirement shape. */
class JwtVerifierTest {
    private static final String ISS = "https://issuer.example";

    private static long now() {
        return System.currentTimeMillis() / 1000;
    }

    /** A request's headers and query parameters, changed in place as the filter's view changes the real one. */
    static final class Request implements JwtRequestView {
        final Map<String, List<String>> headers = new LinkedHashMap<>();
        final Map<String, List<String>> params = new LinkedHashMap<>();

        Request header(String name, String value) {
            headers.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
            return this;
        }

        Request param(String name, String value) {
            params.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
            return this;
        }

        @Override
        public List<String> headers(String name) {
            return headers.getOrDefault(name, List.of());
        }

        @Override
        public void removeHeader(String name) {
            headers.remove(name);
        }

        @Override
        public void addHeader(String name, String value) {
            header(name, value);
        }

        @Override
        public List<String> queryParameter(String name) {
            return params.getOrDefault(name, List.of());
        }
    }

    static JwtProvider provider(String name, String issuer, List<String> audiences, String jwks) {
        return new JwtProvider(name, issuer, audiences, Jwks.parse(jwks), null, List.of(), List.of(), List.of(), false, "", "payload",
                Set.of("scope"), List.of(), 60);
    }

    /** Istio's one-provider shape: requires_any {provider, allow_missing}. */
    static JwtRequirement istio(JwtProvider p) {
        return new JwtRequirement.Any(List.of(new JwtRequirement.Provider(p, List.of()),
                new JwtRequirement.AllowMissing(List.of(p), false)));
    }

    private static JwtVerifier.Result bearer(JwtRequirement r, String token) {
        return JwtVerifier.verify(r, new Request().header("authorization", "Bearer " + token), now());
    }

    @ParameterizedTest
    @ValueSource(strings = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "HS256", "HS384",
            "HS512"})
    void verifiesEveryAlgorithmAndRefusesAnotherKeysSignature(String alg) {
        TestJwts key = TestJwts.generate(alg, "k1");
        TestJwts forger = TestJwts.generate(alg, "k1");
        JwtRequirement r = istio(provider("p", ISS, List.of(), key.jwks()));
        String claims = TestJwts.claims(ISS, "alice", null, 300, "");
        JwtVerifier.Result ok = bearer(r, key.sign(claims));
        assertEquals(JwtStatus.OK, ok.status());
        assertEquals("alice", ok.metadata().get("payload").get("sub").asText());
        assertEquals(JwtStatus.JWT_VERIFICATION_FAIL, bearer(r, forger.sign(claims)).status());
    }

    @Test
    void aMissingTokenPassesAllowMissingAndFailsAProviderAlone() {
        TestJwts key = TestJwts.rsa("k1");
        JwtProvider p = provider("p", ISS, List.of(), key.jwks());
        JwtVerifier.Result none = JwtVerifier.verify(istio(p), new Request(), now());
        assertEquals(JwtStatus.OK, none.status());
        assertNull(none.metadata(), "nothing verified, no metadata");
        assertEquals(JwtStatus.JWT_MISSED,
                JwtVerifier.verify(new JwtRequirement.Provider(p, List.of()), new Request(), now()).status());
    }

    @Test
    void timeIsCheckedWithTheClockSkew() {
        TestJwts key = TestJwts.rsa("k1");
        JwtRequirement r = istio(provider("p", ISS, List.of(), key.jwks()));
        assertEquals(JwtStatus.JWT_EXPIRED, bearer(r, key.sign(TestJwts.claims(ISS, "a", null, -61, ""))).status());
        assertEquals(JwtStatus.OK, bearer(r, key.sign(TestJwts.claims(ISS, "a", null, -30, ""))).status(), "within 60 s of skew");
        assertEquals(JwtStatus.JWT_NOT_YET_VALID,
                bearer(r, key.sign(TestJwts.claims(ISS, "a", null, 600, "\"nbf\":" + (now() + 120)))).status());
        assertEquals(JwtStatus.OK, bearer(r, key.sign(TestJwts.claims(ISS, "a", null, 600, "\"nbf\":" + (now() + 30)))).status());
    }

    @Test
    void issuerAndAudiencesAreChecked() {
        TestJwts key = TestJwts.rsa("k1");
        JwtRequirement r = istio(provider("p", ISS, List.of("https://api.example/"), key.jwks()));
        assertEquals(JwtStatus.JWT_UNKNOWN_ISSUER, bearer(r, key.sign(TestJwts.claims("other", "a", "api.example", 300, ""))).status());
        assertEquals(JwtStatus.JWT_AUDIENCE_NOT_ALLOWED, bearer(r, key.sign(TestJwts.claims(ISS, "a", "other", 300, ""))).status());
        assertEquals(JwtStatus.JWT_AUDIENCE_NOT_ALLOWED, bearer(r, key.sign(TestJwts.claims(ISS, "a", null, 300, ""))).status());
        // Envoy's CheckAudience drops the scheme and a trailing slash on both sides.
        assertEquals(JwtStatus.OK, bearer(r, key.sign(TestJwts.claims(ISS, "a", "http://api.example", 300, ""))).status());
        assertEquals(JwtStatus.OK, bearer(r, key.sign(TestJwts.claims(ISS, "a", null, 300, "\"aud\":[\"x\",\"api.example\"]")))
                .status(), "one of a list");
    }

    @Test
    void malformedTokensGetEnvoysReasons() {
        TestJwts key = TestJwts.rsa("k1");
        JwtRequirement r = istio(provider("p", ISS, List.of(), key.jwks()));
        String claims = TestJwts.claims(ISS, "a", null, 300, "");
        assertEquals(JwtStatus.JWT_BAD_FORMAT, bearer(r, "abc.def").status());
        assertEquals(JwtStatus.JWT_HEADER_NOT_IMPLEMENTED_ALG, bearer(r, key.sign("{\"alg\":\"none\"}", claims)).status());
        assertEquals(JwtStatus.JWKS_KID_ALG_MISMATCH, bearer(r, key.sign("{\"alg\":\"HS256\"}", claims)).status(),
                "HS256 is verified, but an RSA key set has no oct key for it");
        assertEquals(JwtStatus.JWT_HEADER_BAD_ALG, bearer(r, key.sign("{\"typ\":\"JWT\"}", claims)).status());
        assertEquals(JwtStatus.JWT_PAYLOAD_EXP_NOT_INTEGER,
                bearer(r, key.sign("{\"iss\":\"" + ISS + "\",\"exp\":\"soon\"}")).status());
        assertEquals(JwtStatus.JWKS_KID_ALG_MISMATCH, bearer(r, key.sign("{\"alg\":\"RS256\",\"kid\":\"k2\"}", claims)).status());
        assertEquals(JwtStatus.JWKS_KID_ALG_MISMATCH, bearer(r, key.sign("{\"alg\":\"ES256\",\"kid\":\"k1\"}", claims)).status());
    }

    @Test
    void aVerifiedTokenLeavesThePayloadAndHeadersAsTheProviderSays() {
        TestJwts key = TestJwts.rsa("k1");
        JwtProvider p = new JwtProvider("p", ISS, List.of(), Jwks.parse(key.jwks()), null, List.of(), List.of(), List.of(), false,
                "x-jwt-payload",
                "payload", Set.of("scope"), List.of(new JwtProvider.ClaimToHeader("x-tenant", "org.tenant")), 60);
        String token = key.sign(TestJwts.claims(ISS, "a", null, 300, "\"scope\":\"read  write\",\"org\":{\"tenant\":\"t1\"}"));
        Request req = new Request().header("authorization", "Bearer " + token).header("x-jwt-payload", "forged");
        JwtVerifier.sanitize(List.of(p), req);
        JwtVerifier.Result res = JwtVerifier.verify(istio(p), req, now());
        assertEquals(JwtStatus.OK, res.status());
        JsonNode scope = res.metadata().get("payload").get("scope");
        assertTrue(scope.isArray(), "space-delimited claims become lists: " + scope);
        assertEquals(List.of("read", "write"), List.of(scope.get(0).asText(), scope.get(1).asText()));
        assertEquals(List.of(token.split("\\.")[1]), req.headers("x-jwt-payload"), "the client's own value is gone");
        assertEquals(List.of("t1"), req.headers("x-tenant"));
        assertEquals(List.of(), req.headers("authorization"), "forward: false removes the token");
    }

    @Test
    void aQueryParameterTokenIsReadAndStays() {
        TestJwts key = TestJwts.rsa("k1");
        JwtProvider p = provider("p", ISS, List.of(), key.jwks());
        Request req = new Request().param("access_token", key.sign(TestJwts.claims(ISS, "a", null, 300, "")));
        assertEquals(JwtStatus.OK, JwtVerifier.verify(istio(p), req, now()).status());
        assertEquals(JwtStatus.JWT_VERIFICATION_FAIL, JwtVerifier.verify(istio(p),
                new Request().param("access_token", TestJwts.rsa("k1").sign(TestJwts.claims(ISS, "a", null, 300, ""))), now()).status());
    }

    @Test
    void istiosTwoProviderShapeTakesEitherAndRefusesABadOne() {
        TestJwts k1 = TestJwts.rsa("k1");
        TestJwts k2 = TestJwts.generate("ES256", "k2");
        JwtProvider p1 = provider("origins-0", "iss-1", List.of(), k1.jwks());
        JwtProvider p2 = provider("origins-1", "iss-2", List.of(), k2.jwks());
        JwtRequirement inner1 = new JwtRequirement.Any(List.of(new JwtRequirement.Provider(p1, List.of()),
                new JwtRequirement.AllowMissing(List.of(p1), false)));
        JwtRequirement inner2 = new JwtRequirement.Any(List.of(new JwtRequirement.Provider(p2, List.of()),
                new JwtRequirement.AllowMissing(List.of(p2), false)));
        JwtRequirement r = new JwtRequirement.Any(List.of(new JwtRequirement.Provider(p1, List.of()),
                new JwtRequirement.Provider(p2, List.of()), new JwtRequirement.All(List.of(inner1, inner2))));
        assertEquals(JwtStatus.OK, bearer(r, k1.sign(TestJwts.claims("iss-1", "a", null, 300, ""))).status());
        assertEquals(JwtStatus.OK, bearer(r, k2.sign(TestJwts.claims("iss-2", "a", null, 300, ""))).status());
        assertEquals(JwtStatus.OK, JwtVerifier.verify(r, new Request(), now()).status());
        assertEquals(JwtStatus.JWT_UNKNOWN_ISSUER, bearer(r, k2.sign(TestJwts.claims("iss-3", "a", null, 300, ""))).status());
        // Envoy's AnyVerifier answers with its last child's status: the requires_all, whose first part (provider 1 or
        // allow_missing) already fails on the issuer.
        assertEquals(JwtStatus.JWT_UNKNOWN_ISSUER, bearer(r, k1.sign(TestJwts.claims("iss-2", "a", null, 300, ""))).status());
        JwtRequirement alone = new JwtRequirement.Provider(p2, List.of());
        assertEquals(JwtStatus.JWKS_KID_ALG_MISMATCH, bearer(alone, k1.sign(TestJwts.claims("iss-2", "a", null, 300, ""))).status());
    }

    @Test
    void tokensAreReadFromTheNamedCookiesAsEnvoysParseCookies() {
        TestJwts key = TestJwts.rsa("k1");
        JwtProvider p = new JwtProvider("p", ISS, List.of(), Jwks.parse(key.jwks()), null, List.of(), List.of(), List.of("session", "jwt"),
                false, "", "payload", Set.of(), List.of(), 60);
        JwtRequirement r = new JwtRequirement.Provider(p, List.of());
        String good = key.sign(TestJwts.claims(ISS, "alice", null, 300, ""));
        String forged = TestJwts.rsa("k1").sign(TestJwts.claims(ISS, "alice", null, 300, ""));
        Request quoted = new Request().header("cookie", "theme=dark;  session=\"" + good + "\"; other=1");
        JwtVerifier.Result ok = JwtVerifier.verify(r, quoted, now());
        assertEquals(JwtStatus.OK, ok.status());
        assertEquals(List.of("theme=dark;  session=\"" + good + "\"; other=1"), quoted.headers("cookie"),
                "forward: false does not remove a cookie (Envoy's JwtCookieLocation leaves it)");
        assertEquals(JwtStatus.OK, JwtVerifier.verify(r, new Request().header("cookie", "a=1").header("cookie", "jwt=" + good), now())
                .status(), "every Cookie header is read");
        assertEquals(JwtStatus.JWT_VERIFICATION_FAIL, JwtVerifier.verify(r,
                new Request().header("cookie", "session=" + forged + "; session=" + good), now()).status(), "the first of a name wins");
        assertEquals(JwtStatus.JWT_MISSED, JwtVerifier.verify(r, new Request().header("authorization", "Bearer " + good)
                .param("access_token", good).header("cookie", "sessions=" + good + "; xsession=" + good), now()).status(),
                "cookies configured: the default header and parameter are not read, and names match exactly");
        // A cookie and a header both read: any token that verifies will do (Envoy's authenticator tries each in turn).
        JwtProvider both = new JwtProvider("p", ISS, List.of(), Jwks.parse(key.jwks()), null, List.of(JwtProvider.DEFAULT_HEADER), List.of(),
                List.of("session"), false, "", "payload", Set.of(), List.of(), 60);
        assertEquals(JwtStatus.OK, JwtVerifier.verify(new JwtRequirement.Provider(both, List.of()),
                new Request().header("authorization", "Bearer " + good).header("cookie", "session=" + forged), now()).status());
        assertEquals(JwtStatus.OK, JwtVerifier.verify(new JwtRequirement.Provider(both, List.of()),
                new Request().header("authorization", "Bearer " + forged).header("cookie", "session=" + good), now()).status());
    }

    @Test
    void missingRemoteKeysAreFoundWithoutTouchingTheRequestAndFailAsEnvoysFetch() {
        TestJwts key = TestJwts.rsa("k1");
        RemoteJwks remote = new RemoteJwks(java.net.URI.create("http://keys.example/jwks"), "keys", java.time.Duration.ofSeconds(1),
                RemoteJwks.DEFAULT_CACHE_DURATION, null, null);
        JwtProvider p = new JwtProvider("p", ISS, List.of("api"), null, remote, List.of(), List.of(), List.of(), false, "x-payload",
                "payload", Set.of(), List.of(), 60);
        JwtRequirement r = istio(p);
        JwtVerifier.Keys none = provider -> null;
        String good = key.sign(TestJwts.claims(ISS, "a", "api", 300, ""));
        Request req = new Request().header("authorization", "Bearer " + good);
        assertEquals(Set.of("p"), JwtVerifier.missingKeys(r, req, now(), none));
        assertEquals(List.of("Bearer " + good), req.headers("authorization"), "the dry run changes nothing");
        // As Envoy's authenticator, a token failing before the signature check needs no keys.
        assertEquals(Set.of(), JwtVerifier.missingKeys(r, new Request().header("authorization", "Bearer "
                + key.sign(TestJwts.claims("https://other.example", "a", "api", 300, ""))), now(), none));
        assertEquals(Set.of(), JwtVerifier.missingKeys(r, new Request().header("authorization", "Bearer "
                + key.sign(TestJwts.claims(ISS, "a", "other", 300, ""))), now(), none), "audience refused first");
        assertEquals(Set.of(), JwtVerifier.missingKeys(r, new Request(), now(), none), "no token");
        assertEquals(JwtStatus.JWKS_FETCH_FAIL, JwtVerifier.verify(r, req, now(), none).status());
        assertEquals("Jwks remote fetch is failed", JwtStatus.JWKS_FETCH_FAIL.message());
        JwtVerifier.Result ok = JwtVerifier.verify(r, req, now(), provider -> Jwks.parse(key.jwks()));
        assertEquals(JwtStatus.OK, ok.status());
        assertEquals(List.of(good.split("\\.")[1]), req.headers("x-payload"));
    }

    @Test
    void hmacKeysAreMatchedByAlgAndTheMacMustBeWhole() {
        TestJwts key = TestJwts.hmac("HS256", "k1");
        String claims = TestJwts.claims(ISS, "alice", null, 300, "");
        String token = key.sign(claims);
        JwtRequirement r = istio(provider("p", ISS, List.of(), key.jwks()));
        assertEquals(JwtStatus.OK, bearer(r, token).status());
        String mac = token.substring(token.lastIndexOf('.') + 1);
        String flipped = token.substring(0, token.lastIndexOf('.') + 1) + (mac.charAt(0) == 'A' ? 'B' : 'A') + mac.substring(1);
        assertEquals(JwtStatus.JWT_VERIFICATION_FAIL, bearer(r, flipped).status());
        assertEquals(JwtStatus.JWT_VERIFICATION_FAIL, bearer(r, token.substring(0, token.length() - 4)).status(),
                "a truncated MAC is not a prefix match");
        // The key says HS256: a token claiming HS512 does not reach it.
        TestJwts other = TestJwts.hmac("HS512", "k1");
        assertEquals(JwtStatus.JWKS_KID_ALG_MISMATCH, bearer(r, other.sign(claims)).status());
        // Without alg in the JWK, any HS* the token names is tried with the secret (jwt_verify_lib's verify.cc).
        String noAlg = key.jwks().replace("\"alg\":\"HS256\",", "");
        JwtRequirement loose = istio(provider("p", ISS, List.of(), noAlg));
        assertEquals(JwtStatus.OK, bearer(loose, token).status());
        assertEquals(JwtStatus.JWT_VERIFICATION_FAIL, bearer(loose, other.sign(claims)).status());
    }

    @Test
    void hmacKeyFieldsAreCheckedAsEnvoysLibrary() {
        assertEquals(1, Jwks.parse("{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}]}").keys().size());
        assertEquals("keys[0]: [k] field is missing for an HMAC key",
                assertThrows(IllegalArgumentException.class, () -> Jwks.parse("{\"keys\":[{\"kty\":\"oct\"}]}")).getMessage());
        assertEquals("keys[0]: [k] field is not string for an HMAC key", assertThrows(IllegalArgumentException.class,
                () -> Jwks.parse("{\"keys\":[{\"kty\":\"oct\",\"k\":7}]}")).getMessage());
        assertEquals("keys[0]: [alg] does not start with [HS] for an HMAC key", assertThrows(IllegalArgumentException.class,
                () -> Jwks.parse("{\"keys\":[{\"kty\":\"oct\",\"alg\":\"RS256\",\"k\":\"c2VjcmV0\"}]}")).getMessage());
        assertEquals("keys[0]: Jwks Oct key is an invalid Base64", assertThrows(IllegalArgumentException.class,
                () -> Jwks.parse("{\"keys\":[{\"kty\":\"oct\",\"k\":\"\"}]}")).getMessage());
    }

    @Test
    void aKeySetItCannotUseIsRefusedWhole() {
        assertThrows(IllegalArgumentException.class, () -> Jwks.parse("{\"keys\":[{\"kty\":\"oct\"}]}"));
        assertThrows(IllegalArgumentException.class, () -> Jwks.parse("{\"keys\":[]}"));
        assertThrows(IllegalArgumentException.class, () -> Jwks.parse("{\"keys\":[{\"kty\":\"RSA\",\"e\":\"AQAB\"}]}"));
        assertThrows(IllegalArgumentException.class, () -> Jwks.parse("not json"));
        // Istio's fail-closed key set after a failed fetch: a valid RSA key nobody can sign for.
        Jwks.parse("""
                {"keys":[{"kty":"RSA","e":"AQAB","n":"0xObjM0UvS_oaazjpEYlAbwctEJ4L8pH3OuTb7qth7gUwqet-EzQB4dgFdvSdMgrLnSncQGRjpEYz3F3viIbH-3EN3TxSlPNviHxeOdyiBVfumN8dMxbLvVJUpfNOnvmMxJcl-8NNjAwcOjk4otSALaYgYYyOPyvKtgVdrQr-FoubWX4yrjxW-MJ2-7OBeepUUNOsVwGV23YX03sVkkyvY3otRflkBcY3_HKpBxJl9wk2GyOShN4_PNUF9-vwfnvOXMbCDX-w4PTef4geeb_GiT40YCKHTKMSPVanGRn5GExIWmki-mmqh94-mPTJyBR74ShspL3BxPZitDL574T1w"}]}
                """);
    }
}
