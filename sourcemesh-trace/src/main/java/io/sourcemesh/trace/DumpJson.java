package io.sourcemesh.trace;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;

/**
 * Envoy's admin {@code /config_dump} prints proto field names ({@code use_remote_address}); istioctl
 * {@code -o json} prints protojson's lowerCamelCase ({@code useRemoteAddress}). Both are read as the
 * former, so one reader serves dumps from either tool.
 */
final class DumpJson {
    private static final ObjectMapper JSON = new ObjectMapper();

    private DumpJson() {
    }

    /** Parses {@code text}, named {@code source} in errors, with every key in snake_case. */
    static JsonNode parse(String source, String text) {
        try {
            return snake(JSON.readTree(text));
        } catch (IOException e) {
            throw new TraceException(source + ": not JSON: " + e.getMessage());
        }
    }

    static JsonNode snake(JsonNode n) {
        if (n.isObject()) {
            ObjectNode out = JsonNodeFactory.instance.objectNode();
            n.properties().forEach(e -> out.set(snakeKey(e.getKey()), snake(e.getValue())));
            return out;
        }
        if (n.isArray()) {
            ArrayNode out = JsonNodeFactory.instance.arrayNode();
            n.forEach(x -> out.add(snake(x)));
            return out;
        }
        return n;
    }

    /** {@code portValue} → {@code port_value}; {@code @type}, snake keys and keys with dots or dashes unchanged. */
    static String snakeKey(String key) {
        if (key.startsWith("@") || key.indexOf('.') >= 0 || key.indexOf('-') >= 0 || key.chars().noneMatch(Character::isUpperCase)
                || key.chars().allMatch(c -> Character.isUpperCase(c) || c == '_' || Character.isDigit(c))) {
            return key;
        }
        StringBuilder b = new StringBuilder(key.length() + 4);
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (Character.isUpperCase(c)) {
                if (i > 0) {
                    b.append('_');
                }
                b.append(Character.toLowerCase(c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
