package io.sourcemesh.proxy.config;

import static io.sourcemesh.proxy.config.Protos.at;
import static io.sourcemesh.proxy.config.Protos.only;

import io.envoyproxy.envoy.config.core.v3.RuntimeFractionalPercent;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.Cors;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy;
import io.sourcemesh.proxy.matcher.StringMatch;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * {@code envoy.filters.http.cors}: the filter's own {@code Cors} (which has no field) and the
 * {@code CorsPolicy} a route or virtual host gives it in {@code typed_per_filter_config}
 * ({@code api/envoy/extensions/filters/http/cors/v3/cors.proto}). Every CorsPolicy field is read; a
 * runtime_key in filter_enabled or shadow_enabled is refused by path (this proxy has no runtime: only the
 * default_value would ever apply, which a key suggests it would not).
 */
final class CorsTranslator {
    private CorsTranslator() {}

    static HttpFilterConfig.Cors filter(String name, Cors cors, String path) {
        only(cors, path);
        return new HttpFilterConfig.Cors(name);
    }

    static CorsPolicyConfig policy(CorsPolicy p, String path) {
        only(p, path, "allow_origin_string_match", "allow_methods", "allow_headers", "expose_headers", "max_age",
                "allow_credentials", "allow_private_network_access", "forward_not_matching_preflights", "filter_enabled",
                "shadow_enabled");
        List<StringMatch> origins = new ArrayList<>();
        for (int i = 0; i < p.getAllowOriginStringMatchCount(); i++) {
            origins.add(Matchers.string(p.getAllowOriginStringMatch(i), at(path, "allow_origin_string_match", i)));
        }
        return CorsPolicyConfig.of(origins, p.getAllowMethods(), p.getAllowHeaders(), p.getExposeHeaders(), p.getMaxAge(),
                p.hasAllowCredentials() ? Optional.of(p.getAllowCredentials().getValue()) : Optional.empty(),
                p.hasAllowPrivateNetworkAccess() ? Optional.of(p.getAllowPrivateNetworkAccess().getValue()) : Optional.empty(),
                p.hasForwardNotMatchingPreflights() ? Optional.of(p.getForwardNotMatchingPreflights().getValue()) : Optional.empty(),
                p.hasFilterEnabled() ? Optional.of(fraction(p.getFilterEnabled(), at(path, "filter_enabled"))) : Optional.empty(),
                p.hasShadowEnabled() ? Optional.of(fraction(p.getShadowEnabled(), at(path, "shadow_enabled"))) : Optional.empty());
    }

    private static RouteConfig.Fraction fraction(RuntimeFractionalPercent r, String path) {
        only(r, path, "default_value");
        return RouteTranslator.fraction(r.getDefaultValue(), at(path, "default_value"));
    }
}
