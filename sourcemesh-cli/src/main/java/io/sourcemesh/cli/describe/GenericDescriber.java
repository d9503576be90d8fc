package io.sourcemesh.cli.describe;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.api.resource.KubeObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * kubectl's generic describer, for every kind without its own (the Istio kinds among them): the
 * object's fields as a tree, titled as kubectl titles them.
 */
final class GenericDescriber {
    private GenericDescriber() {}

    static void describe(DescribeWriter w, KubeObject o) {
        w.write(0, "Name:\t" + o.name() + "\n");
        w.write(0, "Namespace:\t" + o.namespace() + "\n");
        w.labels("", "Labels", o.labels());
        w.annotations("Annotations", o.annotations());
        unstructured(w, 0, o.node(), "", Set.of(".metadata.managedFields", ".metadata.name", ".metadata.namespace",
                ".metadata.labels", ".metadata.annotations"));
    }

    private static void unstructured(DescribeWriter w, int level, JsonNode content, String skipPrefix, Set<String> skip) {
        List<String> fields = new ArrayList<>();
        content.fieldNames().forEachRemaining(fields::add);
        fields.sort(null);
        for (String field : fields) {
            JsonNode value = content.get(field);
            String path = skipPrefix + "." + field;
            if (skip.contains(path)) {
                continue;
            }
            if (value.isObject()) {
                w.write(level, smartLabel(field) + ":\n");
                unstructured(w, level + 1, value, path, skip);
            } else if (value.isArray()) {
                w.write(level, smartLabel(field) + ":\n");
                for (JsonNode child : value) {
                    if (child.isObject()) {
                        unstructured(w, level + 1, child, path, skip);
                    } else {
                        w.write(level + 1, goValue(child) + "\n");
                    }
                }
            } else {
                w.write(level, smartLabel(field) + ":\t" + goValue(value) + "\n");
            }
        }
    }

    /** A field name as kubectl titles it: {@code apiVersion} is {@code API Version}; names with other than letters and '-' stay. */
    static String smartLabel(String field) {
        if (field.chars().anyMatch(c -> !Character.isLetter(c) && c != '-')) {
            return field;
        }
        List<String> out = new ArrayList<>();
        for (String part : camelCaseSplit(field)) {
            if (part.equals("_")) {
                continue;
            }
            String upper = part.toUpperCase(Locale.ROOT);
            out.add(List.of("API", "URL", "UID", "OSB", "GUID").contains(upper) ? upper
                    : part.isEmpty() ? part : part.substring(0, 1).toUpperCase(Locale.ROOT) + part.substring(1));
        }
        return String.join(" ", out);
    }

    // github.com/fatih/camelcase: runs of one character class, then "PDFL"+"oader" becomes "PDF"+"Loader"
    private static List<String> camelCaseSplit(String s) {
        List<StringBuilder> runs = new ArrayList<>();
        int last = -1;
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            int cls = Character.isLowerCase(ch) ? 1 : Character.isUpperCase(ch) ? 2 : Character.isDigit(ch) ? 3 : 4;
            if (cls == last) {
                runs.getLast().append(ch);
            } else {
                runs.add(new StringBuilder().append(ch));
            }
            last = cls;
        }
        for (int i = 0; i < runs.size() - 1; i++) {
            StringBuilder a = runs.get(i);
            StringBuilder b = runs.get(i + 1);
            if (Character.isUpperCase(a.charAt(0)) && Character.isLowerCase(b.charAt(0))) {
                b.insert(0, a.charAt(a.length() - 1));
                a.setLength(a.length() - 1);
            }
        }
        return runs.stream().filter(r -> !r.isEmpty()).map(StringBuilder::toString).toList();
    }

    // Go's %v of a decoded JSON value
    private static String goValue(JsonNode v) {
        if (v == null || v.isNull() || v.isMissingNode()) {
            return "<nil>";
        }
        if (v.isTextual()) {
            return v.asText();
        }
        if (v.isIntegralNumber()) {
            return v.bigIntegerValue().toString();
        }
        if (v.isNumber()) {
            double d = v.asDouble();
            if (d == Math.rint(d) && Math.abs(d) < 1e21) {
                return Long.toString((long) d);
            }
            return Double.toString(d).replace("E", "e+").replace("e+-", "e-");
        }
        if (v.isArray()) {
            List<String> items = new ArrayList<>();
            v.forEach(i -> items.add(goValue(i)));
            return "[" + String.join(" ", items) + "]";
        }
        if (v.isObject()) {
            List<String> items = new ArrayList<>();
            new TreeMap<>(fieldsOf(v)).forEach((k, x) -> items.add(k + ":" + goValue(x)));
            return "map[" + String.join(" ", items) + "]";
        }
        return v.asText();
    }

    private static Map<String, JsonNode> fieldsOf(JsonNode v) {
        Map<String, JsonNode> out = new LinkedHashMap<>();
        v.properties().forEach(e -> out.put(e.getKey(), e.getValue()));
        return out;
    }
}
