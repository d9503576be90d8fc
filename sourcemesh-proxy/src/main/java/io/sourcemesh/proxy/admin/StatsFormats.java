package io.sourcemesh.proxy.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/** {@code /stats} in Envoy's text, JSON and Prometheus forms. */
final class StatsFormats {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern PROM_INVALID = Pattern.compile("[^a-zA-Z0-9_]");

    private StatsFormats() {}

    /** Which stats a request asked for ({@code ?filter=}, {@code ?usedonly}, {@code ?type=}). */
    record Selection(Predicate<String> names, boolean usedOnly, boolean counters, boolean gauges) {
        boolean keep(String name, long value) {
            return names.test(name) && (!usedOnly || value != 0);
        }
    }

    /** Envoy's text form: {@code name: value}, counters and gauges merged, sorted by name. */
    static String text(Map<String, Long> counters, Map<String, Long> gauges, Selection sel) {
        StringBuilder out = new StringBuilder();
        merged(counters, gauges, sel).forEach((name, value) -> out.append(name).append(": ").append(value).append('\n'));
        return out.toString();
    }

    /** Envoy's JSON form: {@code {"stats":[{"name":..,"value":..}]}}. */
    static String json(Map<String, Long> counters, Map<String, Long> gauges, Selection sel) {
        ObjectNode root = JSON.createObjectNode();
        ArrayNode stats = root.putArray("stats");
        merged(counters, gauges, sel).forEach((name, value) -> stats.addObject().put("name", name).put("value", value));
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Prometheus text exposition as Envoy writes it: tag-extracted names prefixed {@code envoy_},
     * tags as labels, one {@code # TYPE} per family; counters first, then gauges, each sorted.
     */
    static String prometheus(Map<String, Long> counters, Map<String, Long> gauges, Selection sel,
                             TagExtractor extractor) {
        StringBuilder out = new StringBuilder();
        if (sel.counters()) {
            family(out, "counter", counters, sel, extractor);
        }
        if (sel.gauges()) {
            family(out, "gauge", gauges, sel, extractor);
        }
        return out.toString();
    }

    private static void family(StringBuilder out, String type, Map<String, Long> stats, Selection sel,
                               TagExtractor extractor) {
        Map<String, Map<String, Long>> families = new TreeMap<>();
        stats.forEach((name, value) -> {
            if (!sel.keep(name, value)) {
                return;
            }
            TagExtractor.Tagged tagged = extractor.extract(name);
            String metric = "envoy_" + sanitize(tagged.name());
            StringBuilder labels = new StringBuilder("{");
            tagged.tags().forEach((tag, tagValue) -> {
                if (labels.length() > 1) {
                    labels.append(',');
                }
                labels.append(sanitize(tag)).append("=\"").append(escape(tagValue)).append('"');
            });
            families.computeIfAbsent(metric, m -> new TreeMap<>()).merge(labels.append('}').toString(), value, Long::sum);
        });
        families.forEach((metric, series) -> {
            out.append("# TYPE ").append(metric).append(' ').append(type).append('\n');
            series.forEach((labels, value) -> out.append(metric).append(labels).append(' ').append(value).append('\n'));
        });
    }

    private static Map<String, Long> merged(Map<String, Long> counters, Map<String, Long> gauges, Selection sel) {
        Map<String, Long> all = new TreeMap<>();
        if (sel.counters()) {
            counters.forEach((n, v) -> {
                if (sel.keep(n, v)) {
                    all.put(n, v);
                }
            });
        }
        if (sel.gauges()) {
            gauges.forEach((n, v) -> {
                if (sel.keep(n, v)) {
                    all.put(n, v);
                }
            });
        }
        return all;
    }

    static String sanitize(String name) {
        return PROM_INVALID.matcher(name).replaceAll("_");
    }

    private static String escape(String value) {
        return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
