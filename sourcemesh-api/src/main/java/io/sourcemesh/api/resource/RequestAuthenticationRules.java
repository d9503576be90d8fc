package io.sourcemesh.api.resource;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;

/**
 * A RequestAuthentication's own rules, beyond its schema: Istio's ValidateRequestAuthentication and validateJwtRule
 * (pkg/config/validation) with their messages, plus what SourceMesh does not do: a rule with neither {@code jwks} nor
 * {@code jwksUri} (Istio would discover the keys through the issuer's OpenID configuration) and key types the proxy
 * cannot verify with are refused by path (Gateway API targets by the support table) — a token check is never accepted and then
 * skipped.
 */
final class RequestAuthenticationRules {
    private static final ObjectMapper JSON = new ObjectMapper();

    private RequestAuthenticationRules() {
    }

    static void check(JsonNode object, List<FieldError> errors) {
        JsonNode spec = object.path("spec");
        AuthorizationPolicyRules.checkSelector(spec, errors);
        JsonNode rules = spec.path("jwtRules");
        for (int i = 0; i < rules.size(); i++) {
            checkRule(rules.get(i), "spec.jwtRules[" + i + "]", errors);
        }
    }

    private static void checkRule(JsonNode rule, String at, List<FieldError> errors) {
        if (rule.path("issuer").asText("").isEmpty()) {
            errors.add(new FieldError(at + ".issuer", at + ".issuer: Required value: issuer must be set"));
        }
        JsonNode audiences = rule.path("audiences");
        for (int i = 0; i < audiences.size(); i++) {
            if (audiences.get(i).asText("").isEmpty()) {
                invalid(errors, at + ".audiences[" + i + "]", "", "audience must be non-empty string");
            }
        }
        String uri = rule.path("jwksUri").asText("");
        String jwks = rule.path("jwks").asText("");
        if (!uri.isEmpty()) {
            String problem = jwksUriProblem(uri);
            if (problem != null) {
                invalid(errors, at + ".jwksUri", uri, problem);
            }
        }
        if (!jwks.isEmpty()) {
            String problem = jwksProblem(jwks);
            if (problem != null) {
                invalid(errors, at + ".jwks", "...", "jwks parse error: " + problem);
            }
        }
        if (uri.isEmpty() && jwks.isEmpty()) {
            errors.add(new FieldError(at, at + ": Required value: jwksUri or jwks must be set: SourceMesh does not discover "
                    + "the keys through the issuer's OpenID configuration (/.well-known/openid-configuration)"));
        }
        JsonNode headers = rule.path("fromHeaders");
        for (int i = 0; i < headers.size(); i++) {
            if (headers.get(i).path("name").asText("").isEmpty()) {
                invalid(errors, at + ".fromHeaders[" + i + "].name", "", "location header name must be non-empty string");
            }
        }
        JsonNode params = rule.path("fromParams");
        for (int i = 0; i < params.size(); i++) {
            if (params.get(i).asText("").isEmpty()) {
                invalid(errors, at + ".fromParams[" + i + "]", "", "location query must be non-empty string");
            }
        }
        JsonNode cookies = rule.path("fromCookies");
        for (int i = 0; i < cookies.size(); i++) {
            if (cookies.get(i).asText("").isEmpty()) {
                invalid(errors, at + ".fromCookies[" + i + "]", "", "cookie name must be non-empty string");
            }
        }
        JsonNode claims = rule.path("outputClaimToHeaders");
        for (int i = 0; i < claims.size(); i++) {
            JsonNode c = claims.get(i);
            String header = c.path("header").asText("");
            if (header.isEmpty() || c.path("claim").asText("").isEmpty()) {
                invalid(errors, at + ".outputClaimToHeaders[" + i + "]", header,
                        "outputClaimToHeaders header and claim value must be non-empty string");
            } else if (!header.matches("[!#$%&'*+\\-.^_`|~0-9A-Za-z]+")) {
                invalid(errors, at + ".outputClaimToHeaders[" + i + "].header", header, "invalid header name");
            }
        }
        String timeout = rule.path("timeout").asText("");
        if (!timeout.isEmpty()) {
            java.math.BigDecimal nanos = IstioDuration.nanos(timeout);
            String problem = nanos == null ? "not a duration (e.g. 5s)" : IstioDuration.validationProblem(nanos);
            if (problem != null) {
                invalid(errors, at + ".timeout", timeout, problem);
            }
        }
    }

    /** Istio's ParseJwksURI: an http or https URL with a host. */
    static String jwksUriProblem(String uri) {
        try {
            URI u = new URI(uri);
            if (!"http".equals(u.getScheme()) && !"https".equals(u.getScheme())) {
                return "jwksUri must be an http or https URL";
            }
            if (u.getHost() == null || u.getHost().isEmpty()) {
                return "jwksUri has no host";
            }
            return null;
        } catch (URISyntaxException e) {
            return "jwksUri is not a URL: " + e.getReason();
        }
    }

    /** A JSON Web Key Set with keys the proxy verifies with (RSA, EC, OKP, oct); null when it is one. */
    static String jwksProblem(String jwks) {
        JsonNode root;
        try {
            root = JSON.readTree(jwks);
        } catch (JsonProcessingException e) {
            return "not JSON: " + e.getOriginalMessage();
        }
        JsonNode keys = root == null ? null : root.get("keys");
        if (keys == null || !keys.isArray() || keys.isEmpty()) {
            return "a JSON Web Key Set needs a non-empty \"keys\" array";
        }
        for (int i = 0; i < keys.size(); i++) {
            String kty = keys.get(i).path("kty").asText("");
            if (!List.of("RSA", "EC", "OKP", "oct").contains(kty)) {
                return "keys[" + i + "]: kty \"" + kty + "\" is not supported (RSA, EC, OKP or oct)";
            }
        }
        return null;
    }

    private static void invalid(List<FieldError> errors, String path, String value, String message) {
        errors.add(new FieldError(path, path + ": Invalid value: \"" + value + "\": " + message));
    }
}
