package io.sourcemesh.proxy.config;

import static io.sourcemesh.proxy.config.Protos.at;
import static io.sourcemesh.proxy.config.Protos.only;

import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtClaimToHeader;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtHeader;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtRequirement;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.RequirementRule;
import io.sourcemesh.proxy.jwt.Jwks;
import io.sourcemesh.proxy.jwt.JwtAuthnConfig;
import io.sourcemesh.proxy.jwt.JwtProvider;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * {@code envoy.filters.http.jwt_authn}'s JwtAuthentication into {@link JwtAuthnConfig}: the fields Istio writes
 * (providers with issuer, audiences, inline {@code local_jwks}, from_headers/from_params/from_cookies, forward,
 * forward_payload_header, payload_in_metadata and its space-delimited claims, claim_to_headers, clock_skew_seconds;
 * rules on a path prefix or path with their requirement trees; bypass_cors_preflight). Everything else — remote JWKS
 * (the proxy fetches nothing: the control plane inlines keys), per-route requirement maps, caches — is
 * refused by its path, never dropped.
 */
final class JwtAuthnTranslator {
    private JwtAuthnTranslator() {}

    /** Envoy's default clock_skew_seconds. */
    static final long DEFAULT_CLOCK_SKEW_SECONDS = 60;

    static HttpFilterConfig.JwtAuthn filter(String name, JwtAuthentication proto, String path) {
        only(proto, path, "providers", "rules", "bypass_cors_preflight");
        Map<String, JwtProvider> providers = new TreeMap<>();
        for (Map.Entry<String, io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtProvider> e
                : new TreeMap<>(proto.getProvidersMap()).entrySet()) {
            providers.put(e.getKey(), provider(e.getKey(), e.getValue(), at(path, "providers") + "." + e.getKey()));
        }
        List<JwtAuthnConfig.Rule> rules = new ArrayList<>();
        for (int i = 0; i < proto.getRulesCount(); i++) {
            rules.add(rule(proto.getRules(i), at(path, "rules", i), providers));
        }
        return new HttpFilterConfig.JwtAuthn(name, new JwtAuthnConfig(providers, rules, proto.getBypassCorsPreflight()));
    }

    private static JwtProvider provider(String name, io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtProvider p,
            String path) {
        only(p, path, "issuer", "audiences", "local_jwks", "forward", "from_headers", "from_params", "from_cookies",
                "forward_payload_header",
                "payload_in_metadata", "normalize_payload_in_metadata", "claim_to_headers", "clock_skew_seconds");
        if (!p.hasLocalJwks()) {
            throw new ConfigException(at(path, "local_jwks"), "is required (remote_jwks is not supported: the proxy fetches no keys)");
        }
        Jwks jwks = jwks(p.getLocalJwks(), at(path, "local_jwks"));
        List<JwtProvider.HeaderLocation> headers = new ArrayList<>();
        for (int i = 0; i < p.getFromHeadersCount(); i++) {
            JwtHeader h = p.getFromHeaders(i);
            String hPath = at(path, "from_headers", i);
            only(h, hPath, "name", "value_prefix");
            if (h.getName().isEmpty()) {
                throw new ConfigException(at(hPath, "name"), "is required");
            }
            headers.add(new JwtProvider.HeaderLocation(h.getName().toLowerCase(Locale.ROOT), h.getValuePrefix()));
        }
        for (int i = 0; i < p.getFromParamsCount(); i++) {
            if (p.getFromParams(i).isEmpty()) {
                throw new ConfigException(at(path, "from_params", i), "must not be empty");
            }
        }
        for (int i = 0; i < p.getFromCookiesCount(); i++) {
            if (p.getFromCookies(i).isEmpty()) {
                throw new ConfigException(at(path, "from_cookies", i), "must not be empty");
            }
        }
        Set<String> spaceDelimited = new LinkedHashSet<>();
        if (p.hasNormalizePayloadInMetadata()) {
            String nPath = at(path, "normalize_payload_in_metadata");
            only(p.getNormalizePayloadInMetadata(), nPath, "space_delimited_claims");
            spaceDelimited.addAll(p.getNormalizePayloadInMetadata().getSpaceDelimitedClaimsList());
        }
        List<JwtProvider.ClaimToHeader> claims = new ArrayList<>();
        for (int i = 0; i < p.getClaimToHeadersCount(); i++) {
            JwtClaimToHeader c = p.getClaimToHeaders(i);
            String cPath = at(path, "claim_to_headers", i);
            only(c, cPath, "header_name", "claim_name");
            if (c.getHeaderName().isEmpty() || c.getClaimName().isEmpty()) {
                throw new ConfigException(cPath, "header_name and claim_name are required");
            }
            claims.add(new JwtProvider.ClaimToHeader(c.getHeaderName().toLowerCase(Locale.ROOT), c.getClaimName()));
        }
        return new JwtProvider(name, p.getIssuer(), p.getAudiencesList(), jwks, headers, p.getFromParamsList(), p.getFromCookiesList(),
                p.getForward(),
                p.getForwardPayloadHeader().toLowerCase(Locale.ROOT), p.getPayloadInMetadata(), spaceDelimited, claims,
                p.getClockSkewSeconds() == 0 ? DEFAULT_CLOCK_SKEW_SECONDS : p.getClockSkewSeconds());
    }

    private static Jwks jwks(DataSource source, String path) {
        only(source, path, "inline_string", "inline_bytes");
        String text = switch (source.getSpecifierCase()) {
            case INLINE_STRING -> source.getInlineString();
            case INLINE_BYTES -> source.getInlineBytes().toString(StandardCharsets.UTF_8);
            default -> throw new ConfigException(path, "inline_string or inline_bytes is required");
        };
        try {
            return Jwks.parse(text);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(at(path, source.getSpecifierCase() == DataSource.SpecifierCase.INLINE_STRING
                    ? "inline_string" : "inline_bytes"), e.getMessage());
        }
    }

    private static JwtAuthnConfig.Rule rule(RequirementRule r, String path, Map<String, JwtProvider> providers) {
        only(r, path, "match", "requires");
        RouteMatch m = r.getMatch();
        String mPath = at(path, "match");
        only(m, mPath, "prefix", "path", "case_sensitive");
        boolean caseSensitive = !m.hasCaseSensitive() || m.getCaseSensitive().getValue();
        io.sourcemesh.proxy.jwt.JwtRequirement requirement = r.hasRequires()
                ? requirement(r.getRequires(), at(path, "requires"), providers, List.of())
                : new io.sourcemesh.proxy.jwt.JwtRequirement.AllowAll();
        return switch (m.getPathSpecifierCase()) {
            case PREFIX -> new JwtAuthnConfig.Rule(m.getPrefix(), null, caseSensitive, requirement);
            case PATH -> new JwtAuthnConfig.Rule(null, m.getPath(), caseSensitive, requirement);
            default -> throw new ConfigException(mPath, "prefix or path is required");
        };
    }

    /** {@code siblings}: the providers of the enclosing requires_any, which its allow_missing reads tokens for. */
    private static io.sourcemesh.proxy.jwt.JwtRequirement requirement(JwtRequirement r, String path,
            Map<String, JwtProvider> providers, List<JwtProvider> siblings) {
        only(r, path, "provider_name", "provider_and_audiences", "requires_any", "requires_all", "allow_missing",
                "allow_missing_or_failed");
        return switch (r.getRequiresTypeCase()) {
            case PROVIDER_NAME -> new io.sourcemesh.proxy.jwt.JwtRequirement.Provider(
                    named(r.getProviderName(), at(path, "provider_name"), providers), List.of());
            case PROVIDER_AND_AUDIENCES -> {
                String aPath = at(path, "provider_and_audiences");
                only(r.getProviderAndAudiences(), aPath, "provider_name", "audiences");
                yield new io.sourcemesh.proxy.jwt.JwtRequirement.Provider(named(r.getProviderAndAudiences().getProviderName(),
                        at(aPath, "provider_name"), providers), r.getProviderAndAudiences().getAudiencesList());
            }
            case REQUIRES_ANY -> any(r.getRequiresAny().getRequirementsList(), at(path, "requires_any"), providers);
            case REQUIRES_ALL -> {
                String aPath = at(path, "requires_all");
                List<JwtRequirement> list = r.getRequiresAll().getRequirementsList();
                if (list.size() < 2) {
                    throw new ConfigException(at(aPath, "requirements"), "at least 2 requirements are required");
                }
                List<io.sourcemesh.proxy.jwt.JwtRequirement> out = new ArrayList<>();
                for (int i = 0; i < list.size(); i++) {
                    out.add(requirement(list.get(i), at(aPath, "requirements", i), providers, List.of()));
                }
                yield new io.sourcemesh.proxy.jwt.JwtRequirement.All(out);
            }
            case ALLOW_MISSING -> new io.sourcemesh.proxy.jwt.JwtRequirement.AllowMissing(siblings, false);
            case ALLOW_MISSING_OR_FAILED -> new io.sourcemesh.proxy.jwt.JwtRequirement.AllowMissing(siblings, true);
            default -> new io.sourcemesh.proxy.jwt.JwtRequirement.AllowAll();
        };
    }

    /** Envoy's AnyVerifierImpl: regular requirements in order, then one by-pass (allow_missing_or_failed over allow_missing). */
    private static io.sourcemesh.proxy.jwt.JwtRequirement any(List<JwtRequirement> list, String path,
            Map<String, JwtProvider> providers) {
        if (list.size() < 2) {
            throw new ConfigException(at(path, "requirements"), "at least 2 requirements are required");
        }
        List<JwtProvider> used = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            JwtRequirement r = list.get(i);
            String name = switch (r.getRequiresTypeCase()) {
                case PROVIDER_NAME -> r.getProviderName();
                case PROVIDER_AND_AUDIENCES -> r.getProviderAndAudiences().getProviderName();
                default -> null;
            };
            if (name != null) {
                used.add(named(name, at(path, "requirements", i), providers));
            }
        }
        List<io.sourcemesh.proxy.jwt.JwtRequirement> regular = new ArrayList<>();
        io.sourcemesh.proxy.jwt.JwtRequirement bypass = null;
        for (int i = 0; i < list.size(); i++) {
            JwtRequirement r = list.get(i);
            io.sourcemesh.proxy.jwt.JwtRequirement t = requirement(r, at(path, "requirements", i), providers, used);
            if (t instanceof io.sourcemesh.proxy.jwt.JwtRequirement.AllowMissing m) {
                if (bypass == null || !(((io.sourcemesh.proxy.jwt.JwtRequirement.AllowMissing) bypass).orFailed())) {
                    bypass = m;
                }
            } else {
                regular.add(t);
            }
        }
        if (bypass != null) {
            regular.add(bypass);
        }
        return new io.sourcemesh.proxy.jwt.JwtRequirement.Any(regular);
    }

    private static JwtProvider named(String name, String path, Map<String, JwtProvider> providers) {
        JwtProvider p = providers.get(name);
        if (p == null) {
            throw new ConfigException(path, "Required provider ['" + name + "'] is not configured.");
        }
        return p;
    }
}
