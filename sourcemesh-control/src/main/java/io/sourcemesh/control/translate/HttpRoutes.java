package io.sourcemesh.control.translate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.config.route.v3.Decorator;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
import io.envoyproxy.envoy.config.route.v3.QueryParameterMatcher;
import io.envoyproxy.envoy.config.route.v3.RetryPolicy;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import io.envoyproxy.envoy.type.matcher.v3.StringMatcher;
import io.sourcemesh.control.model.IstioConfig;
import io.sourcemesh.control.model.MeshModel;
import io.sourcemesh.control.model.Service;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/** VirtualService http routes → Envoy routes (pilot/pkg/networking/core/route/route.go, the common subset). */
final class HttpRoutes {
    private HttpRoutes() {}

    /** The inbound default route: no timeout and, unlike outbound, no retry policy. */
    static Route defaultRoute(String cluster, String operation) {
        return Route.newBuilder()
                .setName("default")
                .setMatch(RouteMatch.newBuilder().setPrefix("/"))
                .setRoute(RouteAction.newBuilder().setCluster(cluster).setTimeout(Protos.seconds(0)))
                .setDecorator(Decorator.newBuilder().setOperation(operation))
                .build();
    }

    /** The default outbound route Istio gives a service with no VirtualService. */
    static Route defaultRoute(String cluster, String operation, Optional<RouteAction.HashPolicy> hash) {
        RouteAction.Builder action = RouteAction.newBuilder().setCluster(cluster).setTimeout(Protos.seconds(0));
        hash.ifPresent(action::addHashPolicy);
        // Istio's BuildDefaultHTTPOutboundRoute carries the mesh's default retry policy.
        action.setRetryPolicy(Retries.defaults(hash.isPresent()));
        return Route.newBuilder()
                .setName("default")
                .setMatch(RouteMatch.newBuilder().setPrefix("/"))
                .setRoute(action)
                .setDecorator(Decorator.newBuilder().setOperation(operation))
                .build();
    }

    /**
     * Every http route of the VirtualService, one Envoy route per match (or one catch-all without
     * matches), as Istio's translateRoute: headers, then redirect, direct response or forwarding
     * (timeout, rewrite, mirrors, retries). Like Istio, nothing after a catch-all route is emitted.
     * {@code source} is whom they are for (its port is the listener port: match.port, a redirect's
     * derivePort; its labels and gateway names: match.sourceLabels, gateways, sourceNamespace),
     * {@code tls} whether the listener terminates TLS.
     */
    static List<Route> of(IstioConfig vs, MeshModel model, List<TranslationWarning> warnings, RouteSource source, boolean tls) {
        int port = source.port();
        List<Route> out = new ArrayList<>();
        String where = "VirtualService " + vs.key();
        Metadata meta = Metadata.newBuilder().putFilterMetadata("istio", Struct.newBuilder()
                .putFields("config", Value.newBuilder().setStringValue(
                        "/apis/networking.istio.io/v1alpha3/namespaces/" + vs.namespace()
                                + "/virtual-service/" + vs.name()).build())
                .build()).build();
        boolean catchAll = false;
        for (JsonNode http : Clusters.list(vs.spec().path("http"))) {
            List<JsonNode> matches = Clusters.list(http.path("match"));
            boolean noMatch = matches.isEmpty();
            if (noMatch) {
                matches = List.of(JsonNodeFactory.instance.objectNode());
            }
            for (JsonNode m : matches) {
                if (!source.matches(m, vs)) {
                    continue; // Istio's sourceMatchHTTP / match.port: not a route of this proxy or listener
                }
                Route.Builder r = Route.newBuilder().setMatch(match(m)).setMetadata(meta);
                String name = http.path("name").asText("");
                String matchName = m.path("name").asText("");
                if (!name.isEmpty() || !matchName.isEmpty()) {
                    r.setName(name.isEmpty() ? matchName : matchName.isEmpty() ? name : name + "." + matchName);
                }
                String authority = "";
                if (http.has("headers")) {
                    HeaderOperations ops = HeaderOperations.of(http.path("headers"), where, warnings);
                    addHeaders(r, ops);
                    authority = ops.authority();
                }
                String operation;
                if (http.has("redirect")) {
                    if (!RouteActions.redirect(r, http.path("redirect"), port, tls, where, warnings)) {
                        continue;
                    }
                    operation = vs.name() + ":" + port + "/*";
                } else if (http.has("directResponse")) {
                    RouteActions.directResponse(r, http.path("directResponse"));
                    operation = vs.name() + ":" + port + "/*";
                } else {
                    RouteAction.Builder action = action(http, vs, model, warnings, r, authority, port);
                    if (action == null) {
                        continue;
                    }
                    r.setRoute(action);
                    operation = operation(http, vs, model);
                }
                r.setDecorator(Decorator.newBuilder().setOperation(operation));
                if (http.has("fault")) {
                    Faults.translate(http.path("fault"), where, warnings).ifPresent(f ->
                            r.putTypedPerFilterConfig(Names.FAULT, Any.pack(f)));
                }
                if (http.has("corsPolicy")) {
                    r.putTypedPerFilterConfig(Names.CORS, Any.pack(CorsPolicies.translate(http.path("corsPolicy"))));
                }
                Route built = r.build();
                out.add(built);
                if (isCatchAll(built)) {
                    catchAll = true;
                    break;
                }
            }
            if (noMatch || catchAll) {
                break;
            }
        }
        return out;
    }

    private static void addHeaders(Route.Builder r, HeaderOperations ops) {
        r.addAllRequestHeadersToAdd(ops.requestToAdd()).addAllRequestHeadersToRemove(ops.requestToRemove())
                .addAllResponseHeadersToAdd(ops.responseToAdd()).addAllResponseHeadersToRemove(ops.responseToRemove());
    }

    /** Istio's IsCatchAllRoute: prefix "/" (or regex ".*") and no header matchers. */
    static boolean isCatchAll(Route r) {
        RouteMatch m = r.getMatch();
        boolean all = switch (m.getPathSpecifierCase()) {
            case PREFIX -> m.getPrefix().equals("/");
            case SAFE_REGEX -> m.getSafeRegex().getRegex().equals(".*");
            default -> false;
        };
        return all && m.getHeadersCount() == 0 && m.getQueryParametersCount() == 0;
    }

    /**
     * Istio's TranslateRouteMatch: headers and withoutHeaders (inverted) sorted by name, then the
     * path, then {@code :method}, {@code :authority}, {@code :scheme} header matchers, then
     * query_parameters (sorted by name here; Istio ranges over a map).
     */
    private static RouteMatch match(JsonNode m) {
        RouteMatch.Builder b = RouteMatch.newBuilder();
        List<HeaderMatcher> headers = new ArrayList<>();
        m.path("headers").properties().forEach(e -> headers.add(header(e.getKey(), e.getValue()).build()));
        m.path("withoutHeaders").properties().forEach(e -> headers.add(header(e.getKey(), e.getValue()).setInvertMatch(true).build()));
        headers.sort(Comparator.comparing(HeaderMatcher::getName));
        b.addAllHeaders(headers);
        JsonNode uri = m.path("uri");
        if (uri.has("exact")) {
            b.setPath(uri.path("exact").asText());
        } else if (uri.has("regex")) {
            b.setSafeRegex(RegexMatcher.newBuilder().setRegex(uri.path("regex").asText()));
        } else {
            b.setPrefix(uri.path("prefix").asText("/"));
        }
        if (m.path("ignoreUriCase").asBoolean(false)) {
            b.setCaseSensitive(Protos.bool(false));
        }
        if (m.has("method")) {
            b.addHeaders(header(":method", m.path("method")));
        }
        if (m.has("authority")) {
            b.addHeaders(header(":authority", m.path("authority")));
        }
        if (m.has("scheme")) {
            b.addHeaders(header(":scheme", m.path("scheme")));
        }
        List<QueryParameterMatcher> query = new ArrayList<>();
        m.path("queryParams").properties().forEach(e -> {
            QueryParameterMatcher.Builder q = QueryParameterMatcher.newBuilder().setName(e.getKey());
            stringMatch(e.getValue()).ifPresent(q::setStringMatch);
            query.add(q.build());
        });
        query.sort(Comparator.comparing(QueryParameterMatcher::getName));
        b.addAllQueryParameters(query);
        return b.build();
    }

    /** Istio's translateHeaderMatch: a catch-all (no match, prefix "", regex "*") is present_match. */
    private static HeaderMatcher.Builder header(String name, JsonNode v) {
        HeaderMatcher.Builder h = HeaderMatcher.newBuilder().setName(name);
        boolean catchAll = !(v.has("exact") || v.has("prefix") || v.has("regex"))
                || (v.has("prefix") && v.path("prefix").asText().isEmpty())
                || (v.has("regex") && v.path("regex").asText().equals("*"));
        if (catchAll) {
            return h.setPresentMatch(true);
        }
        stringMatch(v).ifPresent(h::setStringMatch);
        return h;
    }

    /** Istio's ConvertToEnvoyMatch: exact, prefix or regex (safe_regex). */
    private static Optional<StringMatcher> stringMatch(JsonNode v) {
        StringMatcher.Builder s = StringMatcher.newBuilder();
        if (v.has("exact")) {
            return Optional.of(s.setExact(v.path("exact").asText()).build());
        } else if (v.has("prefix")) {
            return Optional.of(s.setPrefix(v.path("prefix").asText()).build());
        } else if (v.has("regex")) {
            return Optional.of(s.setSafeRegex(RegexMatcher.newBuilder().setRegex(v.path("regex").asText())).build());
        }
        return Optional.empty();
    }

    private static RouteAction.Builder action(JsonNode http, IstioConfig vs, MeshModel model,
            List<TranslationWarning> warnings, Route.Builder route, String authority, int listenerPort) {
        String where = "VirtualService " + vs.key();
        List<JsonNode> dests = Clusters.list(http.path("route"));
        if (dests.isEmpty()) {
            warnings.add(new TranslationWarning(where, "http route without route, redirect or directResponse left out"));
            return null;
        }
        RouteAction.Builder a = RouteAction.newBuilder().setTimeout(Protos.seconds(0));
        if (http.has("timeout")) {
            Optional<Duration> t = IstioDurations.parse(http.path("timeout").asText());
            if (t.isEmpty()) {
                warnings.add(new TranslationWarning(where, "timeout " + http.path("timeout").asText()
                        + " is not a duration; route left out"));
                return null;
            }
            a.setTimeout(t.get());
        }
        RouteActions.rewrite(a, http.path("rewrite"));
        if (!http.path("rewrite").path("authority").asText("").isEmpty()) {
            authority = http.path("rewrite").path("authority").asText();
        }
        if (!authority.isEmpty()) {
            a.setHostRewriteLiteral(authority);
        }
        RouteActions.mirrors(a, http, vs, model, warnings, listenerPort);
        boolean consistentHash = false;
        if (dests.size() == 1) {
            JsonNode d = dests.get(0).path("destination");
            Optional<RouteAction.HashPolicy> hash = Clusters.hashPolicy(model, model.fqdn(d.path("host").asText(), vs.namespace()),
                    d.path("subset").asText(""), d.path("port").path("number").asInt(0));
            hash.ifPresent(a::addHashPolicy);
            consistentHash = hash.isPresent();
            a.setCluster(cluster(dests.get(0), vs, model, listenerPort));
            if (dests.get(0).has("headers")) {
                HeaderOperations ops = HeaderOperations.of(dests.get(0).path("headers"), where, warnings);
                addHeaders(route, ops);
                if (!ops.authority().isEmpty() && !a.hasHostRewriteLiteral()) {
                    a.setHostRewriteLiteral(ops.authority());
                }
            }
        } else {
            WeightedCluster.Builder wc = WeightedCluster.newBuilder();
            for (JsonNode d : dests) {
                if (d.path("weight").asInt(0) == 0) {
                    continue; // Istio leaves out zero-weight destinations when there are others
                }
                if (d.has("headers")) {
                    warnings.add(new TranslationWarning(where, "headers on one of several weighted destinations are not"
                            + " supported; left out"));
                }
                wc.addClusters(WeightedCluster.ClusterWeight.newBuilder()
                        .setName(cluster(d, vs, model, listenerPort))
                        .setWeight(Protos.uint(d.path("weight").asInt(0))));
            }
            a.setWeightedClusters(wc);
        }
        RetryPolicy retry = Retries.convert(http.path("retries"), consistentHash,
                where, warnings);
        if (retry != null) {
            a.setRetryPolicy(retry);
        }
        return a;
    }

    static String clusterFor(JsonNode destination, IstioConfig vs, MeshModel model, int listenerPort) {
        return cluster(JsonNodeFactory.instance.objectNode()
                .set("destination", destination), vs, model, listenerPort);
    }

    /** Istio's GetDestinationCluster: the destination's port, else the service's only port, else the listener's. */
    private static String cluster(JsonNode route, IstioConfig vs, MeshModel model, int listenerPort) {
        JsonNode dest = route.path("destination");
        String fqdn = model.fqdn(dest.path("host").asText(), vs.namespace());
        int port = dest.path("port").path("number").asInt(0);
        if (port == 0) {
            // Istio allows omitting the port when the service has exactly one.
            port = model.serviceByFqdn(fqdn).map(Service::ports).filter(p -> p.size() == 1)
                    .map(p -> p.get(0).port()).orElse(listenerPort);
        }
        return Names.outboundCluster(port, dest.path("subset").asText(""), fqdn);
    }

    private static String operation(JsonNode http, IstioConfig vs, MeshModel model) {
        JsonNode dest = Clusters.list(http.path("route")).get(0).path("destination");
        String fqdn = model.fqdn(dest.path("host").asText(), vs.namespace());
        Optional<Service> svc = model.serviceByFqdn(fqdn);
        int port = dest.path("port").path("number").asInt(
                svc.map(s -> s.ports().isEmpty() ? 0 : s.ports().get(0).port()).orElse(0));
        return fqdn + ":" + port + "/*";
    }
}
