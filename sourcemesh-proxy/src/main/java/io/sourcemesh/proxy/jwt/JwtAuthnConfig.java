package io.sourcemesh.proxy.jwt;

import java.util.List;
import java.util.Map;

/**
 * {@code envoy.filters.http.jwt_authn}'s config, translated: the providers by name, the rules (the first whose path
 * match fits gives the request's requirement; none fits, nothing is verified) and {@code bypass_cors_preflight}.
 */
public record JwtAuthnConfig(Map<String, JwtProvider> providers, List<Rule> rules, boolean bypassCorsPreflight) {

    /** A rule's match: {@code prefix} or exact {@code path} on the path without its query; {@code caseSensitive} as Envoy's default true. */
    public record Rule(String prefix, String path, boolean caseSensitive, JwtRequirement requirement) {
        public boolean matches(String requestPath) {
            if (path != null) {
                return caseSensitive ? requestPath.equals(path) : requestPath.equalsIgnoreCase(path);
            }
            return caseSensitive ? requestPath.startsWith(prefix)
                    : requestPath.regionMatches(true, 0, prefix, 0, prefix.length());
        }
    }

    public JwtAuthnConfig {
        providers = Map.copyOf(providers);
        rules = List.copyOf(rules);
    }
}
