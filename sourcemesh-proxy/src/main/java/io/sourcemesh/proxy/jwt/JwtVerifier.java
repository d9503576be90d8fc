package io.sourcemesh.proxy.jwt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Verifies one request against a requirement as Envoy's jwt_authn verifier and authenticator do, synchronously, with
 * the keys a {@link Keys} has now (a remote provider's may be missing: {@link #missingKeys} finds which a request
 * needs, so the filter fetches them first): tokens from the providers' locations, each parsed, its issuer among those that share the location,
 * nbf/exp with the provider's clock skew, audiences (scheme and trailing '/' ignored, as Envoy's CheckAudience), then
 * the signature with the keys whose kid and alg fit. A verified token's payload goes into the result's metadata under
 * the provider's {@code payload_in_metadata}, and its headers are changed as the provider says.
 */
public final class JwtVerifier {

    /** The outcome: OK, or why not; {@code metadata} the {@code envoy.filters.http.jwt_authn} struct (null: none). */
    public record Result(JwtStatus status, ObjectNode metadata) {}

    /** A provider's keys as they are now: its local_jwks, or what was fetched of its remote_jwks (null: none). */
    @FunctionalInterface
    public interface Keys {
        Jwks of(JwtProvider provider);

        /** Each provider's local_jwks. */
        Keys LOCAL = JwtProvider::jwks;
    }

    private JwtVerifier() {}

    /** With local keys only; {@code nowSeconds}: the wall clock in Unix seconds. */
    public static Result verify(JwtRequirement requirement, JwtRequestView request, long nowSeconds) {
        return verify(requirement, request, nowSeconds, Keys.LOCAL);
    }

    /** A provider without keys fails its token with Envoy's "Jwks remote fetch is failed". */
    public static Result verify(JwtRequirement requirement, JwtRequestView request, long nowSeconds, Keys keys) {
        Context c = new Context(request, nowSeconds, keys);
        JwtStatus s = c.run(requirement);
        return new Result(s, s == JwtStatus.OK ? c.metadata : null);
    }

    /**
     * The providers (by name) whose keys this request's verification would reach for and not find, found by a run that
     * changes nothing: as Envoy's authenticator fetches, only for a token that passed issuer, time and audience checks.
     */
    public static Set<String> missingKeys(JwtRequirement requirement, JwtRequestView request, long nowSeconds, Keys keys) {
        JwtRequestView readOnly = new JwtRequestView() {
            @Override
            public List<String> headers(String name) {
                return request.headers(name);
            }

            @Override
            public void removeHeader(String name) {}

            @Override
            public void addHeader(String name, String value) {}

            @Override
            public List<String> queryParameter(String name) {
                return request.queryParameter(name);
            }
        };
        Context c = new Context(readOnly, nowSeconds, keys);
        c.run(requirement);
        return c.missing;
    }

    /** Removes, before anything is verified, what a client might have sent in the headers the providers write. */
    public static void sanitize(Iterable<JwtProvider> providers, JwtRequestView request) {
        for (JwtProvider p : providers) {
            if (!p.forwardPayloadHeader().isEmpty()) {
                request.removeHeader(p.forwardPayloadHeader());
            }
            for (JwtProvider.ClaimToHeader c : p.claimToHeaders()) {
                request.removeHeader(c.headerName());
            }
        }
    }

    /** A token found at a location, with the providers (hence issuers) that look there. */
    private record Token(String value, JwtProvider.HeaderLocation header, List<JwtProvider> providers) {}

    private static final class Context {
        final JwtRequestView request;
        final long now;
        final Keys keys;
        /** The payloads put in metadata; made by the first (null: none, as for most providers). */
        ObjectNode metadata;
        /** The providers a token needed keys of and found none (made on the first). */
        Set<String> missing = Set.of();

        Context(JwtRequestView request, long now, Keys keys) {
            this.request = request;
            this.now = now;
            this.keys = keys;
        }

        JwtStatus run(JwtRequirement r) {
            return switch (r) {
                case JwtRequirement.AllowAll a -> JwtStatus.OK;
                case JwtRequirement.Provider p -> {
                    List<Token> tokens = extract(List.of(p.provider()));
                    yield tokens.isEmpty() ? JwtStatus.JWT_MISSED
                            : authenticate(tokens, p.provider(), p.audiences(), false);
                }
                case JwtRequirement.AllowMissing m -> {
                    List<Token> tokens = extract(m.providers());
                    if (tokens.isEmpty()) {
                        yield JwtStatus.OK;
                    }
                    JwtStatus s = authenticate(tokens, null, List.of(), m.orFailed());
                    yield m.orFailed() ? JwtStatus.OK : s;
                }
                case JwtRequirement.Any any -> {
                    JwtStatus last = JwtStatus.JWT_MISSED;
                    for (JwtRequirement child : any.requirements()) {
                        last = run(child);
                        if (last == JwtStatus.OK) {
                            break;
                        }
                    }
                    yield last;
                }
                case JwtRequirement.All all -> {
                    for (JwtRequirement child : all.requirements()) {
                        JwtStatus s = run(child);
                        if (s != JwtStatus.OK) {
                            yield s;
                        }
                    }
                    yield JwtStatus.OK;
                }
            };
        }

        /**
         * Envoy's extractor: headers first, then query parameters, then cookies (by name, as its btree_map orders them);
         * a location shared by providers is read once.
         */
        List<Token> extract(List<JwtProvider> providers) {
            Map<JwtProvider.HeaderLocation, List<JwtProvider>> headers = new LinkedHashMap<>();
            Map<String, List<JwtProvider>> params = new LinkedHashMap<>();
            // Most providers read no cookie: the shared empty map then, a sorted one only for the first cookie name.
            Map<String, List<JwtProvider>> cookies = Map.of();
            for (JwtProvider p : providers) {
                for (String c : p.fromCookies()) {
                    if (cookies.isEmpty()) {
                        cookies = new TreeMap<>();
                    }
                    cookies.computeIfAbsent(c, k -> new ArrayList<>()).add(p);
                }
                for (JwtProvider.HeaderLocation h : p.headerLocations()) {
                    headers.computeIfAbsent(h, k -> new ArrayList<>()).add(p);
                }
                for (String q : p.paramLocations()) {
                    params.computeIfAbsent(q, k -> new ArrayList<>()).add(p);
                }
            }
            List<Token> tokens = new ArrayList<>();
            for (Map.Entry<JwtProvider.HeaderLocation, List<JwtProvider>> e : headers.entrySet()) {
                String prefix = e.getKey().valuePrefix();
                for (String value : request.headers(e.getKey().name())) {
                    if (prefix.isEmpty()) {
                        tokens.add(new Token(value, e.getKey(), e.getValue()));
                        continue;
                    }
                    int at = value.indexOf(prefix);
                    if (at >= 0) {
                        tokens.add(new Token(tokenAfter(value, at + prefix.length()), e.getKey(), e.getValue()));
                    }
                }
            }
            for (Map.Entry<String, List<JwtProvider>> e : params.entrySet()) {
                for (String value : request.queryParameter(e.getKey())) {
                    tokens.add(new Token(value, null, e.getValue()));
                }
            }
            if (!cookies.isEmpty()) {
                Map<String, String> sent = cookies(cookies.keySet());
                for (Map.Entry<String, List<JwtProvider>> e : cookies.entrySet()) {
                    String value = sent.get(e.getKey());
                    if (value != null) {
                        // A cookie stays whatever forward says: Envoy does not remove it (its JwtCookieLocation TODO).
                        tokens.add(new Token(value, null, e.getValue()));
                    }
                }
            }
            return tokens;
        }

        /**
         * Envoy's Http::Utility::parseCookies: every Cookie header, split at ';', each pair trimmed in front and cut at
         * its first '=', a value in double quotes unquoted; the first of a name wins.
         */
        private Map<String, String> cookies(java.util.Set<String> wanted) {
            Map<String, String> out = new LinkedHashMap<>();
            for (String header : request.headers("cookie")) {
                for (String pair : header.split(";")) {
                    String s = pair.stripLeading();
                    if (s.isEmpty()) {
                        continue;
                    }
                    int eq = s.indexOf('=');
                    String name = eq < 0 ? s : s.substring(0, eq);
                    if (!wanted.contains(name) || out.containsKey(name)) {
                        continue;
                    }
                    String value = eq < 0 ? "" : s.substring(eq + 1);
                    if (value.length() >= 2 && value.charAt(0) == '"' && value.charAt(value.length() - 1) == '"') {
                        value = value.substring(1, value.length() - 1);
                    }
                    out.put(name, value);
                }
            }
            return out;
        }

        /** Envoy's extractJWT: the run of base64url characters and dots after the prefix. */
        private static String tokenAfter(String value, int from) {
            int start = from;
            while (start < value.length() && !tokenChar(value.charAt(start))) {
                start++;
            }
            int end = start;
            while (end < value.length() && tokenChar(value.charAt(end))) {
                end++;
            }
            return value.substring(start, end);
        }

        private static boolean tokenChar(char c) {
            return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
                    || c == '-' || c == '_' || c == '.' || c == '=';
        }

        /**
         * Envoy's AuthenticatorImpl: the last token found first; stops at the first verified one unless
         * {@code allowFailed} (then every token is tried, and the answer is OK whatever they were).
         */
        JwtStatus authenticate(List<Token> tokens, JwtProvider fixed, List<String> audiences, boolean allowFailed) {
            JwtStatus status = JwtStatus.JWT_MISSED;
            for (int i = tokens.size() - 1; i >= 0; i--) {
                status = one(tokens.get(i), fixed, audiences);
                if (status == JwtStatus.OK && !allowFailed) {
                    return status;
                }
            }
            return status;
        }

        JwtStatus one(Token token, JwtProvider fixed, List<String> audiences) {
            Jwt.Parsed parsed = Jwt.parse(token.value());
            if (parsed.jwt() == null) {
                return parsed.status();
            }
            Jwt jwt = parsed.jwt();
            JwtProvider provider = null;
            for (JwtProvider p : token.providers()) {
                if (p.issuer().isEmpty() || p.issuer().equals(jwt.iss)) {
                    provider = p;
                    break;
                }
            }
            if (provider == null) {
                return JwtStatus.JWT_UNKNOWN_ISSUER;
            }
            if (fixed != null) {
                provider = fixed;
            }
            long skew = provider.clockSkewSeconds();
            if (jwt.nbf > 0 && jwt.nbf > now + skew) {
                return JwtStatus.JWT_NOT_YET_VALID;
            }
            if (jwt.exp > 0 && jwt.exp < now - skew) {
                return JwtStatus.JWT_EXPIRED;
            }
            if (!audienceAllowed(audiences.isEmpty() ? provider.audiences() : audiences, jwt.audiences)) {
                return JwtStatus.JWT_AUDIENCE_NOT_ALLOWED;
            }
            Jwks jwks = keys.of(provider);
            if (jwks == null) {
                if (missing.isEmpty()) {
                    missing = new LinkedHashSet<>();
                }
                missing.add(provider.name());
                return JwtStatus.JWKS_FETCH_FAIL;
            }
            JwtStatus s = signature(jwt, jwks);
            if (s != JwtStatus.OK) {
                return s;
            }
            verified(jwt, provider, token);
            return JwtStatus.OK;
        }

        /** Envoy's verify.cc: keys whose kid (when both have one) and alg (when the key names one) fit; any that verifies. */
        private static JwtStatus signature(Jwt jwt, Jwks jwks) {
            boolean matched = false;
            for (Jwks.Key key : jwks.keys()) {
                if (!jwt.kid.isEmpty() && !key.kid().isEmpty() && !key.kid().equals(jwt.kid)) {
                    continue;
                }
                if (!key.alg().isEmpty() && !key.alg().equals(jwt.alg.name())) {
                    continue;
                }
                if (!jwt.alg.fits(key)) {
                    continue;
                }
                matched = true;
                if (jwt.alg.verify(key.key(), jwt.signedPart, jwt.signature)) {
                    return JwtStatus.OK;
                }
            }
            return matched ? JwtStatus.JWT_VERIFICATION_FAIL : JwtStatus.JWKS_KID_ALG_MISMATCH;
        }

        private void verified(Jwt jwt, JwtProvider provider, Token token) {
            if (!provider.payloadInMetadata().isEmpty()) {
                if (metadata == null) {
                    metadata = JsonNodeFactory.instance.objectNode();
                }
                metadata.set(provider.payloadInMetadata(), normalized(jwt.payload, provider.spaceDelimitedClaims()));
            }
            if (!provider.forwardPayloadHeader().isEmpty()) {
                request.addHeader(provider.forwardPayloadHeader(), jwt.payloadBase64);
            }
            for (JwtProvider.ClaimToHeader c : provider.claimToHeaders()) {
                String v = claimText(jwt.payload, c.claimName());
                if (v != null) {
                    request.addHeader(c.headerName(), v);
                }
            }
            // Envoy removes a header token it verified unless forward; a query parameter stays (its TODO).
            if (!provider.forward() && token.header() != null) {
                request.removeHeader(token.header().name());
            }
        }

        private static ObjectNode normalized(ObjectNode payload, Set<String> spaceDelimited) {
            if (spaceDelimited.isEmpty()) {
                return payload;
            }
            ObjectNode copy = payload.deepCopy();
            for (String claim : spaceDelimited) {
                JsonNode v = copy.get(claim);
                if (v != null && v.isTextual()) {
                    ArrayNode list = copy.arrayNode();
                    for (String part : v.textValue().split(" ")) {
                        if (!part.isEmpty()) {
                            list.add(part);
                        }
                    }
                    copy.set(claim, list);
                }
            }
            return copy;
        }

        /** A claim (dots into nested objects) as a header value: strings, integers and booleans; anything else none. */
        private static String claimText(ObjectNode payload, String claim) {
            JsonNode v = payload;
            for (String part : claim.split("\\.", -1)) {
                v = v.isObject() ? v.get(part) : null;
                if (v == null) {
                    return null;
                }
            }
            if (v.isTextual()) {
                return v.textValue();
            }
            if (v.isIntegralNumber() || v.isBoolean()) {
                return v.asText();
            }
            return null;
        }

        /** Envoy's CheckAudience: no configured audience allows any; otherwise one of the token's, normalized, must be listed. */
        private static boolean audienceAllowed(List<String> configured, List<String> tokenAudiences) {
            if (configured.isEmpty()) {
                return true;
            }
            Set<String> allowed = new LinkedHashSet<>();
            for (String a : configured) {
                allowed.add(normalizeAudience(a));
            }
            for (String a : tokenAudiences) {
                if (allowed.contains(normalizeAudience(a))) {
                    return true;
                }
            }
            return false;
        }

        private static String normalizeAudience(String a) {
            String s = a;
            if (s.startsWith("http://")) {
                s = s.substring(7);
            } else if (s.startsWith("https://")) {
                s = s.substring(8);
            }
            return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
        }
    }
}
