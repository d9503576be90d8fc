package io.sourcemesh.control.translate;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.config.route.v3.Decorator;
import io.envoyproxy.envoy.config.route.v3.HeaderMatcher;
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
import java.util.List;
import java.util.Optional;

/** VirtualService http routes → Envoy routes (pilot/pkg/networking/core/route/route.go, the common subset). */
final class HttpRoutes {
    private HttpRoutes() {}

    /** The default route Istio gives a service with no VirtualService. */
    static Route defaultRoute(String cluster, String operation) {
        return defaultRoute(cluster, operation, Optional.empty());
    }

    static Route defaultRoute(String cluster, String operation, Optional<RouteAction.HashPolicy> hash) {
        RouteAction.Builder action = RouteAction.newBuilder().setCluster(cluster).setTimeout(Protos.seconds(0));
        hash.ifPresent(action::addHashPolicy);
        return Route.newBuilder()
                .setName("default")
                .setMatch(RouteMatch.newBuilder().setPrefix("/"))
                .setRoute(action)
                .setDecorator(Decorator.newBuilder().setOperation(operation))
                .build();
    }

    /** Every http route of the VirtualService, one Envoy route per match (or one catch-all without matches). */
    static List<Route> of(IstioConfig vs, MeshModel model, List<TranslationWarning> warnings) {
        List<Route> out = new ArrayList<>();
        for (JsonNode http : Clusters.list(vs.spec().path("http"))) {
            List<JsonNode> matches = Clusters.list(http.path("match"));
            RouteAction.Builder action = action(http, vs, model, warnings);
            if (action == null) {
                continue;
            }
            String operation = operation(http, vs, model);
            Metadata meta = Metadata.newBuilder().putFilterMetadata("istio", Struct.newBuilder()
                    .putFields("config", Value.newBuilder().setStringValue(
                            "/apis/networking.istio.io/v1alpha3/namespaces/" + vs.namespace()
                                    + "/virtual-service/" + vs.name()).build())
                    .build()).build();
            if (matches.isEmpty()) {
                matches = List.of(com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode());
            }
            for (JsonNode m : matches) {
                Route.Builder r = Route.newBuilder()
                        .setMatch(match(m))
                        .setRoute(action)
                        .setMetadata(meta)
                        .setDecorator(Decorator.newBuilder().setOperation(operation));
                String name = http.path("name").asText("");
                String matchName = m.path("name").asText("");
                if (!name.isEmpty() || !matchName.isEmpty()) {
                    r.setName(name.isEmpty() ? matchName : matchName.isEmpty() ? name : name + "." + matchName);
                }
                out.add(r.build());
            }
        }
        return out;
    }

    private static RouteMatch match(JsonNode m) {
        RouteMatch.Builder b = RouteMatch.newBuilder();
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
        m.path("headers").properties().forEach(e -> {
            HeaderMatcher.Builder h = HeaderMatcher.newBuilder().setName(e.getKey());
            JsonNode v = e.getValue();
            StringMatcher.Builder s = StringMatcher.newBuilder();
            if (v.has("exact")) {
                s.setExact(v.path("exact").asText());
            } else if (v.has("prefix")) {
                s.setPrefix(v.path("prefix").asText());
            } else if (v.has("regex")) {
                s.setSafeRegex(RegexMatcher.newBuilder().setRegex(v.path("regex").asText()));
            } else {
                h.setPresentMatch(true);
                b.addHeaders(h);
                return;
            }
            b.addHeaders(h.setStringMatch(s));
        });
        return b.build();
    }

    private static RouteAction.Builder action(JsonNode http, IstioConfig vs, MeshModel model,
            List<TranslationWarning> warnings) {
        List<JsonNode> dests = Clusters.list(http.path("route"));
        if (dests.isEmpty()) {
            warnings.add(new TranslationWarning("VirtualService " + vs.key(),
                    "http route without destinations (redirect/directResponse are not supported) left out"));
            return null;
        }
        RouteAction.Builder a = RouteAction.newBuilder().setTimeout(Protos.seconds(0));
        if (dests.size() == 1) {
            JsonNode d = dests.get(0).path("destination");
            Clusters.hashPolicy(model, model.fqdn(d.path("host").asText(), vs.namespace()),
                    d.path("subset").asText("")).ifPresent(a::addHashPolicy);
            return a.setCluster(cluster(dests.get(0), vs, model));
        }
        WeightedCluster.Builder wc = WeightedCluster.newBuilder();
        for (JsonNode d : dests) {
            wc.addClusters(WeightedCluster.ClusterWeight.newBuilder()
                    .setName(cluster(d, vs, model))
                    .setWeight(Protos.uint(d.path("weight").asInt(0))));
        }
        return a.setWeightedClusters(wc);
    }

    private static String cluster(JsonNode route, IstioConfig vs, MeshModel model) {
        JsonNode dest = route.path("destination");
        String fqdn = model.fqdn(dest.path("host").asText(), vs.namespace());
        int port = dest.path("port").path("number").asInt(0);
        if (port == 0) {
            // Istio allows omitting the port when the service has exactly one.
            port = model.serviceByFqdn(fqdn).map(Service::ports).filter(p -> p.size() == 1)
                    .map(p -> p.get(0).port()).orElse(0);
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
