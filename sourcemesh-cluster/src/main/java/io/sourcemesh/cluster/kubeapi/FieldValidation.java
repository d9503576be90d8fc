package io.sourcemesh.cluster.kubeapi;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.api.resource.Schema;
import io.sourcemesh.api.resource.Schemas;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The {@code fieldValidation} a write asks for, as kube-apiserver does it: unknown fields (not in the
 * kind's schema) and duplicate fields (the same key twice in one JSON object) are an error with
 * {@code Strict} (400, {@code strict decoding error: unknown field "spec.foo"}), a {@code Warning}
 * header each with {@code Warn} (the server's default when none is asked for), and dropped silently with
 * {@code Ignore}. An unknown field is never stored.
 */
final class FieldValidation {
    enum Mode { STRICT, WARN, IGNORE }

    private static final JsonFactory JSON = new JsonFactory();

    private final Mode mode;

    private FieldValidation(Mode mode) {
        this.mode = mode;
    }

    /** The request's {@code fieldValidation} parameter; absent means Warn (kube-apiserver's default). */
    static FieldValidation of(Map<String, List<String>> q) {
        String v = Resources.param(q, "fieldValidation");
        if (v == null || v.isEmpty()) {
            return new FieldValidation(Mode.WARN);
        }
        return new FieldValidation(switch (v) {
            case "Strict" -> Mode.STRICT;
            case "Warn" -> Mode.WARN;
            case "Ignore" -> Mode.IGNORE;
            default -> throw ApiException.badRequest("fieldValidation must be one of Strict, Warn or Ignore, not \"" + v + "\"");
        });
    }

    Mode mode() {
        return mode;
    }

    /**
     * Checks {@code object} (of {@code kind}; {@code body} the request's JSON bytes for duplicates, or
     * null) and removes its unknown fields. Returns the warnings to send; in Strict mode throws instead,
     * {@code prefix} leading the message as kube words it for the verb.
     */
    List<String> check(ObjectNode object, ResourceKind kind, byte[] body, String prefix) {
        List<String> problems = new ArrayList<>();
        prune(Schemas.of(kind), object, "", problems);
        if (body != null) {
            duplicates(body).forEach(d -> problems.add("duplicate field \"" + d + "\""));
        }
        if (problems.isEmpty() || mode == Mode.IGNORE) {
            return List.of();
        }
        if (mode == Mode.STRICT) {
            throw ApiException.badRequest(prefix + "strict decoding error: " + String.join(", ", problems));
        }
        return problems;
    }

    /** Removes the fields the schema does not know, naming each as the API server does ({@code spec.ports[0].foo}). */
    static void prune(Schema schema, JsonNode value, String path, List<String> unknown) {
        switch (schema) {
            case Schema.Obj obj -> {
                if (value instanceof ObjectNode o) {
                    for (String key : List.copyOf(o.properties().stream().map(Map.Entry::getKey).toList())) {
                        String child = path.isEmpty() ? key : path + "." + key;
                        Schema.Field field = obj.fields().get(key);
                        if (field == null) {
                            unknown.add("unknown field \"" + child + "\"");
                            o.remove(key);
                        } else {
                            prune(field.schema(), o.get(key), child, unknown);
                        }
                    }
                }
            }
            case Schema.MapOf map -> {
                if (value.isObject()) {
                    value.properties().forEach(e -> prune(map.values(), e.getValue(), path + "." + e.getKey(), unknown));
                }
            }
            case Schema.ListOf list -> {
                for (int i = 0; i < value.size() && value.isArray(); i++) {
                    prune(list.items(), value.get(i), path + "[" + i + "]", unknown);
                }
            }
            default -> {
            }
        }
    }

    /** The paths of keys that occur twice in one object of a JSON document (the last one wins when kept). */
    static List<String> duplicates(byte[] json) {
        List<String> out = new ArrayList<>();
        try (JsonParser p = JSON.createParser(json)) {
            Deque<Set<String>> seen = new ArrayDeque<>();
            Deque<String> path = new ArrayDeque<>();
            Deque<Integer> index = new ArrayDeque<>();
            String pendingName = null;
            for (JsonToken t = p.nextToken(); t != null; t = p.nextToken()) {
                switch (t) {
                    case START_OBJECT, START_ARRAY -> {
                        String segment = segment(index, pendingName);
                        path.push(segment);
                        seen.push(new HashSet<>());
                        index.push(t == JsonToken.START_ARRAY ? 0 : -1);
                        pendingName = null;
                    }
                    case END_OBJECT, END_ARRAY -> {
                        path.pop();
                        seen.pop();
                        index.pop();
                        advance(index);
                    }
                    case FIELD_NAME -> {
                        pendingName = p.currentName();
                        if (!seen.isEmpty() && !seen.peek().add(pendingName)) {
                            String prefix = join(path);
                            out.add(prefix.isEmpty() ? pendingName : prefix + "." + pendingName);
                        }
                    }
                    default -> {
                        pendingName = null;
                        advance(index);
                    }
                }
            }
        } catch (IOException e) {
            return out; // not JSON (YAML): its parser has refused duplicates already
        }
        return out;
    }

    private static String segment(Deque<Integer> index, String name) {
        if (index.isEmpty()) {
            return "";
        }
        if (index.peek() >= 0) {
            return "[" + index.peek() + "]";
        }
        return name == null ? "" : name;
    }

    private static void advance(Deque<Integer> index) {
        if (!index.isEmpty() && index.peek() >= 0) {
            index.push(index.pop() + 1);
        }
    }

    private static String join(Deque<String> path) {
        StringBuilder b = new StringBuilder();
        var it = path.descendingIterator();
        while (it.hasNext()) {
            String s = it.next();
            if (s.isEmpty()) {
                continue;
            }
            if (!s.startsWith("[") && !b.isEmpty()) {
                b.append('.');
            }
            b.append(s);
        }
        return b.toString();
    }
}
