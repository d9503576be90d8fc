package io.sourcemesh.cluster.apps;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * JSON as Python's {@code json} module writes it, because httpbin's output is compared byte for
 * byte by users: Flask's pretty form (sorted keys, indent 2, {@code ": "}, ASCII only) and the
 * plain {@code json.dumps} form that {@code /stream} uses. Values are String, Boolean, null,
 * Number, Map, List or a Jackson tree (a request's parsed JSON body).
 */
final class PyJson {
    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS) // json.loads takes NaN and Infinity
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS) // "Extra data" in Python
            .build();

    private PyJson() {}

    /** Flask's {@code jsonify} with JSONIFY_PRETTYPRINT_REGULAR, plus httpbin's trailing newline. */
    static String pretty(Object value) {
        StringBuilder out = new StringBuilder();
        write(out, value, 0, true);
        return out.append('\n').toString();
    }

    /** {@code json.dumps(value)}: one line, {@code ", "} and {@code ": "}, keys in given order. */
    static String compact(Object value) {
        StringBuilder out = new StringBuilder();
        write(out, value, -1, false);
        return out.toString();
    }

    /** {@code json.loads} of a request body; empty when Python would raise. */
    static Optional<JsonNode> parse(String text) {
        try {
            if (text.isEmpty() || text.charAt(0) == '\uFEFF') {
                return Optional.empty();
            }
            return Optional.of(MAPPER.readTree(text));
        } catch (Exception e) {
            return Optional.empty();
        }
    }

    private static void write(StringBuilder out, Object value, int indent, boolean sortKeys) {
        switch (value) {
            case null -> out.append("null");
            case String s -> string(out, s);
            case Boolean b -> out.append(b ? "true" : "false");
            case Double d -> out.append(pyFloat(d));
            case Float f -> out.append(pyFloat(f));
            case Number n -> out.append(n);
            case JsonNode node -> writeNode(out, node, indent, sortKeys);
            case Map<?, ?> map -> {
                List<Map.Entry<String, Object>> entries = new ArrayList<>();
                Map<?, ?> ordered = sortKeys ? new TreeMap<>(map) : map;
                ordered.forEach((k, v) -> entries.add(Map.entry(k.toString(), v == null ? NULL : v)));
                object(out, entries, indent, sortKeys);
            }
            case List<?> list -> {
                List<Object> items = new ArrayList<>(list);
                array(out, items, indent, sortKeys);
            }
            default -> string(out, value.toString());
        }
    }

    /** Map.entry refuses null values; this stands for JSON null inside entry lists. */
    private static final Object NULL = new Object() {
        @Override
        public String toString() {
            return "null";
        }
    };

    private static void writeNode(StringBuilder out, JsonNode node, int indent, boolean sortKeys) {
        if (node.isObject()) {
            List<Map.Entry<String, Object>> entries = new ArrayList<>();
            Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
            Map<String, JsonNode> ordered = sortKeys ? new TreeMap<>() : new LinkedHashMap<>();
            fields.forEachRemaining(e -> ordered.put(e.getKey(), e.getValue()));
            ordered.forEach((k, v) -> entries.add(Map.entry(k, v)));
            object(out, entries, indent, sortKeys);
        } else if (node.isArray()) {
            List<Object> items = new ArrayList<>();
            node.elements().forEachRemaining(items::add);
            array(out, items, indent, sortKeys);
        } else if (node.isTextual()) {
            string(out, node.textValue());
        } else if (node.isBoolean()) {
            out.append(node.booleanValue() ? "true" : "false");
        } else if (node.isIntegralNumber()) {
            out.append(node.bigIntegerValue());
        } else if (node.isNumber()) {
            out.append(pyFloat(node.doubleValue()));
        } else {
            out.append("null");
        }
    }

    private static void object(StringBuilder out, List<Map.Entry<String, Object>> entries, int indent, boolean sortKeys) {
        if (entries.isEmpty()) {
            out.append("{}");
            return;
        }
        out.append('{');
        boolean first = true;
        for (Map.Entry<String, Object> e : entries) {
            separator(out, first, indent + 1);
            first = false;
            string(out, e.getKey());
            out.append(": ");
            write(out, e.getValue() == NULL ? null : e.getValue(), indent < 0 ? -1 : indent + 1, sortKeys);
        }
        close(out, indent);
        out.append('}');
    }

    private static void array(StringBuilder out, List<Object> items, int indent, boolean sortKeys) {
        if (items.isEmpty()) {
            out.append("[]");
            return;
        }
        out.append('[');
        boolean first = true;
        for (Object item : items) {
            separator(out, first, indent + 1);
            first = false;
            write(out, item, indent < 0 ? -1 : indent + 1, sortKeys);
        }
        close(out, indent);
        out.append(']');
    }

    private static void separator(StringBuilder out, boolean first, int level) {
        if (level <= 0) { // compact: json.dumps' default ", "
            if (!first) {
                out.append(", ");
            }
            return;
        }
        if (!first) {
            out.append(',');
        }
        out.append('\n').append("  ".repeat(level));
    }

    private static void close(StringBuilder out, int indent) {
        if (indent >= 0) {
            out.append('\n').append("  ".repeat(indent));
        }
    }

    /** ensure_ascii: everything outside space..~ escaped, lower-case hex, UTF-16 units. */
    static void string(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                default -> {
                    if (c >= ' ' && c <= '~') {
                        out.append(c);
                    } else {
                        out.append(String.format("\\u%04x", (int) c));
                    }
                }
            }
        }
        out.append('"');
    }

    /** Python's float repr: shortest digits, exponent form below 1e-4 and from 1e16. */
    static String pyFloat(double d) {
        if (Double.isNaN(d)) {
            return "NaN";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "Infinity" : "-Infinity";
        }
        if (d == 0) {
            return (1 / d < 0) ? "-0.0" : "0.0";
        }
        BigDecimal exact = new BigDecimal(Double.toString(Math.abs(d))).stripTrailingZeros();
        String digits = exact.unscaledValue().toString();
        int decpt = digits.length() - exact.scale(); // position of the point relative to digits
        StringBuilder out = new StringBuilder(d < 0 ? "-" : "");
        if (decpt > -4 && decpt <= 16) {
            if (decpt <= 0) {
                out.append("0.").append("0".repeat(-decpt)).append(digits);
            } else if (decpt >= digits.length()) {
                out.append(digits).append("0".repeat(decpt - digits.length())).append(".0");
            } else {
                out.append(digits, 0, decpt).append('.').append(digits.substring(decpt));
            }
        } else {
            out.append(digits.charAt(0));
            if (digits.length() > 1) {
                out.append('.').append(digits.substring(1));
            }
            int exp = decpt - 1;
            out.append('e').append(exp < 0 ? '-' : '+');
            String e = Integer.toString(Math.abs(exp));
            out.append(e.length() < 2 ? "0" + e : e);
        }
        return out.toString();
    }
}
