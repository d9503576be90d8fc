package io.sourcemesh.control.translate;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Any;
import com.google.protobuf.Empty;
import io.envoyproxy.envoy.config.core.v3.DataSource;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtClaimToHeader;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtHeader;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtProvider;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtRequirement;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtRequirementAndList;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.JwtRequirementOrList;
import io.envoyproxy.envoy.extensions.filters.http.jwt_authn.v3.RequirementRule;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.sourcemesh.control.model.IstioConfig;
import io.sourcemesh.control.model.MeshModel;
import io.sourcemesh.control.model.ProxyIdentity;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * A workload's RequestAuthentications as one {@code envoy.filters.http.jwt_authn}, Istio's policy_applier
 * (pilot/pkg/security/authn, convertToEnvoyJwtConfig with the upstream JWT filter): the root namespace's and the
 * workload's namespace's policies whose {@code selector.matchLabels} the pod has, their jwtRules sorted by issuer; a
 * provider {@code origins-<i>} per rule with its payload in metadata {@code payload} (what RBAC's request principals and
 * claims read), permission, scope and the rule's {@code spaceDelimitedClaims} space-delimited, the token also looked for
 * in the rule's {@code fromCookies}; one rule on prefix "/" requiring, for one provider, {provider or
 * allow_missing}, for several, any provider or all of {provider or allow_missing} — a request without a token passes,
 * one with a bad token is refused. Keys are inline: {@code jwks}, or {@code jwksUri} fetched here ({@link JwksResolver});
 * a failed fetch inlines Istio's key nobody can sign for and warns, naming the RequestAuthentication.
 */
final class RequestAuthentications {
    static final String JWT_AUTHN = "envoy.filters.http.jwt_authn";
    /** Istio's filters.EnvoyJwtFilterPayload: the metadata key of a verified payload. */
    static final String PAYLOAD = "payload";
    private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

    private RequestAuthentications() {}

    /** The applying policies, root namespace first, each namespace oldest first. */
    static List<IstioConfig> forWorkload(MeshModel model, ProxyIdentity proxy) {
        List<IstioConfig> out = new ArrayList<>();
        List<String> namespaces = proxy.namespace().equals(AuthorizationPolicies.ROOT_NAMESPACE)
                ? List.of(AuthorizationPolicies.ROOT_NAMESPACE) : List.of(AuthorizationPolicies.ROOT_NAMESPACE, proxy.namespace());
        for (String ns : namespaces) {
            model.requestAuthentications().stream()
                    .filter(p -> p.namespace().equals(ns))
                    .filter(p -> AuthorizationPolicies.selects(p.spec().path("selector"), proxy.labels()))
                    .sorted(IstioConfig.OLDEST_FIRST)
                    .forEach(out::add);
        }
        return out;
    }

    /** The jwt_authn filter for the workload, empty when no policy with rules applies (Istio adds none then). */
    static Optional<HttpFilter> jwtFilter(MeshModel model, ProxyIdentity proxy, JwksResolver resolver,
            List<TranslationWarning> warnings) {
        record Rule(IstioConfig policy, JsonNode rule) {}
        List<Rule> rules = new ArrayList<>();
        for (IstioConfig p : forWorkload(model, proxy)) {
            for (JsonNode r : Clusters.list(p.spec().path("jwtRules"))) {
                rules.add(new Rule(p, r));
            }
        }
        if (rules.isEmpty()) {
            return Optional.empty();
        }
        rules.sort(Comparator.comparing(r -> r.rule().path("issuer").asText(""))); // stable, as Istio's SortBy
        JwtAuthentication.Builder config = JwtAuthentication.newBuilder();
        List<JwtRequirement> innerAnd = new ArrayList<>();
        List<JwtRequirement> outerOr = new ArrayList<>();
        for (int i = 0; i < rules.size(); i++) {
            String name = "origins-" + i;
            config.putProviders(name, provider(rules.get(i).policy(), rules.get(i).rule(), resolver, warnings));
            JwtRequirement byName = JwtRequirement.newBuilder().setProviderName(name).build();
            innerAnd.add(JwtRequirement.newBuilder().setRequiresAny(JwtRequirementOrList.newBuilder()
                    .addRequirements(byName)
                    .addRequirements(JwtRequirement.newBuilder().setAllowMissing(Empty.getDefaultInstance()))).build());
            outerOr.add(byName);
        }
        JwtRequirement requires;
        if (innerAnd.size() == 1) {
            requires = innerAnd.get(0);
        } else {
            outerOr.add(JwtRequirement.newBuilder().setRequiresAll(JwtRequirementAndList.newBuilder().addAllRequirements(innerAnd))
                    .build());
            requires = JwtRequirement.newBuilder().setRequiresAny(JwtRequirementOrList.newBuilder().addAllRequirements(outerOr))
                    .build();
        }
        config.addRules(RequirementRule.newBuilder().setMatch(RouteMatch.newBuilder().setPrefix("/")).setRequires(requires));
        config.setBypassCorsPreflight(true);
        return Optional.of(HttpFilter.newBuilder().setName(JWT_AUTHN).setTypedConfig(Any.pack(config.build())).build());
    }

    /** Istio's buildSpaceDelimitedClaims: the rule's own claims and always permission and scope, once each, sorted. */
    static List<String> spaceDelimitedClaims(JsonNode custom) {
        java.util.TreeSet<String> claims = new java.util.TreeSet<>(List.of("permission", "scope"));
        Clusters.list(custom).forEach(c -> claims.add(c.asText()));
        return List.copyOf(claims);
    }

    private static JwtProvider provider(IstioConfig policy, JsonNode rule, JwksResolver resolver, List<TranslationWarning> warnings) {
        JwtProvider.Builder p = JwtProvider.newBuilder()
                .setIssuer(rule.path("issuer").asText(""))
                .setForward(rule.path("forwardOriginalToken").asBoolean(false))
                .setForwardPayloadHeader(rule.path("outputPayloadToHeader").asText(""))
                .setPayloadInMetadata(PAYLOAD)
                .setNormalizePayloadInMetadata(JwtProvider.NormalizePayload.newBuilder()
                        .addAllSpaceDelimitedClaims(spaceDelimitedClaims(rule.path("spaceDelimitedClaims"))));
        Clusters.list(rule.path("audiences")).forEach(a -> p.addAudiences(a.asText()));
        for (JsonNode c : Clusters.list(rule.path("outputClaimToHeaders"))) {
            p.addClaimToHeaders(JwtClaimToHeader.newBuilder().setHeaderName(c.path("header").asText(""))
                    .setClaimName(c.path("claim").asText("")));
        }
        for (JsonNode h : Clusters.list(rule.path("fromHeaders"))) {
            p.addFromHeaders(JwtHeader.newBuilder().setName(h.path("name").asText("")).setValuePrefix(h.path("prefix").asText("")));
        }
        Clusters.list(rule.path("fromParams")).forEach(q -> p.addFromParams(q.asText()));
        Clusters.list(rule.path("fromCookies")).forEach(c -> p.addFromCookies(c.asText()));
        String jwks = rule.path("jwks").asText("");
        if (jwks.isEmpty()) {
            String uri = rule.path("jwksUri").asText("");
            Duration timeout = IstioDurations.parse(rule.path("timeout").asText(""))
                    .map(d -> Duration.ofSeconds(d.getSeconds(), d.getNanos())).orElse(DEFAULT_TIMEOUT);
            JwksResolver.Fetched f = resolver.resolve(uri, timeout);
            if (f.ok()) {
                jwks = f.jwks();
            } else {
                jwks = JwksResolver.PUBLIC_ONLY_JWKS;
                warnings.add(new TranslationWarning("RequestAuthentication " + policy.key(), f.failure()
                        + "; its keys are left out: every token of issuer " + p.getIssuer() + " is refused until the keys can"
                        + " be fetched"));
            }
        }
        return p.setLocalJwks(DataSource.newBuilder().setInlineString(jwks)).build();
    }
}
