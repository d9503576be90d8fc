package io.sourcemesh.cluster.kubeapi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.ResourceKind;
import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The API's self-description, as kubectl reads it: {@code /version}, {@code /api}, {@code /apis},
 * each group-version's resource list (names, short names, verbs, the "all" category), and the
 * OpenAPI v3 documents that tell kubectl the server validates fields itself ({@code fieldValidation}
 * on every PATCH), so {@code kubectl apply}'s default {@code --validate=strict} is done server-side.
 * Aggregated discovery ({@code apidiscovery.k8s.io} v2 and v2beta1, one document for {@code /api} and one for
 * {@code /apis}) is built from the per-group-version documents, so the two can never disagree.
 */
final class Discovery {
    static final String VERSION = "v1.32.0-sourcemesh";
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final List<String> VERBS = List.of("create", "delete", "get", "list", "patch", "update", "watch");
    private static final Set<String> IN_ALL = Set.of("Pod", "Service", "Deployment", "ReplicaSet");

    private Discovery() {
    }

    static ObjectNode version() {
        ObjectNode v = F.objectNode();
        v.put("major", "1").put("minor", "32").put("gitVersion", VERSION).put("gitCommit", "").put("gitTreeState", "clean")
                .put("buildDate", "2026-01-01T00:00:00Z").put("goVersion", "java" + Runtime.version().feature())
                .put("compiler", "sourcemesh").put("platform", "linux/amd64");
        return v;
    }

    /** Group name to its versions, in the order discovery lists them (preferred first). */
    static Map<String, List<String>> groups() {
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (ResourceKind k : ResourceKind.all()) {
            if (k.group().isEmpty()) {
                continue;
            }
            List<String> versions = out.getOrDefault(k.group(), List.of());
            for (String v : k.versions()) {
                if (!versions.contains(v)) {
                    versions = new ArrayList<>(versions);
                    versions.add(v);
                }
            }
            out.put(k.group(), List.copyOf(versions));
        }
        return out;
    }

    static ObjectNode apiVersions(String serverAddress) {
        ObjectNode n = F.objectNode();
        n.put("kind", "APIVersions");
        n.putArray("versions").add("v1");
        n.putArray("serverAddressByClientCIDRs").addObject().put("clientCIDR", "0.0.0.0/0").put("serverAddress", serverAddress);
        return n;
    }

    static ObjectNode apiGroupList() {
        ObjectNode n = F.objectNode();
        n.put("kind", "APIGroupList").put("apiVersion", "v1");
        ArrayNode groups = n.putArray("groups");
        groups().forEach((group, versions) -> {
            ObjectNode g = groups.addObject().put("name", group);
            ArrayNode vs = g.putArray("versions");
            versions.forEach(v -> vs.addObject().put("groupVersion", group + "/" + v).put("version", v));
            g.putObject("preferredVersion").put("groupVersion", group + "/" + versions.getFirst()).put("version", versions.getFirst());
        });
        return n;
    }

    static Optional<ObjectNode> apiGroup(String group) {
        return apiGroupList().path("groups").valueStream().filter(g -> g.path("name").asText().equals(group))
                .findFirst().map(g -> {
                    ObjectNode n = ((ObjectNode) g).deepCopy();
                    n.put("kind", "APIGroup").put("apiVersion", "v1");
                    return n;
                });
    }

    private static List<ResourceKind> served(String group, String version) {
        return ResourceKind.all().stream().filter(k -> k.group().equals(group) && k.versions().contains(version)).toList();
    }

    static Optional<ObjectNode> resourceList(String group, String version) {
        List<ResourceKind> kinds = served(group, version);
        if (kinds.isEmpty()) {
            return Optional.empty();
        }
        ObjectNode n = F.objectNode();
        n.put("kind", "APIResourceList").put("apiVersion", "v1").put("groupVersion", group.isEmpty() ? version : group + "/" + version);
        ArrayNode resources = n.putArray("resources");
        for (ResourceKind k : kinds) {
            ObjectNode r = resources.addObject();
            r.put("name", k.plural()).put("singularName", k.singular()).put("namespaced", k.namespaced()).put("kind", k.kind());
            ArrayNode verbs = r.putArray("verbs");
            VERBS.forEach(verbs::add);
            if (!k.shortNames().isEmpty()) {
                ArrayNode sn = r.putArray("shortNames");
                k.shortNames().forEach(sn::add);
            }
            if (IN_ALL.contains(k.kind())) {
                r.putArray("categories").add("all");
            }
            if (Writes.hasStatus(k)) {
                resources.addObject().put("name", k.plural() + "/status").put("singularName", "").put("namespaced", k.namespaced())
                        .put("kind", k.kind()).putArray("verbs").add("get").add("patch").add("update");
            }
            if (Scale.scalable(k)) {
                resources.addObject().put("name", k.plural() + "/scale").put("singularName", "").put("namespaced", k.namespaced())
                        .put("group", "autoscaling").put("version", "v1").put("kind", "Scale")
                        .putArray("verbs").add("get").add("patch").add("update");
            }
            if (k.equals(ResourceKind.POD)) {
                resources.addObject().put("name", "pods/log").put("singularName", "").put("namespaced", true).put("kind", "Pod")
                        .putArray("verbs").add("get");
                resources.addObject().put("name", "pods/exec").put("singularName", "").put("namespaced", true)
                        .put("kind", "PodExecOptions").putArray("verbs").add("create").add("get");
                // kubectl drain looks for it here (CheckEvictionSupport) and evicts through it, else deletes
                resources.addObject().put("name", "pods/eviction").put("singularName", "").put("namespaced", true)
                        .put("group", "policy").put("version", "v1").put("kind", "Eviction").putArray("verbs").add("create");
            }
        }
        return Optional.of(n);
    }

    /** The media type of aggregated discovery in this apidiscovery.k8s.io version. */
    static String aggregatedType(String version) {
        return "application/json;g=apidiscovery.k8s.io;v=" + version + ";as=APIGroupDiscoveryList";
    }

    /**
     * Which aggregated-discovery version an Accept header asks for before plain JSON ({@code v2} or
     * {@code v2beta1}, as client-go lists them), or empty when the client wants the legacy documents.
     */
    static Optional<String> aggregatedVersion(String accept) {
        if (accept == null) {
            return Optional.empty();
        }
        for (String range : accept.split(",")) {
            String[] parts = range.strip().split(";");
            String type = parts[0].strip();
            Map<String, String> params = new LinkedHashMap<>();
            for (int i = 1; i < parts.length; i++) {
                String[] kv = parts[i].strip().split("=", 2);
                if (kv.length == 2) {
                    params.put(kv[0].strip(), kv[1].strip());
                }
            }
            if (!params.containsKey("g")) {
                if (type.equals("application/json") || type.equals("*/*") || type.equals("application/*")) {
                    return Optional.empty();
                }
                continue;
            }
            String v = params.getOrDefault("v", "");
            if (type.equals("application/json") && params.get("g").equals("apidiscovery.k8s.io")
                    && "APIGroupDiscoveryList".equals(params.get("as")) && (v.equals("v2") || v.equals("v2beta1"))) {
                return Optional.of(v);
            }
        }
        return Optional.empty();
    }

    /**
     * The aggregated discovery document of {@code /api} ({@code legacy}: the core group) or {@code /apis}
     * (every other group), in apidiscovery.k8s.io {@code version}: each group's versions (preferred first),
     * each version's resources with their subresources, taken from {@link #resourceList}.
     */
    static ObjectNode aggregated(boolean legacy, String version) {
        ObjectNode n = F.objectNode();
        n.put("kind", "APIGroupDiscoveryList").put("apiVersion", "apidiscovery.k8s.io/" + version);
        n.putObject("metadata");
        ArrayNode items = n.putArray("items");
        Map<String, List<String>> groups = legacy ? Map.of("", List.of("v1")) : groups();
        groups.forEach((group, versions) -> {
            ObjectNode g = items.addObject();
            ObjectNode meta = g.putObject("metadata");
            if (!group.isEmpty()) {
                meta.put("name", group);
            }
            meta.putNull("creationTimestamp");
            ArrayNode vs = g.putArray("versions");
            for (String v : versions) {
                ObjectNode entry = vs.addObject().put("version", v);
                entry.set("resources", aggregatedResources(group, v, resourceList(group, v).orElseThrow()));
                entry.put("freshness", "Current");
            }
        });
        return n;
    }

    private static ArrayNode aggregatedResources(String group, String version, JsonNode list) {
        ArrayNode out = F.arrayNode();
        Map<String, ObjectNode> byName = new LinkedHashMap<>();
        for (JsonNode r : list.path("resources")) {
            String name = r.path("name").asText();
            ObjectNode kind = F.objectNode().put("group", r.path("group").asText(group)).put("version", r.path("version").asText(version))
                    .put("kind", r.path("kind").asText());
            int slash = name.indexOf('/');
            if (slash < 0) {
                ObjectNode a = out.addObject();
                a.put("resource", name);
                a.set("responseKind", kind);
                a.put("scope", r.path("namespaced").asBoolean() ? "Namespaced" : "Cluster");
                a.put("singularResource", r.path("singularName").asText());
                a.set("verbs", r.path("verbs").deepCopy());
                if (r.has("shortNames")) {
                    a.set("shortNames", r.get("shortNames").deepCopy());
                }
                if (r.has("categories")) {
                    a.set("categories", r.get("categories").deepCopy());
                }
                byName.put(name, a);
            } else {
                ObjectNode sub = byName.get(name.substring(0, slash)).withArrayProperty("subresources").addObject();
                sub.put("subresource", name.substring(slash + 1));
                sub.set("responseKind", kind);
                sub.set("verbs", r.path("verbs").deepCopy());
            }
        }
        return out;
    }

    /** {@code /openapi/v3}: one document per group-version. */
    static ObjectNode openApiRoot() {
        ObjectNode n = F.objectNode();
        ObjectNode paths = n.putObject("paths");
        paths.putObject("api/v1").put("serverRelativeURL", "/openapi/v3/api/v1?hash=" + hash("", "v1"));
        groups().forEach((group, versions) -> versions.forEach(v ->
                paths.putObject("apis/" + group + "/" + v).put("serverRelativeURL",
                        "/openapi/v3/apis/" + group + "/" + v + "?hash=" + hash(group, v))));
        return n;
    }

    private static final Map<String, String> HASHES = new ConcurrentHashMap<>();

    /** The document's content hash, as kube-apiserver puts it in the URL: kubectl caches a document by it. */
    private static String hash(String group, String version) {
        return HASHES.computeIfAbsent(group + "/" + version, gv -> {
            try {
                byte[] doc = KubeApiHandler.JSON.writeValueAsBytes(openApi(group, version).orElseThrow());
                byte[] digest = MessageDigest.getInstance("SHA-512").digest(doc);
                return HexFormat.of().withUpperCase().formatHex(digest);
            } catch (IOException | NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /**
     * A group-version's OpenAPI v3 document: its paths with the operations we serve, each naming its
     * kind ({@code x-kubernetes-group-version-kind}) and the query parameters it honours, and its kinds'
     * schemas ({@link OpenApiSchemas}). Validation stays the server's ({@code fieldValidation}). The
     * PATCH content types leave strategic merge out, though the server takes it: kubectl would compute
     * its apply patch from these schemas, whose free-form subtrees (probes, affinity) it cannot descend,
     * and print a warning; without it kubectl computes the patch from its compiled-in types, which are kube's.
     */
    static Optional<ObjectNode> openApi(String group, String version) {
        List<ResourceKind> kinds = served(group, version);
        if (kinds.isEmpty()) {
            return Optional.empty();
        }
        ObjectNode doc = F.objectNode();
        doc.put("openapi", "3.0.0");
        doc.putObject("info").put("title", "Kubernetes").put("version", VERSION);
        ObjectNode paths = doc.putObject("paths");
        String prefix = group.isEmpty() ? "/api/" + version : "/apis/" + group + "/" + version;
        for (ResourceKind k : kinds) {
            String collection = prefix + (k.namespaced() ? "/namespaces/{namespace}/" : "/") + k.plural();
            ObjectNode gvk = F.objectNode().put("group", group).put("version", version).put("kind", k.kind());
            ObjectNode item = paths.putObject(collection + "/{name}");
            item.set("get", operation("read", gvk, List.of()));
            item.set("put", operation("replace", gvk, List.of("dryRun", "fieldManager", "fieldValidation")));
            ObjectNode patch = operation("patch", gvk, List.of("dryRun", "fieldManager", "fieldValidation", "force"));
            ObjectNode content = patch.putObject("requestBody").putObject("content");
            content.putObject("application/json-patch+json");
            content.putObject("application/merge-patch+json");
            content.putObject("application/apply-patch+yaml");
            item.set("patch", patch);
            item.set("delete", operation("delete", gvk, List.of("dryRun", "propagationPolicy")));
            ObjectNode coll = paths.putObject(collection);
            coll.set("get", operation("list", gvk, List.of("labelSelector", "fieldSelector", "resourceVersion", "watch", "timeoutSeconds")));
            coll.set("post", operation("post", gvk, List.of("dryRun", "fieldManager", "fieldValidation")));
        }
        doc.putObject("components").set("schemas", OpenApiSchemas.components(group, version, kinds));
        return Optional.of(doc);
    }

    private static ObjectNode operation(String action, JsonNode gvk, List<String> queryParams) {
        ObjectNode op = F.objectNode();
        op.put("x-kubernetes-action", action);
        op.set("x-kubernetes-group-version-kind", gvk);
        ArrayNode params = op.putArray("parameters");
        for (String p : queryParams) {
            params.addObject().put("name", p).put("in", "query").put("uniqueItems", true).putObject("schema").put("type", "string");
        }
        op.putObject("responses").putObject("200").put("description", "OK");
        return op;
    }
}
