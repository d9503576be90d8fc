package io.sourcemesh.api.patch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.api.resource.UpdateStrategy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * kubectl's client-side apply: the manifest is stored with itself in the last-applied annotation,
 * and a re-apply is a three-way merge of that annotation, the new manifest and the live object.
 * One place for the store's batch apply and the CLI's apply over the Kubernetes API.
 */
public final class ClientSideApply {
    public static final String LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";
    private static final ObjectMapper JSON = new ObjectMapper();

    private ClientSideApply() {}

    /** The manifest as apply writes it: with its own compact JSON (without the annotation) in the annotation. */
    public static KubeObject annotated(KubeObject manifest) {
        ObjectNode lastApplied = manifest.node();
        lastApplied.withObjectProperty("metadata").withObjectProperty("annotations").remove(LAST_APPLIED);
        return manifest.withAnnotation(LAST_APPLIED, compact(lastApplied));
    }

    /** What apply makes of {@code live} for the {@link #annotated} manifest: the merge, keeping live's uid, creation and status. */
    public static KubeObject merged(KubeObject annotated, KubeObject live, ResourceKind kind) {
        JsonNode previous = parse(live.annotations().get(LAST_APPLIED));
        JsonNode merged = ThreeWayMerge.apply(previous, annotated.node(), live.node(), kind);
        return UpdateStrategy.prepare(KubeObject.of((ObjectNode) merged)
                .withUid(live.uid()).withCreationTimestamp(live.creationTimestamp()).withStatus(live.status()));
    }

    // kubectl stores the configuration as compact JSON with sorted keys and a trailing newline.
    private static String compact(JsonNode node) {
        try {
            return JSON.writeValueAsString(sortValue(JSON.convertValue(node, Object.class))) + "\n";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Object sortValue(Object v) {
        if (v instanceof Map<?, ?> m) {
            TreeMap<String, Object> sorted = new TreeMap<>();
            m.forEach((k, value) -> sorted.put((String) k, sortValue(value)));
            return sorted;
        }
        if (v instanceof List<?> l) {
            return l.stream().map(ClientSideApply::sortValue).toList();
        }
        return v;
    }

    private static JsonNode parse(String json) {
        if (json == null) {
            return null;
        }
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            return null; // a hand-edited annotation: fall back to a two-way merge
        }
    }
}
