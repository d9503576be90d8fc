package io.sourcemesh.cluster.kubeapi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * An object's {@code metadata.managedFields}: one entry per field manager and operation (Apply, or
 * Update with its apiVersion), each with the set of fields it owns, written as kube-apiserver writes
 * them (fieldsType FieldsV1, the time of the manager's last change to its set, sorted by operation,
 * time, manager).
 */
final class ManagedFields {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    record Entry(String manager, String operation, String apiVersion, String time, String subresource, FieldSet fields) {
        /** Who this entry is: the same manager applying and updating holds two entries. */
        boolean sameManager(Entry o) {
            return manager.equals(o.manager) && operation.equals(o.operation) && subresource.equals(o.subresource)
                    && (operation.equals("Apply") || apiVersion.equals(o.apiVersion));
        }

        Entry withFields(FieldSet f) {
            return new Entry(manager, operation, apiVersion, time, subresource, f);
        }

        /** How a conflict names it: {@code "kubectl"}, or {@code "kubectl-edit" using apps/v1} for an Update. */
        String printed() {
            String s = "\"" + manager + "\"";
            if (!subresource.isEmpty()) {
                s += " with subresource \"" + subresource + "\"";
            }
            return operation.equals("Update") ? s + " using " + apiVersion : s;
        }
    }

    private ManagedFields() {
    }

    static List<Entry> decode(JsonNode metadata) {
        List<Entry> out = new ArrayList<>();
        for (JsonNode e : metadata.path("managedFields")) {
            out.add(new Entry(e.path("manager").asText(""), e.path("operation").asText("Update"), e.path("apiVersion").asText(""),
                    e.path("time").asText(""), e.path("subresource").asText(""), FieldSet.fromFieldsV1(e.path("fieldsV1"))));
        }
        return out;
    }

    static ArrayNode encode(List<Entry> entries) {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparing(Entry::operation).thenComparing(Entry::time).thenComparing(Entry::manager)
                .thenComparing(Entry::apiVersion).thenComparing(Entry::subresource));
        ArrayNode a = F.arrayNode();
        for (Entry e : sorted) {
            ObjectNode n = a.addObject();
            n.put("manager", e.manager()).put("operation", e.operation()).put("apiVersion", e.apiVersion());
            if (!e.time().isEmpty()) {
                n.put("time", e.time());
            }
            n.put("fieldsType", "FieldsV1");
            n.set("fieldsV1", e.fields().toFieldsV1());
            if (!e.subresource().isEmpty()) {
                n.put("subresource", e.subresource());
            }
        }
        return a;
    }

    static JsonNode parse(String json) {
        try {
            return KubeApiHandler.JSON.readTree(json);
        } catch (IOException e) {
            throw new IllegalArgumentException("invalid key in a field path: " + json, e);
        }
    }
}
