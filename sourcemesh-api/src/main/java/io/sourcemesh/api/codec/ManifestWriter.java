package io.sourcemesh.api.codec;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.KubeObject;

import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Prints objects as {@code kubectl get -o yaml|json} does. kubectl goes through Go maps, so keys come out
 * sorted everywhere (which is why apiVersion, kind, metadata, spec, status lead); YAML follows go-yaml's
 * style (unindented sequences, quotes only where needed); JSON is indented by four spaces. Several objects
 * print as one {@code List}.
 */
public final class ManifestWriter {

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    // Plain scalars go-yaml would read back as something other than a string must be double-quoted.
    private static final Pattern NON_STRING = Pattern.compile(
            "(?i)(y|yes|n|no|true|false|on|off|null|~)|[-+]?(\\d[\\d_]*)?\\.?\\d+([eE][-+]?\\d+)?|[-+]?\\d[\\d_]*(\\.\\d*)?|"
                    + "0x[0-9a-fA-F_]+|0b[01_]+|[-+]?\\.(inf|Inf|INF)|\\.(nan|NaN|NAN)|\\d+(:[0-5]?\\d)+(\\.\\d*)?|"
                    // go-yaml reads these as timestamps, hence kubectl's creationTimestamp: "2026-11-26T17:00:00Z"
                    + "\\d{4}-\\d{1,2}-\\d{1,2}([Tt ]\\d{1,2}:\\d{1,2}:\\d{1,2}(\\.\\d+)?(Z|[-+]\\d{1,2}(:\\d{2})?)?)?");

    private ManifestWriter() {
    }

    public static String yaml(KubeObject object) {
        StringBuilder out = new StringBuilder();
        yamlMap(sorted(object.node()), 0, out);
        return out.toString();
    }

    /** One object as itself, several (or none) as a {@code List}, as kubectl prints them. */
    public static String yaml(List<KubeObject> objects) {
        return objects.size() == 1 ? yaml(objects.getFirst()) : yamlOf(list(objects));
    }

    public static String json(KubeObject object) {
        return jsonOf(object.node());
    }

    public static String json(List<KubeObject> objects) {
        return objects.size() == 1 ? json(objects.getFirst()) : jsonOf(list(objects));
    }

    /** Any tree as kubectl-style YAML. */
    public static String yamlOf(JsonNode node) {
        StringBuilder out = new StringBuilder();
        JsonNode n = sorted(node);
        if (n.isObject() && !n.isEmpty()) {
            yamlMap(n, 0, out);
        } else if (n.isArray() && !n.isEmpty()) {
            yamlList(n, 0, out);
        } else {
            out.append(scalar(n)).append('\n');
        }
        return out.toString();
    }

    /** Any tree as kubectl-style JSON. */
    public static String jsonOf(JsonNode node) {
        StringBuilder out = new StringBuilder();
        json(sorted(node), 0, out);
        return out.append('\n').toString();
    }

    private static ObjectNode list(List<KubeObject> objects) {
        ObjectNode list = NODES.objectNode();
        list.put("apiVersion", "v1");
        var items = list.putArray("items");
        objects.forEach(o -> items.add(o.node()));
        list.put("kind", "List");
        list.putObject("metadata").put("resourceVersion", "");
        return list;
    }

    private static JsonNode sorted(JsonNode node) {
        if (node.isObject()) {
            Map<String, JsonNode> m = new TreeMap<>();
            node.properties().forEach(e -> m.put(e.getKey(), sorted(e.getValue())));
            ObjectNode o = NODES.objectNode();
            m.forEach(o::set);
            return o;
        }
        if (node.isArray()) {
            var a = NODES.arrayNode();
            node.forEach(v -> a.add(sorted(v)));
            return a;
        }
        return node;
    }

    private static void yamlMap(JsonNode map, int indent, StringBuilder out) {
        boolean first = true;
        for (Map.Entry<String, JsonNode> e : map.properties()) {
            if (!first) {
                out.repeat(' ', indent);
            }
            first = false;
            out.append(string(e.getKey())).append(':');
            yamlValue(e.getValue(), indent, true, out);
        }
    }

    private static void yamlList(JsonNode list, int indent, StringBuilder out) {
        boolean first = true;
        for (JsonNode v : list) {
            if (!first) {
                out.repeat(' ', indent);
            }
            first = false;
            out.append('-');
            yamlValue(v, indent, false, out);
        }
    }

    // Writes what follows "key:" or "-"; the caller has written the indent of its own line.
    private static void yamlValue(JsonNode v, int indent, boolean inMap, StringBuilder out) {
        if (v.isObject() && !v.isEmpty()) {
            if (inMap) {
                out.append('\n').repeat(' ', indent + 2);
            } else {
                out.append(' ');
            }
            yamlMap(v, indent + 2, out);
        } else if (v.isArray() && !v.isEmpty()) {
            if (inMap) {
                out.append('\n').repeat(' ', indent);
                yamlList(v, indent, out);
            } else {
                out.append(' ');
                yamlList(v, indent + 2, out);
            }
        } else if (v.isTextual() && v.asText().contains("\n")) {
            String text = v.asText();
            out.append(text.endsWith("\n") ? " |\n" : " |-\n");
            String body = text.endsWith("\n") ? text.substring(0, text.length() - 1) : text;
            for (String line : body.split("\n", -1)) {
                if (!line.isEmpty()) {
                    out.repeat(' ', indent + (inMap ? 2 : 4)).append(line);
                }
                out.append('\n');
            }
        } else {
            out.append(' ').append(scalar(v)).append('\n');
        }
    }

    private static String scalar(JsonNode v) {
        if (v.isObject()) {
            return "{}";
        }
        if (v.isArray()) {
            return "[]";
        }
        if (v.isNull() || v.isMissingNode()) {
            return "null";
        }
        if (v.isTextual()) {
            return string(v.asText());
        }
        return v.asText();
    }

    private static String string(String s) {
        if (s.isEmpty()) {
            return "\"\"";
        }
        if (NON_STRING.matcher(s).matches()) {
            return "\"" + s + "\"";
        }
        return plainSafe(s) ? s : "'" + s.replace("'", "''") + "'";
    }

    private static boolean plainSafe(String s) {
        char first = s.charAt(0);
        if ("!&*'\"%@`|>{}[],#?:".indexOf(first) >= 0 || Character.isWhitespace(first)
                || Character.isWhitespace(s.charAt(s.length() - 1))) {
            return false;
        }
        if ((first == '-' || first == '?') && (s.length() == 1 || s.charAt(1) == ' ')) {
            return false;
        }
        if (s.contains(": ") || s.contains(" #") || s.endsWith(":") || s.equals("---")) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                return false;
            }
        }
        return true;
    }

    private static void json(JsonNode v, int indent, StringBuilder out) {
        if (v.isObject()) {
            if (v.isEmpty()) {
                out.append("{}");
                return;
            }
            out.append("{\n");
            Iterator<Map.Entry<String, JsonNode>> it = v.properties().iterator();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                out.repeat(' ', indent + 4).append(quote(e.getKey())).append(": ");
                json(e.getValue(), indent + 4, out);
                out.append(it.hasNext() ? ",\n" : "\n");
            }
            out.repeat(' ', indent).append('}');
        } else if (v.isArray()) {
            if (v.isEmpty()) {
                out.append("[]");
                return;
            }
            out.append("[\n");
            for (int i = 0; i < v.size(); i++) {
                out.repeat(' ', indent + 4);
                json(v.get(i), indent + 4, out);
                out.append(i + 1 < v.size() ? ",\n" : "\n");
            }
            out.repeat(' ', indent).append(']');
        } else if (v.isTextual()) {
            out.append(quote(v.asText()));
        } else if (v.isNull() || v.isMissingNode()) {
            out.append("null");
        } else {
            out.append(v.asText().toLowerCase(Locale.ROOT));
        }
    }

    // Go's encoder escapes HTML-sensitive characters and line separators; so does kubectl's output.
    private static String quote(String s) {
        String escaped = new String(JsonStringEncoder.getInstance().quoteAsString(s))
                .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
                .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029");
        return "\"" + escaped + "\"";
    }
}
