package io.sourcemesh.proxy.config;

import static io.sourcemesh.proxy.config.Protos.at;
import static io.sourcemesh.proxy.config.Protos.only;

import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.HttpUri;
import io.envoyproxy.envoy.config.core.v3.RetryPolicy;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtClaimToHeader;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtHeader;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtRequirement;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.RequirementRule;
import io.sourcemesh.proxy.jwt.Jwks;
import io.sourcemesh.proxy.jwt.JwtAuthnConfig;
import io.sourcemesh.proxy.jwt.JwtProvider;
import io.sourcemesh.proxy.jwt.RemoteJwks;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
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
 * (providers with issuer, audiences, inline {@code local_jwks} or {@code remote_jwks} — http_uri, cache_duration,
 * async_fetch with fast_listener, retry_policy's back-off and retries —, from_headers/from_params/from_cookies, forward,
 * forward_payload_header, payload_in_metadata and its space-delimited claims, claim_to_headers, clock_skew_seconds;
 * rules on a path prefix or path with their requirement trees; bypass_cors_preflight). Everything else — a listener
 * waiting for its JWKS (fast_listener false), other retry conditions, per-route requirement maps, caches — is
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
        only(p, path, "issuer", "audiences", "local_jwks", "remote_jwks", "forward", "from_headers", "from_params",
                "from_cookies", "forward_payload_header",
                "payload_in_metadata", "normalize_payload_in_metadata", "claim_to_headers", "clock_skew_seconds");
        Jwks jwks = null;
        RemoteJwks remote = null;
        if (p.hasRemoteJwks()) {
            remote = remote(p.getRemoteJwks(), at(path, "remote_jwks"));
        } else if (p.hasLocalJwks()) {
            jwks = jwks(p.getLocalJwks(), at(path, "local_jwks"));
        } else {
            throw new ConfigException(path, "local_jwks or remote_jwks is required");
        }
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
        return new JwtProvider(name, p.getIssuer(), p.getAudiencesList(), jwks, remote, headers, p.getFromParamsList(), p.getFromCookiesList(),
                p.getForward(),
                p.getForwardPayloadHeader().toLowerCase(Locale.ROOT), p.getPayloadInMetadata(), spaceDelimited, claims,
                p.getClockSkewSeconds() == 0 ? DEFAULT_CLOCK_SKEW_SECONDS : p.getClockSkewSeconds());
    }

    /** Envoy's default retry back-off (the router's 25 ms base, 10 times that at most), when retry_back_off is unset. */
    private static final Duration DEFAULT_RETRY_BASE = Duration.ofMillis(25);
    /** What Envoy's convertCoreToRouteRetryPolicy retries on when retry_on is empty; the only conditions implemented. */
    private static final Set<String> RETRY_ON = Set.of("5xx", "gateway-error", "connect-failure", "reset");

    private static RemoteJwks remote(io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.RemoteJwks r, String path) {
        only(r, path, "http_uri", "cache_duration", "async_fetch", "retry_policy");
        if (!r.hasHttpUri()) {
            throw new ConfigException(at(path, "http_uri"), "is required");
        }
        HttpUri h = r.getHttpUri();
        String hPath = at(path, "http_uri");
        only(h, hPath, "uri", "cluster", "timeout");
        URI uri;
        try {
            uri = new URI(h.getUri());
        } catch (URISyntaxException e) {
            throw new ConfigException(at(hPath, "uri"), "is not a URI: " + e.getMessage());
        }
        if (h.getUri().isEmpty() || uri.getRawAuthority() == null) {
            throw new ConfigException(at(hPath, "uri"), "must be an absolute URI with a host");
        }
        if (h.getCluster().isEmpty()) {
            throw new ConfigException(at(hPath, "cluster"), "is required");
        }
        if (!h.hasTimeout()) {
            throw new ConfigException(at(hPath, "timeout"), "is required");
        }
        Duration cache = r.hasCacheDuration() ? Protos.duration(r.getCacheDuration()) : RemoteJwks.DEFAULT_CACHE_DURATION;
        RemoteJwks.AsyncFetch async = null;
        if (r.hasAsyncFetch()) {
            String aPath = at(path, "async_fetch");
            only(r.getAsyncFetch(), aPath, "fast_listener", "failed_refetch_duration");
            if (!r.getAsyncFetch().getFastListener()) {
                throw new ConfigException(at(aPath, "fast_listener"), "must be true: a listener here does not wait for "
                        + "its JWKS fetch (Envoy's init manager); the fetch starts when the proxy serves the config");
            }
            async = new RemoteJwks.AsyncFetch(r.getAsyncFetch().hasFailedRefetchDuration()
                    ? Protos.duration(r.getAsyncFetch().getFailedRefetchDuration()) : RemoteJwks.AsyncFetch.DEFAULT_FAILED_REFETCH);
        }
        RemoteJwks.Retry retry = null;
        if (r.hasRetryPolicy()) {
            RetryPolicy rp = r.getRetryPolicy();
            String rPath = at(path, "retry_policy");
            only(rp, rPath, "retry_back_off", "num_retries", "retry_on");
            if (!rp.getRetryOn().isEmpty()) {
                for (String on : rp.getRetryOn().split(",")) {
                    if (!RETRY_ON.contains(on.strip())) {
                        throw new ConfigException(at(rPath, "retry_on"), "\"" + on.strip() + "\" is not supported (only "
                                + "5xx, gateway-error, connect-failure and reset, which a JWKS fetch retries on)");
                    }
                }
            }
            Duration base = DEFAULT_RETRY_BASE;
            Duration max = null;
            if (rp.hasRetryBackOff()) {
                String bPath = at(rPath, "retry_back_off");
                only(rp.getRetryBackOff(), bPath, "base_interval", "max_interval");
                base = Protos.duration(rp.getRetryBackOff().getBaseInterval());
                if (base.toMillis() < 1) {
                    throw new ConfigException(at(bPath, "base_interval"), "must be at least 1ms");
                }
                if (rp.getRetryBackOff().hasMaxInterval()) {
                    max = Protos.duration(rp.getRetryBackOff().getMaxInterval());
                    if (max.compareTo(base) < 0) {
                        throw new ConfigException(at(bPath, "max_interval"), "must not be less than base_interval");
                    }
                }
            }
            retry = new RemoteJwks.Retry(rp.hasNumRetries() ? rp.getNumRetries().getValue() : 1, base,
                    max == null ? base.multipliedBy(10) : max);
        }
        return new RemoteJwks(uri, h.getCluster(), Protos.duration(h.getTimeout()), cache, async, retry);
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
