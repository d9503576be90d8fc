package io.sourcemesh.api.resource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * An API object kept unstructured, as Kubernetes' {@code unstructured.Unstructured}: the control plane reads
 * {@code spec} trees directly, and fields this code never heard of survive a round trip. Immutable: the tree
 * is deep-copied in and out, and every {@code withX} returns a new object.
 */
public final class KubeObject {

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    // 1 and 1L are the same value, whichever parser or setter produced them (and hash alike for small values).
    private static final Comparator<JsonNode> NUMERIC_VALUE = (a, b) -> {
        if (a.isIntegralNumber() && b.isIntegralNumber()) {
            return a.bigIntegerValue().compareTo(b.bigIntegerValue());
        }
        return a.equals(b) ? 0 : 1;
    };

    private final ObjectNode node;

    private KubeObject(ObjectNode node) {
        this.node = node;
    }

    /** Wraps a copy of {@code node}; later changes to {@code node} do not leak in. */
    public static KubeObject of(ObjectNode node) {
        return new KubeObject(node.deepCopy());
    }

    /** A new object with only apiVersion, kind and name (and namespace if not empty) set. */
    public static KubeObject of(String apiVersion, String kind, String namespace, String name) {
        ObjectNode n = NODES.objectNode();
        n.put("apiVersion", apiVersion);
        n.put("kind", kind);
        ObjectNode meta = n.putObject("metadata");
        meta.put("name", name);
        if (namespace != null && !namespace.isEmpty()) {
            meta.put("namespace", namespace);
        }
        return new KubeObject(n);
    }

    /** A copy of the whole tree. */
    public ObjectNode node() {
        return node.deepCopy();
    }

    public String apiVersion() {
        return node.path("apiVersion").asText("");
    }

    public String kind() {
        return node.path("kind").asText("");
    }

    /** The served kind, if {@code apiVersion} and {@code kind} name one. */
    public Optional<ResourceKind> resourceKind() {
        return ResourceKind.of(apiVersion(), kind());
    }

    public String name() {
        return meta("name");
    }

    /** Empty for cluster-scoped objects and for manifests that leave it to the client's default. */
    public String namespace() {
        return meta("namespace");
    }

    public String uid() {
        return meta("uid");
    }

    public String resourceVersion() {
        return meta("resourceVersion");
    }

    public String creationTimestamp() {
        return meta("creationTimestamp");
    }

    /** {@code metadata.generation}, 0 when not set. */
    public long generation() {
        return node.path("metadata").path("generation").asLong(0);
    }

    public Map<String, String> labels() {
        return stringMap("labels");
    }

    public Map<String, String> annotations() {
        return stringMap("annotations");
    }

    /** A copy of {@code spec}, or a missing node when there is none. */
    public JsonNode spec() {
        return node.path("spec").deepCopy();
    }

    /** A copy of {@code status}, or a missing node when there is none. */
    public JsonNode status() {
        return node.path("status").deepCopy();
    }

    /**
     * A copy of the subtree at a JSON pointer such as {@code /spec/template/metadata/annotations}, or a
     * missing node; cheaper than copying all of {@code spec()} to read one field.
     */
    public JsonNode at(String jsonPointer) {
        return node.at(jsonPointer).deepCopy();
    }

    /** A copy of any top-level field (Secret's {@code data}, Endpoints' {@code subsets}). */
    public JsonNode field(String name) {
        return node.path(name).deepCopy();
    }

    public KubeObject withName(String name) {
        return withMeta(m -> m.put("name", name));
    }

    public KubeObject withNamespace(String namespace) {
        return withMeta(m -> {
            if (namespace == null || namespace.isEmpty()) {
                m.remove("namespace");
            } else {
                m.put("namespace", namespace);
            }
        });
    }

    public KubeObject withUid(String uid) {
        return withMeta(m -> m.put("uid", uid));
    }

    public KubeObject withResourceVersion(String resourceVersion) {
        return withMeta(m -> m.put("resourceVersion", resourceVersion));
    }

    public KubeObject withGeneration(long generation) {
        // an int when it fits, as a parser reads it back, so equality survives a round trip through JSON
        return withMeta(m -> {
            if (generation == (int) generation) {
                m.put("generation", (int) generation);
            } else {
                m.put("generation", generation);
            }
        });
    }

    public KubeObject withCreationTimestamp(String timestamp) {
        return withMeta(m -> m.put("creationTimestamp", timestamp));
    }

    public KubeObject withLabels(Map<String, String> labels) {
        return withMeta(m -> putMap(m, "labels", labels));
    }

    public KubeObject withAnnotations(Map<String, String> annotations) {
        return withMeta(m -> putMap(m, "annotations", annotations));
    }

    public KubeObject withAnnotation(String key, String value) {
        Map<String, String> a = new LinkedHashMap<>(annotations());
        a.put(key, value);
        return withAnnotations(a);
    }

    public KubeObject withSpec(JsonNode spec) {
        return withField("spec", spec);
    }

    public KubeObject withStatus(JsonNode status) {
        return withField("status", status);
    }

    /** Sets a top-level field; a null value removes it. */
    public KubeObject withField(String name, JsonNode value) {
        ObjectNode copy = node.deepCopy();
        if (value == null || value.isMissingNode()) {
            copy.remove(name);
        } else {
            copy.set(name, value.deepCopy());
        }
        return new KubeObject(copy);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KubeObject other && node.equals(NUMERIC_VALUE, other.node);
    }

    @Override
    public int hashCode() {
        return node.hashCode();
    }

    /** kubectl's reference form, e.g. {@code deployment.apps/sleep}. */
    @Override
    public String toString() {
        String kind = resourceKind().map(ResourceKind::qualifiedSingular).orElse(kind().toLowerCase(Locale.ROOT));
        return kind + "/" + name();
    }

    private String meta(String field) {
        JsonNode v = node.path("metadata").path(field);
        return v.isValueNode() && !v.isNull() ? v.asText() : "";
    }

    private Map<String, String> stringMap(String field) {
        JsonNode m = node.path("metadata").path(field);
        if (!m.isObject()) {
            return Map.of();
        }
        Map<String, String> out = new LinkedHashMap<>();
        m.properties().forEach(e -> out.put(e.getKey(), e.getValue().asText()));
        return Collections.unmodifiableMap(out);
    }

    private KubeObject withMeta(Consumer<ObjectNode> change) {
        ObjectNode copy = node.deepCopy();
        JsonNode meta = copy.get("metadata");
        ObjectNode m = meta instanceof ObjectNode o ? o : copy.putObject("metadata");
        change.accept(m);
        return new KubeObject(copy);
    }

    private static void putMap(ObjectNode meta, String field, Map<String, String> values) {
        if (values.isEmpty()) {
            meta.remove(field);
            return;
        }
        ObjectNode m = meta.putObject(field);
        values.forEach(m::put);
    }
}
