package io.sourcemesh.cluster.kubeapi;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.patch.StrategicMergePatch;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.api.resource.Schema;
import io.sourcemesh.api.resource.Schemas;
import io.sourcemesh.api.support.FieldSupport;
import io.sourcemesh.api.support.KindSupport;
import io.sourcemesh.api.support.SupportTable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The OpenAPI v3 schemas of the kinds we serve ({@code components.schemas} of a group-version's
 * document), generated — not copied — from the two tables the server itself runs on: the structure
 * from {@link Schemas} (what {@code fieldValidation} checks), each field's description from
 * {@link SupportTable} (whether SourceMesh implements it), and a list's keys from
 * {@link StrategicMergePatch#mergeKey} (how strategic merge and server-side apply merge it):
 * {@code x-kubernetes-patch-merge-key}/{@code x-kubernetes-patch-strategy} on built-in kinds,
 * {@code x-kubernetes-list-type: map} with {@code x-kubernetes-list-map-keys} on every keyed list
 * (ports by number and protocol, as kube publishes them). Free-form subtrees are
 * {@code x-kubernetes-preserve-unknown-fields}. {@code kubectl explain} reads these.
 */
final class OpenApiSchemas {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;

    private OpenApiSchemas() {
    }

    /** The schema's name in components, as kube and Istio's CRDs name them ({@code io.k8s.api.apps.v1.Deployment}). */
    static String name(ResourceKind kind, String version) {
        if (kind.group().isEmpty()) {
            return "io.k8s.api.core." + version + "." + kind.kind();
        }
        if (kind.builtIn()) {
            return "io.k8s.api." + kind.group() + "." + version + "." + kind.kind();
        }
        List<String> parts = new ArrayList<>(List.of(kind.group().split("\\.")));
        Collections.reverse(parts);
        return String.join(".", parts) + "." + version + "." + kind.kind();
    }

    /** The components.schemas of one group-version: one schema per kind it serves. */
    static ObjectNode components(String group, String version, List<ResourceKind> kinds) {
        ObjectNode schemas = F.objectNode();
        for (ResourceKind k : kinds) {
            ObjectNode root = new Builder(k).schema(Schemas.of(k), "", List.of());
            root.put("description", k.kind() + " as SourceMesh serves it. Each field's description says whether SourceMesh "
                    + "implements it (SUPPORT.md lists them all); a field it does not implement is accepted with a warning, "
                    + "one whose being ignored would weaken security is refused."
                    + (SupportTable.of(k) instanceof KindSupport.OwnValidator own ? " Its fields are checked by " + own.owner() + "." : ""));
            root.putArray("x-kubernetes-group-version-kind").addObject().put("group", group).put("version", version).put("kind", k.kind());
            schemas.set(name(k, version), root);
        }
        return schemas;
    }

    /** One kind's schema, walked with its support rows. */
    private static final class Builder {
        private final ResourceKind kind;
        private final Map<String, FieldSupport> rows = new HashMap<>();

        Builder(ResourceKind kind) {
            this.kind = kind;
            if (SupportTable.of(kind) instanceof KindSupport.Fields fields) {
                fields.rows().forEach(r -> rows.put(r.path(), r));
            }
        }

        /** {@code pattern}: the support table's path ({@code spec.http[].route}); {@code fields}: the field names leading here. */
        ObjectNode schema(Schema s, String pattern, List<String> fields) {
            ObjectNode out = F.objectNode();
            switch (s) {
                case Schema.Obj obj -> {
                    out.put("type", "object");
                    ObjectNode props = out.putObject("properties");
                    ArrayNode required = F.arrayNode();
                    obj.fields().values().stream().sorted(Comparator.comparing(Schema.Field::name)).forEach(f -> {
                        String child = pattern.isEmpty() ? f.name() : pattern + "." + f.name();
                        List<String> path = new ArrayList<>(fields);
                        path.add(f.name());
                        ObjectNode fs = schema(f.schema(), child, path);
                        describe(fs, child);
                        props.set(f.name(), fs);
                        if (f.required()) {
                            required.add(f.name());
                        }
                    });
                    if (!required.isEmpty()) {
                        out.set("required", required);
                    }
                }
                case Schema.MapOf map -> {
                    out.put("type", "object");
                    out.set("additionalProperties", schema(map.values(), pattern + ".*", fields));
                }
                case Schema.ListOf list -> {
                    out.put("type", "array");
                    out.set("items", schema(list.items(), pattern + "[]", fields));
                    listKeys(out, fields);
                }
                case Schema.Scalar scalar -> scalar(out, scalar);
                case Schema.Any any -> out.put("x-kubernetes-preserve-unknown-fields", true);
            }
            return out;
        }

        /** How strategic merge and server-side apply merge this list; nothing for a list replaced whole. */
        private void listKeys(ObjectNode out, List<String> fields) {
            if (fields.isEmpty()) {
                return;
            }
            if (fields.getLast().equals("finalizers")) {
                if (kind.builtIn()) {
                    out.put("x-kubernetes-patch-strategy", "merge");
                }
                out.put("x-kubernetes-list-type", "set");
                return;
            }
            String key = StrategicMergePatch.mergeKey(kind, fields);
            if (key == null) {
                return;
            }
            if (kind.builtIn()) {
                out.put("x-kubernetes-patch-merge-key", key);
                out.put("x-kubernetes-patch-strategy", "merge");
            }
            out.put("x-kubernetes-list-type", "map");
            ArrayNode keys = out.putArray("x-kubernetes-list-map-keys").add(key);
            if (fields.getLast().equals("ports")) {
                keys.add("protocol"); // as FieldPaths keys them: number and protocol
            }
        }

        private static void scalar(ObjectNode out, Schema.Scalar s) {
            switch (s.type()) {
                case STRING, RE2 -> out.put("type", "string");
                case INTEGER -> {
                    out.put("type", "integer");
                    boolean small = s.max() <= Integer.MAX_VALUE && s.min() >= Integer.MIN_VALUE;
                    out.put("format", small ? "int32" : "int64");
                    if (s.min() != Long.MIN_VALUE) {
                        out.put("minimum", s.min());
                    }
                    if (s.max() != Long.MAX_VALUE) {
                        out.put("maximum", s.max());
                    }
                }
                case NUMBER -> out.put("type", "number").put("format", "double");
                case BOOLEAN -> out.put("type", "boolean");
                case INT_OR_STRING -> out.put("type", "string").put("format", "int-or-string").put("x-kubernetes-int-or-string", true);
                case QUANTITY -> out.put("type", "string").put("format", "quantity").put("x-kubernetes-int-or-string", true);
                case BASE64 -> out.put("type", "string").put("format", "byte");
            }
            if (!s.allowed().isEmpty()) {
                ArrayNode e = out.putArray("enum");
                s.allowed().forEach(e::add);
            }
        }

        /** The field's description: what its support row (or the nearest row above it) says. */
        private void describe(ObjectNode field, String pattern) {
            FieldSupport row = rows.get(pattern);
            if (row != null) {
                field.put("description", text(row));
                return;
            }
            if (rows.isEmpty() || rows.keySet().stream().anyMatch(p -> p.startsWith(pattern + ".") || p.startsWith(pattern + "["))) {
                return; // its fields say
            }
            for (String up = parent(pattern); up != null; up = parent(up)) {
                FieldSupport above = rows.get(up);
                if (above != null) {
                    field.put("description", switch (above.level()) {
                        case SUPPORTED -> "Supported by SourceMesh, as part of " + up + ".";
                        case WARNED -> "Not implemented by SourceMesh, as " + up + " is not: accepted, with a warning, and has no effect.";
                        case REFUSED -> "Refused by SourceMesh, as " + up + " is.";
                    });
                    return;
                }
            }
            field.put("description", "Not implemented by SourceMesh: accepted, with a warning, and has no effect.");
        }

        private static String parent(String pattern) {
            int cut = Math.max(pattern.lastIndexOf('.'), pattern.lastIndexOf('['));
            return cut <= 0 ? null : pattern.substring(0, cut);
        }

        private static String text(FieldSupport row) {
            StringBuilder b = new StringBuilder(switch (row.level()) {
                case SUPPORTED -> "Supported by SourceMesh.";
                case WARNED -> "Not implemented by SourceMesh: accepted, with a warning, and has no effect.";
                case REFUSED -> "Refused by SourceMesh: " + row.refusal() + ".";
            });
            if (row.note() != null) {
                b.append(' ').append(Character.toUpperCase(row.note().charAt(0))).append(row.note().substring(1)).append('.');
            }
            if (!row.warnedValues().isEmpty()) {
                b.append(" Not implemented (a warning, no effect): ").append(String.join(", ", row.warnedValues())).append('.');
            }
            if (!row.refusedValues().isEmpty() && row.level() != FieldSupport.Level.REFUSED) {
                b.append(" Refused: ").append(String.join(", ", row.refusedValues())).append(" (").append(row.refusal()).append(").");
            }
            return b.toString();
        }
    }
}
