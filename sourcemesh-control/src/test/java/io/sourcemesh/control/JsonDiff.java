package io.sourcemesh.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * What changed between two config dumps, as a list of {path, op, before, after}. Arrays whose elements all
 * carry a unique "name" are compared by name ([name=x] in the path) so an insert does not shift everything.
 */
public final class JsonDiff {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private JsonDiff() {}

    public static ArrayNode diff(String before, String after) {
        try {
            ArrayNode out = MAPPER.createArrayNode();
            JsonNode a = MAPPER.readTree(before);
            JsonNode b = MAPPER.readTree(after);
            ((ObjectNode) a).remove("version_info");
            ((ObjectNode) b).remove("version_info");
            diff("", a, b, out);
            return out;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void diff(String path, JsonNode a, JsonNode b, ArrayNode out) {
        if (a.equals(b)) {
            return;
        }
        if (a.isObject() && b.isObject()) {
            Set<String> keys = new LinkedHashSet<>();
            a.fieldNames().forEachRemaining(keys::add);
            b.fieldNames().forEachRemaining(keys::add);
            for (String k : keys) {
                diff(path + "/" + k, a.path(k), b.path(k), out);
            }
            return;
        }
        if (a.isArray() && b.isArray()) {
            Map<String, JsonNode> an = byName(a);
            Map<String, JsonNode> bn = byName(b);
            if (an != null && bn != null) {
                Set<String> names = new LinkedHashSet<>(an.keySet());
                names.addAll(bn.keySet());
                for (String n : names) {
                    diff(path + "/[name=" + n + "]", an.getOrDefault(n, MissingNode.getInstance()),
                            bn.getOrDefault(n, MissingNode.getInstance()), out);
                }
                if (!order(a).equals(order(b)) && !a.isEmpty() && !b.isEmpty()) {
                    change(path, "order", order(a), order(b), out);
                }
                return;
            }
            for (int i = 0; i < Math.max(a.size(), b.size()); i++) {
                diff(path + "/" + i, a.path(i), b.path(i), out);
            }
            return;
        }
        String op = a.isMissingNode() ? "added" : b.isMissingNode() ? "removed" : "changed";
        change(path, op, a, b, out);
    }

    private static void change(String path, String op, JsonNode a, JsonNode b, ArrayNode out) {
        ObjectNode c = out.addObject();
        c.put("path", path.isEmpty() ? "/" : path);
        c.put("op", op);
        if (!a.isMissingNode()) {
            c.set("before", a);
        }
        if (!b.isMissingNode()) {
            c.set("after", b);
        }
    }

    private static ArrayNode order(JsonNode arr) {
        ArrayNode names = MAPPER.createArrayNode();
        arr.forEach(e -> names.add(e.path("name").asText()));
        return names;
    }

    private static Map<String, JsonNode> byName(JsonNode arr) {
        Map<String, JsonNode> out = new LinkedHashMap<>();
        for (JsonNode e : arr) {
            String name = e.path("name").asText("");
            if (!e.isObject() || name.isEmpty() || out.put(name, e) != null) {
                return null;
            }
        }
        return out;
    }

    public static String pretty(JsonNode node) {
        try {
            return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(node) + "\n";
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
