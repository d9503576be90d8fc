package io.sourcemesh.control.model;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Small readers over Kubernetes JSON trees; absent fields read as empty, never null. */
final class Nodes {
    private Nodes() {}

    static String text(JsonNode node, String... path) {
        JsonNode n = at(node, path);
        return n.isMissingNode() || n.isNull() ? "" : n.asText();
    }

    static JsonNode at(JsonNode node, String... path) {
        JsonNode n = node;
        for (String p : path) {
            n = n.path(p);
        }
        return n;
    }

    static Map<String, String> strings(JsonNode node) {
        Map<String, String> out = new LinkedHashMap<>();
        if (node != null && node.isObject()) {
            node.properties().forEach(e -> out.put(e.getKey(), e.getValue().asText()));
        }
        return Map.copyOf(out);
    }

    static List<JsonNode> list(JsonNode node) {
        List<JsonNode> out = new ArrayList<>();
        if (node != null && node.isArray()) {
            node.forEach(out::add);
        }
        return out;
    }

    static List<String> textList(JsonNode node) {
        return list(node).stream().map(JsonNode::asText).toList();
    }

    static Instant instant(JsonNode node) {
        String s = text(node, "metadata", "creationTimestamp");
        return s.isEmpty() ? Instant.EPOCH : Instant.parse(s);
    }
}
