package io.sourcemesh.control.translate;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Duration;
import io.envoyproxy.envoy.config.core.v3.RuntimeFractionalPercent;
import io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * VirtualService {@code http[].corsPolicy} → the CORS filter's per-route CorsPolicy, as Istio's TranslateCORSPolicy
 * (pilot/pkg/networking/core/route/route.go): allowOrigins (exact, prefix, regex as safe_regex: ConvertToEnvoyMatches)
 * or else the deprecated allowOrigin strings as exact matches, the method and header lists joined with ",", maxAge in
 * whole seconds, allowCredentials when set, unmatchedPreflights IGNORE as forward_not_matching_preflights false (true
 * otherwise, Envoy's behaviour before 1.30), and filter_enabled 100%.
 */
final class CorsPolicies {
    private CorsPolicies() {}

    static CorsPolicy translate(JsonNode cors) {
        CorsPolicy.Builder out = CorsPolicy.newBuilder()
                .setForwardNotMatchingPreflights(Protos.bool(!cors.path("unmatchedPreflights").asText().equals("IGNORE")));
        if (cors.has("allowOrigins")) {
            cors.path("allowOrigins").forEach(o -> stringMatch(o).ifPresent(out::addAllowOriginStringMatch));
        } else if (cors.has("allowOrigin")) {
            cors.path("allowOrigin").forEach(o -> out.addAllowOriginStringMatch(StringMatcher.newBuilder().setExact(o.asText())));
        }
        out.setFilterEnabled(RuntimeFractionalPercent.newBuilder().setDefaultValue(FractionalPercent.newBuilder()
                .setNumerator(100).setDenominator(FractionalPercent.DenominatorType.HUNDRED)));
        if (cors.has("allowCredentials")) {
            out.setAllowCredentials(Protos.bool(cors.path("allowCredentials").asBoolean()));
        }
        out.setAllowHeaders(joined(cors.path("allowHeaders")));
        out.setAllowMethods(joined(cors.path("allowMethods")));
        out.setExposeHeaders(joined(cors.path("exposeHeaders")));
        if (cors.has("maxAge")) {
            // The API's validation refuses a maxAge that is no duration; its seconds, as Istio's FormatInt(GetSeconds()).
            IstioDurations.parse(cors.path("maxAge").asText()).map(Duration::getSeconds)
                    .ifPresent(s -> out.setMaxAge(Long.toString(s)));
        }
        return out.build();
    }

    private static String joined(JsonNode values) {
        List<String> out = new ArrayList<>();
        values.forEach(v -> out.add(v.asText()));
        return String.join(",", out);
    }

    /** Istio's ConvertToEnvoyMatch: exact, prefix, or regex as safe_regex; anything else none. */
    private static Optional<StringMatcher> stringMatch(JsonNode v) {
        if (v.has("exact")) {
            return Optional.of(StringMatcher.newBuilder().setExact(v.path("exact").asText()).build());
        } else if (v.has("prefix")) {
            return Optional.of(StringMatcher.newBuilder().setPrefix(v.path("prefix").asText()).build());
        } else if (v.has("regex")) {
            return Optional.of(StringMatcher.newBuilder().setSafeRegex(RegexMatcher.newBuilder().setRegex(v.path("regex").asText())).build());
        }
        return Optional.empty();
    }
}
