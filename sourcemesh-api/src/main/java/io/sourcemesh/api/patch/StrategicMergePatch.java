package io.sourcemesh.api.patch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.ResourceKind;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Kubernetes' strategic merge patch, kubectl's default for built-in kinds. Like a JSON merge patch, except
 * that lists the API types mark {@code patchStrategy: merge} merge element by element on their merge key
 * (containers by name, container ports by containerPort, Service ports by port, volumeMounts by mountPath),
 * and the {@code $patch: replace|delete|merge} and {@code $deleteFromPrimitiveList/} directives apply.
 */
public final class StrategicMergePatch {

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final Set<String> CONTAINER_LISTS = Set.of("containers", "initContainers", "ephemeralContainers");
    private static final Map<String, String> BY_FIELD = Map.of(
            "containers", "name", "initContainers", "name", "ephemeralContainers", "name", "volumes", "name",
            "imagePullSecrets", "name", "volumeMounts", "mountPath", "volumeDevices", "devicePath",
            "hostAliases", "ip", "ownerReferences", "uid", "conditions", "type");
    // Lists of scalars whose strategy is merge: the patch's values are added to the original's.
    private static final Set<String> PRIMITIVE_MERGE = Set.of("finalizers");
    private static final String DIRECTIVE = "$patch";

    private StrategicMergePatch() {
    }

    /** The patched copy of {@code original}, an object of {@code kind}. */
    public static JsonNode apply(JsonNode original, JsonNode patch, ResourceKind kind) {
        if (!patch.isObject()) {
            throw new PatchException("a strategic merge patch must be an object");
        }
        JsonNode merged = mergeObject(original.isObject() ? (ObjectNode) original.deepCopy() : NODES.objectNode(),
                (ObjectNode) patch, kind, List.of());
        return merged == null ? NODES.objectNode() : merged;
    }

    /** The merge key of the list at this field path (indices left out), or null when the list is replaced. */
    public static String mergeKey(ResourceKind kind, List<String> path) {
        String field = path.getLast();
        String parent = path.size() > 1 ? path.get(path.size() - 2) : "";
        if (field.equals("ports")) {
            if (CONTAINER_LISTS.contains(parent)) {
                return "containerPort";
            }
            return kind == ResourceKind.SERVICE && path.equals(List.of("spec", "ports")) ? "port" : null;
        }
        if (field.equals("env")) {
            return CONTAINER_LISTS.contains(parent) ? "name" : null;
        }
        return BY_FIELD.get(field);
    }

    private static JsonNode mergeObject(ObjectNode original, ObjectNode patch, ResourceKind kind, List<String> path) {
        String directive = patch.path(DIRECTIVE).asText("");
        switch (directive) {
            case "replace" -> {
                return clean(patch);
            }
            case "delete" -> {
                return null;
            }
            case "", "merge" -> {
            }
            default -> throw new PatchException("unknown patch directive \"" + directive + "\" at " + String.join(".", path));
        }
        for (Map.Entry<String, JsonNode> e : patch.properties()) {
            String key = e.getKey();
            JsonNode value = e.getValue();
            if (key.equals(DIRECTIVE) || key.startsWith("$setElementOrder/") || key.equals("$retainKeys")) {
                continue;
            }
            if (key.startsWith("$deleteFromPrimitiveList/")) {
                String field = key.substring("$deleteFromPrimitiveList/".length());
                if (original.get(field) instanceof ArrayNode list) {
                    ArrayNode kept = NODES.arrayNode();
                    list.forEach(v -> {
                        if (!contains(value, v)) {
                            kept.add(v);
                        }
                    });
                    original.set(field, kept);
                }
                continue;
            }
            List<String> child = append(path, key);
            JsonNode current = original.get(key);
            if (value.isNull()) {
                original.remove(key);
            } else if (value.isObject() && current != null && current.isObject()) {
                JsonNode merged = mergeObject((ObjectNode) current, (ObjectNode) value, kind, child);
                if (merged == null) {
                    original.remove(key);
                } else {
                    original.set(key, merged);
                }
            } else if (value.isArray()) {
                original.set(key, mergeList(current instanceof ArrayNode a ? a : NODES.arrayNode(), (ArrayNode) value, kind, child));
            } else if (value.isObject() && "delete".equals(value.path(DIRECTIVE).asText())) {
                original.remove(key);
            } else {
                original.set(key, clean(value));
            }
        }
        return original;
    }

    private static ArrayNode mergeList(ArrayNode original, ArrayNode patch, ResourceKind kind, List<String> path) {
        for (JsonNode p : patch) {
            if (p.isObject() && "replace".equals(p.path(DIRECTIVE).asText()) && p.size() == 1) {
                ArrayNode replaced = NODES.arrayNode();
                patch.forEach(q -> {
                    if (q != p) {
                        replaced.add(clean(q));
                    }
                });
                return replaced;
            }
        }
        String key = mergeKey(kind, path);
        if (key == null) {
            if (PRIMITIVE_MERGE.contains(path.getLast())) {
                ArrayNode union = original.deepCopy();
                patch.forEach(v -> {
                    if (!contains(union, v)) {
                        union.add(v);
                    }
                });
                return union;
            }
            return (ArrayNode) clean(patch);
        }
        List<JsonNode> result = new ArrayList<>();
        original.forEach(v -> result.add(v.deepCopy()));
        for (JsonNode p : patch) {
            if (!p.isObject() || !p.has(key)) {
                throw new PatchException("map: " + p + " does not contain declared merge key: " + key);
            }
            int at = indexOf(result, key, p.get(key));
            if ("delete".equals(p.path(DIRECTIVE).asText())) {
                if (at >= 0) {
                    result.remove(at);
                }
            } else if (at >= 0) {
                JsonNode merged = mergeObject((ObjectNode) result.get(at), (ObjectNode) p, kind, path);
                if (merged == null) {
                    result.remove(at);
                } else {
                    result.set(at, merged);
                }
            } else {
                result.add(clean(p));
            }
        }
        ArrayNode out = NODES.arrayNode();
        result.forEach(out::add);
        return out;
    }

    private static int indexOf(List<JsonNode> list, String key, JsonNode value) {
        for (int i = 0; i < list.size(); i++) {
            if (value.equals(list.get(i).get(key))) {
                return i;
            }
        }
        return -1;
    }

    private static boolean contains(JsonNode list, JsonNode value) {
        for (JsonNode v : list) {
            if (v.equals(value)) {
                return true;
            }
        }
        return false;
    }

    // Directives are instructions, never data: strip them from anything stored, and nulls too.
    private static JsonNode clean(JsonNode node) {
        if (node.isObject()) {
            ObjectNode o = NODES.objectNode();
            node.properties().forEach(e -> {
                if (!e.getKey().startsWith("$") && !e.getValue().isNull()) {
                    o.set(e.getKey(), clean(e.getValue()));
                }
            });
            return o;
        }
        if (node.isArray()) {
            ArrayNode a = NODES.arrayNode();
            node.forEach(v -> a.add(clean(v)));
            return a;
        }
        return node.deepCopy();
    }

    private static List<String> append(List<String> path, String field) {
        List<String> p = new ArrayList<>(path);
        p.add(field);
        return p;
    }
}
