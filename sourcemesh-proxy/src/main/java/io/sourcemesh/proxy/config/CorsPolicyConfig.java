package io.sourcemesh.proxy.config;

import io.sourcemesh.proxy.matcher.StringMatch;
import java.util.List;
import java.util.Optional;

/**
 * Envoy's {@code envoy.extensions.filters.http.cors.v3.CorsPolicy}, a route's or virtual host's
 * {@code typed_per_filter_config} for {@code envoy.filters.http.cors}. The strings are sent as they are
 * (empty: not set); the optional booleans stay unset so a route's policy can be laid over its virtual
 * host's field by field ({@link #over}), as the filter reads them. {@code anyOrigin}: one of the origin
 * matchers matches {@code *}, which Envoy's isOriginAllowed takes as every origin (worked out once here,
 * not per request).
 */
public record CorsPolicyConfig(List<StringMatch> allowOrigins, String allowMethods, String allowHeaders, String exposeHeaders,
        String maxAge, Optional<Boolean> allowCredentials, Optional<Boolean> allowPrivateNetworkAccess,
        Optional<Boolean> forwardNotMatchingPreflights, Optional<RouteConfig.Fraction> filterEnabled,
        Optional<RouteConfig.Fraction> shadowEnabled, boolean anyOrigin) {

    public CorsPolicyConfig {
        allowOrigins = List.copyOf(allowOrigins);
    }

    public static CorsPolicyConfig of(List<StringMatch> allowOrigins, String allowMethods, String allowHeaders,
            String exposeHeaders, String maxAge, Optional<Boolean> allowCredentials, Optional<Boolean> allowPrivateNetworkAccess,
            Optional<Boolean> forwardNotMatchingPreflights, Optional<RouteConfig.Fraction> filterEnabled,
            Optional<RouteConfig.Fraction> shadowEnabled) {
        boolean any = allowOrigins.stream().anyMatch(m -> m.matches("*"));
        return new CorsPolicyConfig(allowOrigins, allowMethods, allowHeaders, exposeHeaders, maxAge, allowCredentials,
                allowPrivateNetworkAccess, forwardNotMatchingPreflights, filterEnabled, shadowEnabled, any);
    }

    /**
     * This (a route's) policy over {@code outer} (its virtual host's), as Envoy's cors_filter.cc reads the two: each
     * field from the first policy that sets it (a list or string non-empty, a boolean present), but filter_enabled and
     * shadow_enabled from the most specific policy alone (unset there: enabled, no shadow, whatever the outer says).
     */
    public CorsPolicyConfig over(CorsPolicyConfig outer) {
        return of(allowOrigins.isEmpty() ? outer.allowOrigins : allowOrigins, first(allowMethods, outer.allowMethods),
                first(allowHeaders, outer.allowHeaders), first(exposeHeaders, outer.exposeHeaders), first(maxAge, outer.maxAge),
                allowCredentials.or(outer::allowCredentials), allowPrivateNetworkAccess.or(outer::allowPrivateNetworkAccess),
                forwardNotMatchingPreflights.or(outer::forwardNotMatchingPreflights), filterEnabled, shadowEnabled);
    }

    private static String first(String inner, String outer) {
        return inner.isEmpty() ? outer : inner;
    }

    /** Envoy's filter_enabled: unset is enabled; else its default_value sampled for this request. */
    public boolean enabled() {
        return filterEnabled.isEmpty() || filterEnabled.get().sample();
    }

    /** Envoy's shadow_enabled: unset is off; else its default_value sampled for this request. */
    public boolean shadowed() {
        return shadowEnabled.isPresent() && shadowEnabled.get().sample();
    }

    /** Envoy's isOriginAllowed: {@code origin} matches one of allow_origin_string_match (or one matches {@code *}). */
    public boolean allows(String origin) {
        if (anyOrigin) {
            return true;
        }
        for (int i = 0, n = allowOrigins.size(); i < n; i++) { // indexed: no iterator per request
            if (allowOrigins.get(i).matches(origin)) {
                return true;
            }
        }
        return false;
    }

    /** Unset: preflights from an origin not allowed are forwarded, Envoy's default. */
    public boolean forwardsNotMatchingPreflights() {
        return forwardNotMatchingPreflights.orElse(true);
    }
}
