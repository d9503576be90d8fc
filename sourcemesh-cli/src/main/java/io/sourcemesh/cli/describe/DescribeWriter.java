package io.sourcemesh.cli.describe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.LabelSelector;
import io.sourcemesh.cluster.printers.Ages;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * kubectl's PrefixWriter (two spaces of indent per level, the text as given) with the printers every
 * describer shares: labels, annotations, optional lines, selectors and times. It holds the clock so
 * times print in its zone and ages count from its instant.
 */
final class DescribeWriter {
    private static final Set<String> SKIPPED_ANNOTATIONS = Set.of("kubectl.kubernetes.io/last-applied-configuration");
    private static final int MAX_ANNOTATION_LEN = 140;
    private static final DateTimeFormatter RFC1123Z = DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss Z", Locale.ENGLISH);
    // Go's zero time, which kubectl prints for a timestamp that was never set
    private static final String ZERO_TIME = "Mon, 01 Jan 0001 00:00:00 +0000";

    private final StringBuilder text = new StringBuilder();
    private final Clock clock;

    DescribeWriter(Clock clock) {
        this.clock = clock;
    }

    void write(int level, String s) {
        text.append("  ".repeat(level)).append(s);
    }

    void optional(int level, String title, String value) {
        if (!value.isEmpty()) {
            write(level, title + ":\t" + value + "\n");
        }
    }

    void labels(String initialIndent, String title, Map<String, String> labels) {
        write(0, initialIndent + title + ":\t");
        if (labels.isEmpty()) {
            write(0, "<none>\n");
            return;
        }
        Iterator<Map.Entry<String, String>> it = new TreeMap<>(labels).entrySet().iterator();
        for (int i = 0; it.hasNext(); i++) {
            Map.Entry<String, String> e = it.next();
            write(0, (i == 0 ? "" : initialIndent + "\t") + e.getKey() + "=" + e.getValue() + "\n");
        }
    }

    void annotations(String title, Map<String, String> annotations) {
        write(0, title + ":\t");
        TreeMap<String, String> shown = new TreeMap<>(annotations);
        shown.keySet().removeAll(SKIPPED_ANNOTATIONS);
        if (shown.isEmpty()) {
            write(0, "<none>\n");
            return;
        }
        boolean first = true;
        for (Map.Entry<String, String> e : shown.entrySet()) {
            if (!first) {
                write(0, "\t");
            }
            first = false;
            String value = e.getValue().endsWith("\n") ? e.getValue().substring(0, e.getValue().length() - 1) : e.getValue();
            if (value.length() + e.getKey().length() + 2 > MAX_ANNOTATION_LEN || value.contains("\n")) {
                write(0, e.getKey() + ":\n");
                for (String s : value.split("\n", -1)) {
                    write(0, "\t  " + (s.length() > MAX_ANNOTATION_LEN - 2 ? s.substring(0, MAX_ANNOTATION_LEN - 2) + "..." : s) + "\n");
                }
            } else {
                write(0, e.getKey() + ": " + value + "\n");
            }
        }
    }

    static String controller(KubeObject o) {
        for (JsonNode ref : o.node().path("metadata").path("ownerReferences")) {
            if (ref.path("controller").asBoolean(false)) {
                return ref.path("kind").asText("") + "/" + ref.path("name").asText("");
            }
        }
        return "";
    }

    // labels.FormatLabels: sorted key=value pairs, or <none>
    static String formatLabels(Map<String, String> labels) {
        List<String> out = new ArrayList<>();
        new TreeMap<>(labels).forEach((k, v) -> out.add(k + "=" + v));
        return or(String.join(",", out), "<none>");
    }

    // a label selector as labels.Selector prints it: requirements sorted by key
    static String selector(JsonNode selector) {
        if (selector.path("matchLabels").isEmpty() && selector.path("matchExpressions").isEmpty()) {
            return "<none>";
        }
        TreeMap<String, String> byKey = new TreeMap<>();
        selector.path("matchLabels").properties().forEach(e -> byKey.put(e.getKey(), e.getKey() + "=" + e.getValue().asText()));
        for (JsonNode e : selector.path("matchExpressions")) {
            ObjectNode one = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
            one.putArray("matchExpressions").add(e.deepCopy());
            byKey.merge(e.path("key").asText(), LabelSelector.fromNode(one).toString(), (a, b) -> a + "," + b);
        }
        return String.join(",", byKey.values());
    }

    /** A timestamp as kubectl prints one: RFC 1123 with a numeric zone, in the clock's zone. */
    String time(String timestamp) {
        if (timestamp == null || timestamp.isEmpty()) {
            return ZERO_TIME;
        }
        try {
            return RFC1123Z.format(Instant.parse(timestamp).atZone(clock.getZone()));
        } catch (DateTimeParseException e) {
            return timestamp;
        }
    }

    /** How long ago {@code timestamp} was, as the AGE column shows it. */
    String age(String timestamp) {
        return Ages.since(timestamp, clock);
    }

    static Map<String, String> strings(JsonNode map) {
        Map<String, String> out = new LinkedHashMap<>();
        map.properties().forEach(e -> out.put(e.getKey(), e.getValue().asText()));
        return out;
    }

    static List<String> texts(JsonNode list) {
        List<String> out = new ArrayList<>();
        list.forEach(v -> out.add(v.asText()));
        return out;
    }

    static JsonNode missing() {
        return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
    }

    static String or(String v, String fallback) {
        return v.isEmpty() ? fallback : v;
    }

    @Override
    public String toString() {
        return text.toString();
    }
}
