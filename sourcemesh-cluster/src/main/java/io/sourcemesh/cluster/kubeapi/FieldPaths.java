package io.sourcemesh.cluster.kubeapi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.patch.StrategicMergePatch;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.api.resource.Schema;
import io.sourcemesh.api.resource.Schemas;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * An object of one kind seen as structured-merge-diff sees it (sigs.k8s.io/structured-merge-diff
 * {@code typed}): structs with named fields, granular maps (labels, data), associative lists merged
 * by key (the lists strategic merge merges: containers by name, ports by port and protocol), sets of
 * scalars (finalizers) and atomic values (every other list, scalars). On that view: the field set an
 * applied configuration manages ({@code ToFieldSet}), the comparison of two versions
 * ({@code Compare}), the merge of a configuration into a live object ({@code Merge}) and the removal
 * of a path ({@code RemoveItems}).
 * <p>Over 400 lines: structured-merge-diff's walk over fields, keyed lists and sets is one recursive
 * algorithm.
 */
final class FieldPaths {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final Schema ANY = new Schema.Any();
    /** Fields that are never managed: identity and bookkeeping, as kube-apiserver strips them (fieldmanager's stripMeta). */
    private static final Set<String> STRIPPED_METADATA = Set.of("name", "namespace", "creationTimestamp", "selfLink", "uid",
            "generation", "managedFields", "resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds");

    private enum Shape { STRUCT, MAP, KEYED_LIST, SET, ATOMIC }

    private final ResourceKind kind;

    private FieldPaths(ResourceKind kind) {
        this.kind = kind;
    }

    static FieldPaths of(ResourceKind kind) {
        return new FieldPaths(kind);
    }

    /** Which part of an object a write may change: the main resource (all but status) or its status subresource. */
    enum Scope { MAIN, STATUS }

    /** The part of {@code object} whose fields are managed in this scope, bookkeeping removed. */
    static ObjectNode managedPart(JsonNode object, Scope scope) {
        ObjectNode out = F.objectNode();
        if (object == null) {
            return out;
        }
        if (scope == Scope.STATUS) {
            if (object.hasNonNull("status")) {
                out.set("status", object.get("status").deepCopy());
            }
            return out;
        }
        object.properties().forEach(e -> {
            switch (e.getKey()) {
                case "apiVersion", "kind", "status" -> {
                }
                case "metadata" -> {
                    ObjectNode meta = F.objectNode();
                    e.getValue().properties().forEach(m -> {
                        if (!STRIPPED_METADATA.contains(m.getKey())) {
                            meta.set(m.getKey(), m.getValue().deepCopy());
                        }
                    });
                    if (!meta.isEmpty()) {
                        out.set("metadata", meta);
                    }
                }
                default -> out.set(e.getKey(), e.getValue().deepCopy());
            }
        });
        return out;
    }

    // --- ToFieldSet ------------------------------------------------------------------------------------------

    /** The fields an applied configuration sets: its leaves, list items and map entries. */
    FieldSet toFieldSet(ObjectNode config) {
        FieldSet set = FieldSet.empty();
        toFieldSet(Schemas.of(kind), config, new ArrayList<>(), new ArrayList<>(), set);
        return set;
    }

    private void toFieldSet(Schema schema, JsonNode v, List<String> path, List<String> fields, FieldSet set) {
        switch (shape(schema, v, fields)) {
            case ATOMIC -> set.insert(path);
            case STRUCT, MAP -> v.properties().forEach(e -> {
                Schema child = child(schema, e.getKey());
                push(path, fields, "f:" + e.getKey(), e.getKey());
                toFieldSet(child, e.getValue(), path, fields, set);
                boolean declared = schema instanceof Schema.Obj o && o.fields().containsKey(e.getKey());
                if (e.getValue().isNull() || (e.getValue().isObject() && e.getValue().isEmpty()) || !declared) {
                    set.insert(path);
                }
                pop(path, fields);
            });
            case KEYED_LIST -> {
                Schema item = ((Schema.ListOf) schema).items();
                for (JsonNode element : v) {
                    path.add(keyElement(fields, element));
                    toFieldSet(item, element, path, fields, set);
                    set.insert(path);
                    path.removeLast();
                }
            }
            case SET -> v.forEach(element -> {
                path.add("v:" + element);
                set.insert(path);
                path.removeLast();
            });
        }
    }

    /**
     * The fields of an applied configuration the schema does not declare, as structured-merge-diff names
     * them ({@code .spec.template.spec.containers[name="app"].colour}): server-side apply refuses them
     * whatever the fieldValidation, its typed conversion failing.
     */
    List<String> undeclared(ObjectNode config) {
        List<String> out = new ArrayList<>();
        undeclared(Schemas.of(kind), config, new ArrayList<>(), new ArrayList<>(), out);
        return out;
    }

    private void undeclared(Schema schema, JsonNode v, List<String> path, List<String> fields, List<String> out) {
        switch (shape(schema, v, fields)) {
            case STRUCT, MAP -> v.properties().forEach(e -> {
                push(path, fields, "f:" + e.getKey(), e.getKey());
                if (schema instanceof Schema.Obj o && !o.fields().containsKey(e.getKey())) {
                    out.add(FieldSet.print(path));
                } else {
                    undeclared(child(schema, e.getKey()), e.getValue(), path, fields, out);
                }
                pop(path, fields);
            });
            case KEYED_LIST -> {
                for (JsonNode element : v) {
                    path.add(keyElement(fields, element));
                    undeclared(((Schema.ListOf) schema).items(), element, path, fields, out);
                    path.removeLast();
                }
            }
            default -> {
                if (schema instanceof Schema.ListOf l && v.isArray()) {
                    for (int i = 0; i < v.size(); i++) {
                        path.add("i:" + i);
                        undeclared(l.items(), v.get(i), path, fields, out);
                        path.removeLast();
                    }
                }
            }
        }
    }

    // --- Compare ---------------------------------------------------------------------------------------------

    /** What changed from {@code lhs} to {@code rhs}: paths added, modified and removed. */
    record Comparison(FieldSet added, FieldSet modified, FieldSet removed) {
        boolean isSame() {
            return added.isEmpty() && modified.isEmpty() && removed.isEmpty();
        }
    }

    Comparison compare(ObjectNode lhs, ObjectNode rhs) {
        Comparison c = new Comparison(FieldSet.empty(), FieldSet.empty(), FieldSet.empty());
        compare(Schemas.of(kind), lhs, rhs, new ArrayList<>(), new ArrayList<>(), c);
        return c;
    }

    private void compare(Schema schema, JsonNode l, JsonNode r, List<String> path, List<String> fields, Comparison c) {
        l = present(l);
        r = present(r);
        if (l == null && r == null) {
            return;
        }
        JsonNode sample = r != null ? r : l;
        Shape shape = shape(schema, sample, fields);
        boolean bothEmpty = (l == null || l.isEmpty()) && (r == null || r.isEmpty()) && shape != Shape.ATOMIC;
        if (shape == Shape.ATOMIC || bothEmpty || (l != null && r != null && l.getNodeType() != r.getNodeType())) {
            if (l == null) {
                c.added().insert(path);
            } else if (r == null) {
                c.removed().insert(path);
            } else if (!l.equals(r)) {
                c.modified().insert(path);
            }
            return;
        }
        switch (shape) {
            case STRUCT, MAP -> {
                Set<String> keys = new LinkedHashSet<>();
                if (l != null) {
                    l.fieldNames().forEachRemaining(keys::add);
                }
                if (r != null) {
                    r.fieldNames().forEachRemaining(keys::add);
                }
                for (String k : keys) {
                    push(path, fields, "f:" + k, k);
                    compare(child(schema, k), l == null ? null : l.get(k), r == null ? null : r.get(k), path, fields, c);
                    pop(path, fields);
                }
            }
            case KEYED_LIST -> {
                Map<String, JsonNode> left = byKey(l, fields);
                Map<String, JsonNode> right = byKey(r, fields);
                Set<String> keys = new LinkedHashSet<>(left.keySet());
                keys.addAll(right.keySet());
                Schema item = ((Schema.ListOf) schema).items();
                for (String k : keys) {
                    path.add(k);
                    JsonNode le = left.get(k);
                    JsonNode re = right.get(k);
                    compare(item, le, re, path, fields, c);
                    if (le == null) {
                        c.added().insert(path);
                    } else if (re == null) {
                        c.removed().insert(path);
                    }
                    path.removeLast();
                }
            }
            case SET -> {
                Set<String> left = values(l);
                Set<String> right = values(r);
                for (String v : right) {
                    if (!left.contains(v)) {
                        c.added().insert(append(path, "v:" + v));
                    }
                }
                for (String v : left) {
                    if (!right.contains(v)) {
                        c.removed().insert(append(path, "v:" + v));
                    }
                }
            }
            default -> throw new IllegalStateException();
        }
        // A declared granular map (labels, data) or keyed list that appears or goes is itself a member (the
        // ".": {} of managedFields); a struct, and the free-form status our schemas leave untyped, are only
        // the sum of their fields. kube leaves containers out too: its zero PodSpec already holds the list.
        boolean member = schema instanceof Schema.MapOf || shape == Shape.SET
                || (shape == Shape.KEYED_LIST && !fields.getLast().equals("containers"));
        if (member) {
            if (l == null) {
                c.added().insert(path);
            } else if (r == null) {
                c.removed().insert(path);
            }
        }
    }

    // --- Merge and remove ------------------------------------------------------------------------------------

    /** {@code config} merged into {@code live}: the configuration's values win; lists merge by key, sets by value. */
    ObjectNode merge(ObjectNode live, ObjectNode config) {
        return (ObjectNode) merge(Schemas.of(kind), live, config, new ArrayList<>());
    }

    private JsonNode merge(Schema schema, JsonNode l, JsonNode r, List<String> fields) {
        if (l == null || l.isNull() || r.isNull()) {
            return r.deepCopy();
        }
        Shape shape = shape(schema, r, fields);
        if (shape == Shape.ATOMIC || l.getNodeType() != r.getNodeType()) {
            return r.deepCopy();
        }
        switch (shape) {
            case STRUCT, MAP -> {
                ObjectNode out = (ObjectNode) l.deepCopy();
                r.properties().forEach(e -> {
                    fields.add(e.getKey());
                    JsonNode merged = merge(child(schema, e.getKey()), l.get(e.getKey()), e.getValue(), fields);
                    fields.removeLast();
                    if (merged.isNull()) {
                        out.remove(e.getKey());
                    } else {
                        out.set(e.getKey(), merged);
                    }
                });
                return out;
            }
            case KEYED_LIST -> {
                Map<String, JsonNode> out = new LinkedHashMap<>(byKey(l, fields));
                Schema item = ((Schema.ListOf) schema).items();
                for (JsonNode element : r) {
                    String k = keyElement(fields, element);
                    out.put(k, merge(item, out.get(k), element, fields));
                }
                ArrayNode a = F.arrayNode();
                out.values().forEach(a::add);
                return a;
            }
            case SET -> {
                ArrayNode a = (ArrayNode) l.deepCopy();
                Set<String> have = values(l);
                r.forEach(v -> {
                    if (have.add(v.toString())) {
                        a.add(v);
                    }
                });
                return a;
            }
            default -> throw new IllegalStateException();
        }
    }

    /** Removes {@code path} from {@code object}; a map or struct left empty by the removal goes too. */
    void remove(ObjectNode object, List<String> path) {
        remove(Schemas.of(kind), object, path, 0, new ArrayList<>());
    }

    private boolean remove(Schema schema, JsonNode node, List<String> path, int at, List<String> fields) {
        String pe = path.get(at);
        boolean last = at == path.size() - 1;
        if (node instanceof ObjectNode o && pe.startsWith("f:")) {
            String name = pe.substring(2);
            if (last) {
                o.remove(name);
            } else if (o.get(name) != null) {
                fields.add(name);
                boolean emptied = remove(child(schema, name), o.get(name), path, at + 1, fields);
                fields.removeLast();
                if (emptied) {
                    o.remove(name);
                }
            }
            return o.isEmpty();
        }
        if (node instanceof ArrayNode a) {
            for (int i = 0; i < a.size(); i++) {
                JsonNode element = a.get(i);
                String id = pe.startsWith("v:") ? "v:" + element : pe.startsWith("k:") ? keyElement(fields, element) : "i:" + i;
                if (!id.equals(pe)) {
                    continue;
                }
                if (last) {
                    a.remove(i);
                } else {
                    Schema item = schema instanceof Schema.ListOf l ? l.items() : ANY;
                    remove(item, element, path, at + 1, fields);
                }
                break;
            }
            return a.isEmpty();
        }
        return false;
    }

    // --- the schema's view -----------------------------------------------------------------------------------

    private Shape shape(Schema schema, JsonNode v, List<String> fields) {
        return switch (schema) {
            case Schema.Obj o -> v.isObject() ? Shape.STRUCT : Shape.ATOMIC;
            case Schema.MapOf m -> v.isObject() ? Shape.MAP : Shape.ATOMIC;
            case Schema.ListOf l -> {
                if (!v.isArray() || fields.isEmpty()) {
                    yield Shape.ATOMIC;
                }
                if (fields.getLast().equals("finalizers")) {
                    yield Shape.SET;
                }
                yield StrategicMergePatch.mergeKey(kind, fields) != null ? Shape.KEYED_LIST : Shape.ATOMIC;
            }
            case Schema.Scalar s -> Shape.ATOMIC;
            // Free-form (preserve-unknown-fields): objects are granular maps, lists atomic, as kube deduces them.
            case Schema.Any a -> v.isObject() ? Shape.MAP : Shape.ATOMIC;
        };
    }

    private static Schema child(Schema schema, String field) {
        return switch (schema) {
            case Schema.Obj o -> o.fields().containsKey(field) ? o.fields().get(field).schema() : ANY;
            case Schema.MapOf m -> m.values();
            default -> ANY;
        };
    }

    /** The list item's path element: {@code k:} and its key fields, sorted, as JSON. */
    private String keyElement(List<String> fields, JsonNode element) {
        String key = StrategicMergePatch.mergeKey(kind, fields);
        TreeMap<String, JsonNode> parts = new TreeMap<>();
        if (!element.hasNonNull(key)) {
            throw ApiException.badRequest("." + String.join(".", fields) + ": element " + element + " does not contain the key field \""
                    + key + "\"");
        }
        parts.put(key, element.get(key));
        if (fields.getLast().equals("ports")) {
            // Ports are keyed by number and protocol, the protocol TCP when not given (its default).
            parts.put("protocol", element.hasNonNull("protocol") ? element.get("protocol") : F.textNode("TCP"));
        }
        ObjectNode k = F.objectNode();
        parts.forEach(k::set);
        return "k:" + k;
    }

    private Map<String, JsonNode> byKey(JsonNode list, List<String> fields) {
        Map<String, JsonNode> out = new LinkedHashMap<>();
        if (list != null) {
            for (JsonNode element : list) {
                out.put(keyElement(fields, element), element);
            }
        }
        return out;
    }

    private static Set<String> values(JsonNode list) {
        Set<String> out = new LinkedHashSet<>();
        if (list != null) {
            list.forEach(v -> out.add(v.toString()));
        }
        return out;
    }

    private static JsonNode present(JsonNode n) {
        return n == null || n.isNull() || n.isMissingNode() ? null : n;
    }

    private static void push(List<String> path, List<String> fields, String pe, String field) {
        path.add(pe);
        fields.add(field);
    }

    private static void pop(List<String> path, List<String> fields) {
        path.removeLast();
        fields.removeLast();
    }

    private static List<String> append(List<String> path, String pe) {
        List<String> p = new ArrayList<>(path);
        p.add(pe);
        return p;
    }
}
