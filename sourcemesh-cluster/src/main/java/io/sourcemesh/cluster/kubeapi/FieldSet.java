package io.sourcemesh.cluster.kubeapi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BiConsumer;

/**
 * A set of field paths, as structured-merge-diff keeps one per field manager: a tree whose edges are
 * path elements in their FieldsV1 spelling ({@code f:name}, {@code k:{"name":"app"}}, {@code v:"x"},
 * {@code i:0}) and whose nodes may be members of the set themselves. {@link #toFieldsV1} writes it as
 * {@code metadata.managedFields[].fieldsV1} does: {@code {}} for a member leaf, {@code ".": {}} for a
 * member that also has members below it.
 */
final class FieldSet {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private boolean member;
    private final TreeMap<String, FieldSet> children = new TreeMap<>();

    static FieldSet empty() {
        return new FieldSet();
    }

    /** Reads a {@code fieldsV1} object. */
    static FieldSet fromFieldsV1(JsonNode n) {
        FieldSet s = new FieldSet();
        if (n != null) {
            n.properties().forEach(e -> {
                if (e.getKey().equals(".")) {
                    s.member = true;
                } else {
                    FieldSet child = fromFieldsV1(e.getValue());
                    if (e.getValue().isEmpty()) {
                        child.member = true;
                    }
                    s.children.put(e.getKey(), child);
                }
            });
        }
        return s;
    }

    ObjectNode toFieldsV1() {
        ObjectNode n = F.objectNode();
        write(n);
        return n;
    }

    private void write(ObjectNode n) {
        children.forEach((pe, child) -> {
            ObjectNode c = n.putObject(pe);
            if (child.member && !child.children.isEmpty()) {
                c.putObject(".");
            }
            child.write(c);
        });
    }

    /** Adds a path (its elements in FieldsV1 spelling). */
    void insert(List<String> path) {
        FieldSet s = this;
        for (String pe : path) {
            s = s.children.computeIfAbsent(pe, k -> new FieldSet());
        }
        s.member = true;
    }

    boolean has(List<String> path) {
        FieldSet s = find(path);
        return s != null && s.member;
    }

    /** Whether the path or anything below it is a member. */
    boolean hasPrefix(List<String> path) {
        FieldSet s = find(path);
        return s != null && !s.isEmpty() || has(path);
    }

    private FieldSet find(List<String> path) {
        FieldSet s = this;
        for (String pe : path) {
            s = s.children.get(pe);
            if (s == null) {
                return null;
            }
        }
        return s;
    }

    boolean isEmpty() {
        if (member) {
            return false;
        }
        for (FieldSet c : children.values()) {
            if (!c.isEmpty()) {
                return false;
            }
        }
        return true;
    }

    /** Every member path, depth first in FieldsV1 order. */
    List<List<String>> paths() {
        List<List<String>> out = new ArrayList<>();
        walk(new ArrayList<>(), (p, s) -> out.add(List.copyOf(p)));
        return out;
    }

    private void walk(List<String> prefix, BiConsumer<List<String>, FieldSet> visit) {
        if (member) {
            visit.accept(prefix, this);
        }
        for (Map.Entry<String, FieldSet> e : children.entrySet()) {
            prefix.add(e.getKey());
            e.getValue().walk(prefix, visit);
            prefix.removeLast();
        }
    }

    FieldSet union(FieldSet other) {
        FieldSet out = copy();
        other.paths().forEach(out::insert);
        return out;
    }

    FieldSet difference(FieldSet other) {
        FieldSet out = new FieldSet();
        paths().stream().filter(p -> !other.has(p)).forEach(out::insert);
        return out;
    }

    FieldSet intersection(FieldSet other) {
        FieldSet out = new FieldSet();
        paths().stream().filter(other::has).forEach(out::insert);
        return out;
    }

    FieldSet copy() {
        FieldSet out = new FieldSet();
        paths().forEach(out::insert);
        return out;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FieldSet s && paths().equals(s.paths());
    }

    @Override
    public int hashCode() {
        return paths().hashCode();
    }

    @Override
    public String toString() {
        return toFieldsV1().toString();
    }

    /**
     * A path as structured-merge-diff prints it in a conflict: {@code .spec.replicas},
     * {@code .spec.containers[name="app"].image}, {@code .metadata.finalizers[="x"]}.
     */
    static String print(List<String> path) {
        StringBuilder b = new StringBuilder();
        for (String pe : path) {
            String rest = pe.substring(2);
            switch (pe.charAt(0)) {
                case 'f' -> b.append('.').append(rest);
                case 'k' -> {
                    JsonNode key = ManagedFields.parse(rest);
                    List<String> parts = new ArrayList<>();
                    key.properties().forEach(e -> parts.add(e.getKey() + "=" + e.getValue()));
                    b.append('[').append(String.join(",", parts)).append(']');
                }
                case 'v' -> b.append("[=").append(rest).append(']');
                default -> b.append('[').append(rest).append(']');
            }
        }
        return b.toString();
    }
}
