package io.sourcemesh.api.resource;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A Kubernetes label selector, from kubectl's string form ({@code app=sleep,version!=v2,env in (a,b),!beta})
 * or from a {@code matchLabels}/{@code matchExpressions} object. The empty selector matches everything.
 */
public final class LabelSelector {

    /** One requirement; {@code values} is empty for Exists and DoesNotExist. */
    public record Requirement(String key, Operator operator, Set<String> values) {
        public Requirement {
            values = Set.copyOf(values);
        }

        boolean matches(Map<String, String> labels) {
            String v = labels.get(key);
            return switch (operator) {
                case EQUALS, IN -> v != null && values.contains(v);
                case NOT_EQUALS, NOT_IN -> v == null || !values.contains(v);
                case EXISTS -> v != null;
                case DOES_NOT_EXIST -> v == null;
            };
        }
    }

    public enum Operator { EQUALS, NOT_EQUALS, IN, NOT_IN, EXISTS, DOES_NOT_EXIST }

    private static final LabelSelector EVERYTHING = new LabelSelector(List.of());

    private final List<Requirement> requirements;

    private LabelSelector(List<Requirement> requirements) {
        this.requirements = List.copyOf(requirements);
    }

    public static LabelSelector everything() {
        return EVERYTHING;
    }

    public static LabelSelector of(List<Requirement> requirements) {
        return new LabelSelector(requirements);
    }

    /** Parses kubectl's {@code -l} syntax; throws {@link IllegalArgumentException} naming the bad part. */
    public static LabelSelector parse(String text) {
        if (text == null || text.isBlank()) {
            return EVERYTHING;
        }
        List<Requirement> out = new ArrayList<>();
        for (String part : splitTopLevel(text)) {
            out.add(requirement(part.trim(), text));
        }
        return new LabelSelector(out);
    }

    /** From a {@code LabelSelector} object: {@code {matchLabels: {...}, matchExpressions: [...]}}. */
    public static LabelSelector fromNode(JsonNode selector) {
        List<Requirement> out = new ArrayList<>();
        selector.path("matchLabels").properties()
                .forEach(e -> out.add(new Requirement(e.getKey(), Operator.EQUALS, Set.of(e.getValue().asText()))));
        for (JsonNode e : selector.path("matchExpressions")) {
            Set<String> values = new LinkedHashSet<>();
            e.path("values").forEach(v -> values.add(v.asText()));
            Operator op = switch (e.path("operator").asText()) {
                case "In" -> Operator.IN;
                case "NotIn" -> Operator.NOT_IN;
                case "Exists" -> Operator.EXISTS;
                case "DoesNotExist" -> Operator.DOES_NOT_EXIST;
                default -> throw new IllegalArgumentException("invalid operator " + e.path("operator"));
            };
            out.add(new Requirement(e.path("key").asText(), op, values));
        }
        return new LabelSelector(out);
    }

    /** Equality on each entry, as a Service's {@code spec.selector}. */
    public static LabelSelector fromMap(Map<String, String> labels) {
        List<Requirement> out = new ArrayList<>();
        labels.forEach((k, v) -> out.add(new Requirement(k, Operator.EQUALS, Set.of(v))));
        return new LabelSelector(out);
    }

    public boolean matches(Map<String, String> labels) {
        for (Requirement r : requirements) {
            if (!r.matches(labels)) {
                return false;
            }
        }
        return true;
    }

    public boolean isEverything() {
        return requirements.isEmpty();
    }

    public List<Requirement> requirements() {
        return requirements;
    }

    @Override
    public String toString() {
        List<String> parts = new ArrayList<>();
        for (Requirement r : requirements) {
            parts.add(switch (r.operator()) {
                case EQUALS -> r.key() + "=" + r.values().iterator().next();
                case NOT_EQUALS -> r.key() + "!=" + r.values().iterator().next();
                case IN -> r.key() + " in (" + String.join(",", r.values().stream().sorted().toList()) + ")";
                case NOT_IN -> r.key() + " notin (" + String.join(",", r.values().stream().sorted().toList()) + ")";
                case EXISTS -> r.key();
                case DOES_NOT_EXIST -> "!" + r.key();
            });
        }
        return String.join(",", parts);
    }

    // Commas inside "in (a,b)" do not separate requirements.
    private static List<String> splitTopLevel(String text) {
        List<String> parts = new ArrayList<>();
        int depth = 0;
        int start = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '(') {
                depth++;
            } else if (c == ')') {
                depth--;
            } else if (c == ',' && depth == 0) {
                parts.add(text.substring(start, i));
                start = i + 1;
            }
        }
        parts.add(text.substring(start));
        return parts;
    }

    private static Requirement requirement(String part, String whole) {
        if (part.isEmpty()) {
            throw new IllegalArgumentException("unable to parse requirement: found '', expected: identifier in \"" + whole + "\"");
        }
        if (part.startsWith("!")) {
            return new Requirement(key(part.substring(1).trim(), whole), Operator.DOES_NOT_EXIST, Set.of());
        }
        int ne = part.indexOf("!=");
        if (ne > 0) {
            return new Requirement(key(part.substring(0, ne).trim(), whole), Operator.NOT_EQUALS, Set.of(part.substring(ne + 2).trim()));
        }
        int eq = part.indexOf('=');
        if (eq > 0) {
            String value = part.substring(part.startsWith("==", eq) ? eq + 2 : eq + 1).trim();
            return new Requirement(key(part.substring(0, eq).trim(), whole), Operator.EQUALS, Set.of(value));
        }
        String[] words = part.split("\\s+", 2);
        if (words.length == 2) {
            String rest = words[1].trim();
            Operator op;
            if (rest.startsWith("notin")) {
                op = Operator.NOT_IN;
                rest = rest.substring(5).trim();
            } else if (rest.startsWith("in")) {
                op = Operator.IN;
                rest = rest.substring(2).trim();
            } else {
                throw new IllegalArgumentException("unable to parse requirement: \"" + part + "\" in \"" + whole + "\"");
            }
            if (!rest.startsWith("(") || !rest.endsWith(")")) {
                throw new IllegalArgumentException("unable to parse requirement: expected '(' ... ')' in \"" + part + "\"");
            }
            Set<String> values = new LinkedHashSet<>();
            for (String v : rest.substring(1, rest.length() - 1).split(",")) {
                if (!v.isBlank()) {
                    values.add(v.trim());
                }
            }
            return new Requirement(key(words[0], whole), op, values);
        }
        return new Requirement(key(part, whole), Operator.EXISTS, Set.of());
    }

    private static String key(String key, String whole) {
        if (key.isEmpty() || !key.matches("[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?")) {
            throw new IllegalArgumentException("invalid label key \"" + key + "\" in selector \"" + whole + "\"");
        }
        return key;
    }
}
