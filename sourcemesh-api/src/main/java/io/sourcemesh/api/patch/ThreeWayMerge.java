package io.sourcemesh.api.patch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.ResourceKind;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code kubectl apply}'s three-way merge: what the user applied last time (the last-applied configuration),
 * what they apply now, and what is live. Fields they removed from their manifest are deleted; fields set by
 * others (a {@code kubectl patch}, a controller, defaulting) are kept. Built-in kinds merge as a strategic
 * merge patch, custom resources (Istio's) as a JSON merge patch, as the API server does.
 */
public final class ThreeWayMerge {

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private ThreeWayMerge() {
    }

    /** The new live object. {@code lastApplied} may be null for an object never applied before. */
    public static JsonNode apply(JsonNode lastApplied, JsonNode modified, JsonNode live, ResourceKind kind) {
        JsonNode patch = lastApplied == null || !lastApplied.isObject()
                ? modified.deepCopy()
                : patch((ObjectNode) lastApplied, (ObjectNode) modified, kind, List.of());
        return kind.builtIn()
                ? StrategicMergePatch.apply(live, patch, kind)
                : JsonMergePatch.apply(live, patch);
    }

    // Everything modified says, plus null for each field the user dropped since last time.
    private static ObjectNode patch(ObjectNode original, ObjectNode modified, ResourceKind kind, List<String> path) {
        ObjectNode p = modified.deepCopy();
        original.properties().forEach(e -> {
            String key = e.getKey();
            JsonNode was = e.getValue();
            JsonNode now = modified.get(key);
            List<String> child = append(path, key);
            if (now == null) {
                p.putNull(key);
            } else if (was.isObject() && now.isObject()) {
                p.set(key, patch((ObjectNode) was, (ObjectNode) now, kind, child));
            } else if (was.isArray() && now.isArray() && kind.builtIn()) {
                String mergeKey = StrategicMergePatch.mergeKey(kind, child);
                if (mergeKey != null) {
                    p.set(key, listPatch((ArrayNode) was, (ArrayNode) now, mergeKey, kind, child));
                }
            }
        });
        return p;
    }

    private static ArrayNode listPatch(ArrayNode original, ArrayNode modified, String mergeKey, ResourceKind kind,
                                       List<String> path) {
        ArrayNode p = NODES.arrayNode();
        for (JsonNode now : modified) {
            JsonNode was = find(original, mergeKey, now.get(mergeKey));
            p.add(was != null && was.isObject() && now.isObject()
                    ? patch((ObjectNode) was, (ObjectNode) now, kind, path)
                    : now.deepCopy());
        }
        for (JsonNode was : original) {
            if (was.has(mergeKey) && find(modified, mergeKey, was.get(mergeKey)) == null) {
                ObjectNode delete = NODES.objectNode();
                delete.set(mergeKey, was.get(mergeKey).deepCopy());
                delete.put("$patch", "delete");
                p.add(delete);
            }
        }
        return p;
    }

    private static JsonNode find(ArrayNode list, String key, JsonNode value) {
        if (value == null) {
            return null;
        }
        for (JsonNode v : list) {
            if (value.equals(v.get(key))) {
                return v;
            }
        }
        return null;
    }

    private static List<String> append(List<String> path, String field) {
        List<String> p = new ArrayList<>(path);
        p.add(field);
        return p;
    }
}
