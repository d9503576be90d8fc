package io.sourcemesh.control.translate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.control.model.IstioConfig;
import io.sourcemesh.control.model.MeshModel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * VirtualService delegation, as Istio merges it before any proxy reads a VirtualService (pilot/pkg/model/
 * virtualservice_controller.go mergeVirtualServices, virtualservice.go MergeHTTPRoutes): a VirtualService without hosts
 * is a delegate, seen by no proxy itself; a root's http route naming one ({@code delegate: {name, namespace}}, the
 * namespace the root's when unset) is replaced by the delegate's routes, each merged with it — its matches narrowed by
 * the root's (a delegate match must fit inside one of the root's, else that route is left out), the root's name prefixed,
 * and what the delegate route leaves unset (rewrite, directResponse, timeout, retries, fault, mirrors, corsPolicy,
 * headers) taken from the root's. A delegate that is missing, or whose exportTo does not show it to the root's namespace,
 * leaves only that route out. The delegate's destination hosts and match gateways are resolved in its own namespace
 * (Istio's ResolveVirtualServiceShortnames) before they join the root.
 */
final class VirtualServiceDelegates {
    /** The route fields a delegate route takes from its root's when it leaves them unset (mergeHTTPRoute). */
    private static final List<String> INHERITED = List.of("rewrite", "directResponse", "timeout", "retries", "fault", "mirror",
            "mirrorPercent", "mirrorPercentage", "corsPolicy", "mirrors", "headers");
    private static final List<String> STRING_MATCHES = List.of("uri", "scheme", "method", "authority");

    private VirtualServiceDelegates() {}

    /** {@code model} with each root's delegating routes replaced by its delegates' and the delegates themselves gone. */
    static MeshModel merged(MeshModel model, List<TranslationWarning> warnings) {
        Map<String, IstioConfig> delegates = new HashMap<>();
        for (IstioConfig vs : model.virtualServices()) {
            if (vs.spec().path("hosts").isEmpty()) {
                delegates.put(vs.key(), vs);
            }
        }
        boolean roots = model.virtualServices().stream().anyMatch(VirtualServiceDelegates::isRoot);
        if (delegates.isEmpty() && !roots) {
            return model;
        }
        List<IstioConfig> out = new ArrayList<>();
        for (IstioConfig vs : model.virtualServices()) {
            if (delegates.containsKey(vs.key())) {
                continue;
            }
            out.add(isRoot(vs) ? mergeRoot(vs, delegates, model, warnings) : vs);
        }
        return model.withVirtualServices(out);
    }

    private static boolean isRoot(IstioConfig vs) {
        return !vs.spec().path("hosts").isEmpty()
                && Clusters.list(vs.spec().path("http")).stream().anyMatch(h -> h.path("delegate").isObject());
    }

    private static IstioConfig mergeRoot(IstioConfig root, Map<String, IstioConfig> delegates, MeshModel model,
            List<TranslationWarning> warnings) {
        String where = "VirtualService " + root.key();
        ArrayNode merged = JsonNodeFactory.instance.arrayNode();
        List<JsonNode> http = Clusters.list(root.spec().path("http"));
        for (int i = 0; i < http.size(); i++) {
            JsonNode route = http.get(i);
            JsonNode ref = route.path("delegate");
            if (!ref.isObject()) {
                merged.add(route);
                continue;
            }
            String ns = ref.path("namespace").asText("");
            String key = (ns.isEmpty() ? root.namespace() : ns) + "/" + ref.path("name").asText("");
            IstioConfig delegate = delegates.get(key);
            if (delegate == null) {
                warnings.add(new TranslationWarning(where, "http[" + i + "] delegates to VirtualService " + key
                        + ", which does not exist or has hosts (a delegate has none); the route is left out, as Istio"));
                continue;
            }
            // its exportTo, else the mesh's defaultVirtualServiceExportTo (virtualservice_controller.go delegateVirtualServices)
            Set<String> exportTo = ExportTo.exported(delegate, model.meshConfig().exportTo().virtualService());
            if (!exportTo.contains("*") && !exportTo.contains(root.namespace())) {
                warnings.add(new TranslationWarning(where, "http[" + i + "] delegates to VirtualService " + key
                        + ", whose exportTo does not include namespace " + root.namespace() + "; the route is left out, "
                        + "as Istio"));
                continue;
            }
            List<JsonNode> subRoutes = Clusters.list(delegate.spec().path("http"));
            for (int j = 0; j < subRoutes.size(); j++) {
                JsonNode sub = resolved(subRoutes.get(j), delegate.namespace(), model);
                if (sub.path("delegate").isObject()) {
                    warnings.add(new TranslationWarning(where, "http[" + i + "]: VirtualService " + key + " http[" + j
                            + "] delegates again, which Istio refuses; that route is left out"));
                    continue;
                }
                ObjectNode one = mergeRoute(route, sub, root.namespace(), delegate.namespace());
                if (one == null) {
                    warnings.add(new TranslationWarning(where, "http[" + i + "]: VirtualService " + key + " http[" + j
                            + "] has a match that fits none of the root route's matches; that route is left out, as "
                            + "Istio"));
                    continue;
                }
                merged.add(one);
            }
        }
        ObjectNode spec = root.spec().deepCopy();
        spec.set("http", merged);
        return new IstioConfig(root.kind(), root.name(), root.namespace(), root.labels(), root.creationTimestamp(), spec);
    }

    /** A delegate route with its destinations' hosts and its matches' gateways resolved in the delegate's namespace. */
    private static JsonNode resolved(JsonNode route, String namespace, MeshModel model) {
        ObjectNode r = route.deepCopy();
        for (JsonNode d : Clusters.list(r.path("route"))) {
            resolveHost(d.path("destination"), namespace, model);
        }
        resolveHost(r.path("mirror"), namespace, model);
        for (JsonNode m : Clusters.list(r.path("mirrors"))) {
            resolveHost(m.path("destination"), namespace, model);
        }
        for (JsonNode m : Clusters.list(r.path("match"))) {
            resolveGateways(m, namespace);
        }
        return r;
    }

    private static void resolveHost(JsonNode destination, String namespace, MeshModel model) {
        if (destination instanceof ObjectNode d && d.hasNonNull("host")) {
            d.put("host", model.fqdn(d.path("host").asText(), namespace));
        }
    }

    private static void resolveGateways(JsonNode match, String namespace) {
        if (match instanceof ObjectNode m && m.path("gateways").isArray()) {
            ArrayNode out = JsonNodeFactory.instance.arrayNode();
            m.path("gateways").forEach(g -> out.add(RouteSource.resolveGateway(g.asText(), namespace)));
            m.set("gateways", out);
        }
    }

    /** Istio's mergeHTTPRoute: null when a delegate match fits none of the root's. */
    private static ObjectNode mergeRoute(JsonNode root, JsonNode delegate, String rootNamespace, String delegateNamespace) {
        List<JsonNode> rootMatches = new ArrayList<>();
        for (JsonNode m : Clusters.list(root.path("match"))) {
            ObjectNode copy = m.deepCopy();
            resolveGateways(copy, rootNamespace);
            rootMatches.add(copy);
        }
        List<JsonNode> matches = mergeMatches(rootMatches, Clusters.list(delegate.path("match")));
        if (matches == null) {
            return null;
        }
        ObjectNode out = delegate.deepCopy();
        out.remove("match");
        if (!matches.isEmpty()) {
            out.set("match", JsonNodeFactory.instance.arrayNode().addAll(matches));
        }
        joinName(out, root.path("name").asText(""));
        for (String f : INHERITED) {
            if (unset(out, f) && !unset(root, f)) {
                out.set(f, root.path(f).deepCopy());
            }
        }
        return out;
    }

    /** A field Go reads as nil: absent, null, or (a list) empty. */
    private static boolean unset(JsonNode node, String field) {
        JsonNode v = node.path(field);
        return v.isMissingNode() || v.isNull() || (v.isArray() && v.isEmpty());
    }

    /** Istio's naming: the delegate's name, else the root's; both set, root-delegate. */
    private static void joinName(ObjectNode out, String rootName) {
        String name = out.path("name").asText("");
        if (name.isEmpty() && !rootName.isEmpty()) {
            out.put("name", rootName);
        } else if (!name.isEmpty() && !rootName.isEmpty()) {
            out.put("name", rootName + "-" + name);
        }
    }

    /**
     * Istio's mergeHTTPMatchRequests: with no matches on either side the other's; else each delegate match merged with
     * every root match it does not conflict with, and null (the route left out) when one fits none.
     */
    static List<JsonNode> mergeMatches(List<JsonNode> root, List<JsonNode> delegate) {
        if (root.isEmpty()) {
            return delegate;
        }
        if (delegate.isEmpty()) {
            return root;
        }
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode sub : delegate) {
            boolean found = false;
            for (JsonNode r : root) {
                if (!conflict(r, sub)) {
                    out.add(mergeMatch(r, sub));
                    found = true;
                }
            }
            if (!found) {
                return null;
            }
        }
        return out.isEmpty() ? null : out;
    }

    /** Istio's mergeHTTPMatchRequest: the delegate's match, what it leaves unset the root's, maps joined (its keys win). */
    private static JsonNode mergeMatch(JsonNode root, JsonNode delegate) {
        ObjectNode out = delegate.deepCopy();
        joinName(out, root.path("name").asText(""));
        for (String f : STRING_MATCHES) {
            if (unset(out, f) && !unset(root, f)) {
                out.set(f, root.path(f).deepCopy());
            }
        }
        for (String f : List.of("headers", "withoutHeaders", "queryParams", "sourceLabels")) {
            ObjectNode joined = JsonNodeFactory.instance.objectNode();
            if (root.path(f).isObject()) {
                joined.setAll((ObjectNode) root.path(f));
            }
            if (delegate.path(f).isObject()) {
                joined.setAll((ObjectNode) delegate.path(f).deepCopy());
            }
            out.remove(f);
            if (!joined.isEmpty()) {
                out.set(f, joined);
            }
        }
        if (out.path("port").asInt(0) == 0 && root.path("port").asInt(0) != 0) {
            out.set("port", root.path("port"));
        }
        for (String f : List.of("sourceNamespace", "statPrefix")) {
            if (out.path(f).asText("").isEmpty() && !root.path(f).asText("").isEmpty()) {
                out.set(f, root.path(f));
            }
        }
        if (unset(out, "gateways") && !unset(root, "gateways")) {
            out.set("gateways", root.path("gateways").deepCopy());
        }
        return out;
    }

    /** Istio's hasConflict: whether the delegate's match {@code leaf} cannot be narrowed into the root's {@code root}. */
    static boolean conflict(JsonNode root, JsonNode leaf) {
        for (String f : STRING_MATCHES) {
            if (stringMatchConflict(root.get(f), leaf.get(f))) {
                return true;
            }
        }
        for (String f : List.of("headers", "withoutHeaders", "queryParams")) {
            var it = leaf.path(f).properties().iterator();
            while (it.hasNext()) {
                var e = it.next();
                if (stringMatchConflict(root.path(f).get(e.getKey()), e.getValue())) {
                    return true;
                }
            }
        }
        if (root.path("ignoreUriCase").asBoolean(false) != leaf.path("ignoreUriCase").asBoolean(false)) {
            return true;
        }
        int rootPort = root.path("port").asInt(0);
        int leafPort = leaf.path("port").asInt(0);
        if (rootPort > 0 && leafPort > 0 && rootPort != leafPort) {
            return true;
        }
        String rootNs = root.path("sourceNamespace").asText("");
        if (!rootNs.isEmpty() && !rootNs.equals(leaf.path("sourceNamespace").asText(""))) {
            return true;
        }
        var labels = leaf.path("sourceLabels").properties().iterator();
        while (labels.hasNext()) {
            var e = labels.next();
            JsonNode v = root.path("sourceLabels").get(e.getKey());
            if (v != null && !v.asText().equals(e.getValue().asText())) {
                return true;
            }
        }
        List<JsonNode> rootGateways = Clusters.list(root.path("gateways"));
        List<JsonNode> leafGateways = Clusters.list(leaf.path("gateways"));
        if (!rootGateways.isEmpty() && !leafGateways.isEmpty()) {
            if (rootGateways.size() < leafGateways.size()) {
                return true;
            }
            Set<String> names = new HashSet<>();
            rootGateways.forEach(g -> names.add(g.asText()));
            return leafGateways.stream().anyMatch(g -> !names.contains(g.asText()));
        }
        return false;
    }

    /**
     * Istio's stringMatchConflict: none when either side is unset; a regex on either side conflicts with anything else
     * set; an exact root takes only the same exact; a prefix root a prefix or exact that starts with it.
     */
    private static boolean stringMatchConflict(JsonNode root, JsonNode leaf) {
        if (root == null || root.isNull() || leaf == null || leaf.isNull()) {
            return false;
        }
        String rootExact = root.path("exact").asText("");
        String rootPrefix = root.path("prefix").asText("");
        String rootRegex = root.path("regex").asText("");
        String leafExact = leaf.path("exact").asText("");
        String leafPrefix = leaf.path("prefix").asText("");
        String leafRegex = leaf.path("regex").asText("");
        if (!rootRegex.isEmpty() && (!leafRegex.isEmpty() || !leafPrefix.isEmpty() || !leafExact.isEmpty())) {
            return true;
        }
        if (!leafRegex.isEmpty() && (!rootRegex.isEmpty() || !rootPrefix.isEmpty() || !rootExact.isEmpty())) {
            return true;
        }
        if (!rootExact.isEmpty()) {
            return !leafPrefix.isEmpty() || !leafExact.equals(rootExact);
        }
        if (!rootPrefix.isEmpty()) {
            if (!leafPrefix.isEmpty()) {
                return !leafPrefix.startsWith(rootPrefix);
            }
            if (!leafExact.isEmpty()) {
                return !leafExact.startsWith(rootPrefix);
            }
        }
        return true;
    }
}
