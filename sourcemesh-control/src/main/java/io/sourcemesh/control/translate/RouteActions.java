package io.sourcemesh.control.translate;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.core.v3.RuntimeFractionalPercent;
import io.envoyproxy.envoy.config.route.v3.DirectResponseAction;
import io.envoyproxy.envoy.config.route.v3.RedirectAction;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatchAndSubstitute;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import io.envoyproxy.envoy.type.v3.FractionalPercent;
import io.sourcemesh.control.model.IstioConfig;
import io.sourcemesh.control.model.MeshModel;
import java.util.Base64;
import java.util.List;

/** The parts of Istio's route.go that shape one action: redirect, direct response, rewrite, mirrors. */
final class RouteActions {
    private RouteActions() {}

    /** Istio's ApplyRedirect. False (with a warning) for a redirect code Envoy has no enum for. */
    static boolean redirect(Route.Builder r, JsonNode redirect, int port, boolean tls, String where,
            List<TranslationWarning> warnings) {
        RedirectAction.Builder b = RedirectAction.newBuilder();
        if (redirect.has("authority")) {
            b.setHostRedirect(redirect.path("authority").asText());
        }
        if (redirect.has("uri")) {
            b.setPathRedirect(redirect.path("uri").asText());
        }
        String scheme = redirect.path("scheme").asText("");
        if (!scheme.isEmpty()) {
            b.setSchemeRedirect(scheme);
        }
        if (redirect.has("port") || redirect.has("derivePort")) {
            if (redirect.has("port")) {
                b.setPortRedirect(redirect.path("port").asInt());
            } else if (redirect.path("derivePort").asText().equals("FROM_REQUEST_PORT")) {
                b.setPortRedirect(port); // routes are built per listener port, so the request's port is known
            }
            String s = scheme.isEmpty() ? (tls ? "https" : "http") : scheme;
            if ((b.getPortRedirect() == 80 && s.equals("http")) || (b.getPortRedirect() == 443 && s.equals("https"))) {
                b.setPortRedirect(0);
            }
        }
        int code = redirect.path("redirectCode").asInt(0);
        switch (code) {
            case 0, 301 -> b.setResponseCode(RedirectAction.RedirectResponseCode.MOVED_PERMANENTLY);
            case 302 -> b.setResponseCode(RedirectAction.RedirectResponseCode.FOUND);
            case 303 -> b.setResponseCode(RedirectAction.RedirectResponseCode.SEE_OTHER);
            case 307 -> b.setResponseCode(RedirectAction.RedirectResponseCode.TEMPORARY_REDIRECT);
            case 308 -> b.setResponseCode(RedirectAction.RedirectResponseCode.PERMANENT_REDIRECT);
            default -> {
                warnings.add(new TranslationWarning(where, "redirectCode " + code + " is not supported; route left out"));
                return false;
            }
        }
        r.setRedirect(b);
        return true;
    }

    static void directResponse(Route.Builder r, JsonNode direct) {
        DirectResponseAction.Builder b = DirectResponseAction.newBuilder().setStatus(direct.path("status").asInt());
        JsonNode body = direct.path("body");
        if (body.has("string")) {
            b.setBody(DataSource.newBuilder().setInlineString(body.path("string").asText()));
        } else if (body.has("bytes")) {
            b.setBody(DataSource.newBuilder().setInlineBytes(ByteString.copyFrom(
                    Base64.getDecoder().decode(body.path("bytes").asText()))));
        }
        r.setDirectResponse(b);
    }

    /**
     * rewrite.uriRegexRewrite → regex_rewrite (its match the RE2 pattern, its rewrite the substitution), else rewrite.uri →
     * prefix_rewrite, as Istio's translateRoute; the API refuses both together. The authority is the caller's.
     */
    static void rewrite(RouteAction.Builder a, JsonNode rewrite) {
        if (rewrite.isMissingNode()) {
            return;
        }
        JsonNode regex = rewrite.path("uriRegexRewrite");
        if (regex.isObject()) {
            a.setRegexRewrite(RegexMatchAndSubstitute.newBuilder()
                    .setPattern(RegexMatcher.newBuilder().setRegex(regex.path("match").asText("")))
                    .setSubstitution(regex.path("rewrite").asText("")));
        } else if (!rewrite.path("uri").asText("").isEmpty()) {
            a.setPrefixRewrite(rewrite.path("uri").asText());
        }
    }

    /**
     * mirror (+ mirrorPercentage / mirror_percent) and mirrors[] → request_mirror_policies (Istio's MirrorPercent); a
     * mirror without a port on a service with several takes the listener's, as Istio's GetDestinationCluster.
     */
    static void mirrors(RouteAction.Builder a, JsonNode http, IstioConfig vs, MeshModel model,
            List<TranslationWarning> warnings, int listenerPort) {
        if (http.has("mirror")) {
            FractionalPercent p;
            if (http.has("mirrorPercentage")) {
                p = percent(http.path("mirrorPercentage").path("value").asDouble(0));
            } else if (http.has("mirrorPercent")) {
                p = FractionalPercent.newBuilder().setNumerator(http.path("mirrorPercent").asInt(0))
                        .setDenominator(FractionalPercent.DenominatorType.HUNDRED).build();
            } else {
                p = FractionalPercent.newBuilder().setNumerator(100).setDenominator(FractionalPercent.DenominatorType.HUNDRED).build();
            }
            if (p.getNumerator() > 0) {
                a.addRequestMirrorPolicies(mirror(HttpRoutes.clusterFor(http.path("mirror"), vs, model, listenerPort), p));
            }
        }
        for (JsonNode m : Clusters.list(http.path("mirrors"))) {
            FractionalPercent p = m.has("percentage") ? percent(m.path("percentage").path("value").asDouble(0))
                    : FractionalPercent.newBuilder().setNumerator(100).setDenominator(FractionalPercent.DenominatorType.HUNDRED).build();
            if (p.getNumerator() > 0 && m.has("destination")) {
                a.addRequestMirrorPolicies(mirror(HttpRoutes.clusterFor(m.path("destination"), vs, model, listenerPort), p));
            }
        }
    }

    private static RouteAction.RequestMirrorPolicy mirror(String cluster, FractionalPercent p) {
        return RouteAction.RequestMirrorPolicy.newBuilder()
                .setCluster(cluster)
                .setRuntimeFraction(RuntimeFractionalPercent.newBuilder().setDefaultValue(p))
                .setTraceSampled(Protos.bool(false))
                .build();
    }

    /** Istio's translatePercentToFractionalPercent: value × 10 000 per million. */
    static FractionalPercent percent(double value) {
        return FractionalPercent.newBuilder().setNumerator((int) (value * 10000))
                .setDenominator(FractionalPercent.DenominatorType.MILLION).build();
    }
}
