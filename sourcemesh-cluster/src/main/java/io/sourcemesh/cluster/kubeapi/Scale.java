package io.sourcemesh.cluster.kubeapi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.FieldError;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code scale} subresource ({@code kubectl scale}, autoscalers): a workload seen as an autoscaling/v1
 * {@code Scale} — its desired replicas in {@code spec}, the replicas it has and its selector (as a
 * label-selector string) in {@code status}. Writing one changes only the workload's {@code spec.replicas}.
 */
final class Scale {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    static final String API_VERSION = "autoscaling/v1";

    private Scale() {
    }

    /** Whether the kind has a scale subresource (as kube: Deployments and ReplicaSets). */
    static boolean scalable(ResourceKind kind) {
        return kind.equals(ResourceKind.DEPLOYMENT) || kind.equals(ResourceKind.REPLICA_SET);
    }

    /** The Scale of a workload. */
    static ObjectNode of(KubeObject o) {
        ObjectNode s = F.objectNode();
        s.put("kind", "Scale").put("apiVersion", API_VERSION);
        ObjectNode meta = s.putObject("metadata").put("name", o.name()).put("namespace", o.namespace()).put("uid", o.uid())
                .put("resourceVersion", o.resourceVersion());
        if (!o.creationTimestamp().isEmpty()) {
            meta.put("creationTimestamp", o.creationTimestamp());
        }
        s.putObject("spec").put("replicas", o.spec().path("replicas").asInt(1));
        s.putObject("status").put("replicas", o.status().path("replicas").asInt(0))
                .put("selector", selector(o.spec().path("selector")));
        return s;
    }

    /**
     * The workload with the replicas {@code scale} asks for. A Scale naming a resourceVersion must name the
     * workload's current one (409 otherwise, as for any update with a precondition).
     */
    static KubeObject apply(KubeObject live, JsonNode scale) {
        if (!scale.isObject()) {
            throw ApiException.badRequest("the request body is not an object");
        }
        String kind = scale.path("kind").asText("Scale");
        String apiVersion = scale.path("apiVersion").asText(API_VERSION);
        if (!kind.equals("Scale") || !apiVersion.equals(API_VERSION)) {
            throw ApiException.badRequest("the scale subresource reads an " + API_VERSION + " Scale, not " + apiVersion + " " + kind);
        }
        String name = scale.path("metadata").path("name").asText(live.name());
        if (!name.equals(live.name())) {
            throw ApiException.badRequest("the name of the object (" + name + ") does not match the name on the URL (" + live.name() + ")");
        }
        String rv = scale.path("metadata").path("resourceVersion").asText("");
        if (!rv.isEmpty() && !rv.equals(live.resourceVersion())) {
            throw new ApiException(409, "Conflict", "Operation cannot be fulfilled on " + live.resourceKind().orElseThrow().qualifiedPlural()
                    + " \"" + live.name() + "\": the object has been modified; please apply your changes to the latest version and try again");
        }
        JsonNode replicas = scale.path("spec").path("replicas");
        if (replicas.isMissingNode() || replicas.isNull()) {
            replicas = F.numberNode(0); // Go decodes an absent replicas as 0, and kube scales to it
        }
        if (!replicas.canConvertToInt() || !replicas.isIntegralNumber() || replicas.asInt() < 0) {
            String why = "Invalid value: " + replicas + ": must be greater than or equal to 0";
            throw new ApiException(422, "Invalid", "Scale.autoscaling \"" + live.name() + "\" is invalid: spec.replicas: " + why, "Scale",
                    live.name(), List.of(new FieldError("spec.replicas", "spec.replicas: " + why)));
        }
        ObjectNode spec = live.spec().isObject() ? ((ObjectNode) live.spec()).deepCopy() : F.objectNode();
        spec.put("replicas", replicas.asInt());
        return live.withSpec(spec);
    }

    /** A label selector as the string kube writes ({@code app=web,tier in (a,b)}). */
    static String selector(JsonNode selector) {
        List<String> parts = new ArrayList<>();
        selector.path("matchLabels").properties().forEach(e -> parts.add(e.getKey() + "=" + e.getValue().asText()));
        for (JsonNode e : selector.path("matchExpressions")) {
            String key = e.path("key").asText();
            List<String> values = new ArrayList<>();
            e.path("values").forEach(v -> values.add(v.asText()));
            parts.add(switch (e.path("operator").asText()) {
                case "In" -> key + " in (" + String.join(",", values) + ")";
                case "NotIn" -> key + " notin (" + String.join(",", values) + ")";
                case "Exists" -> key;
                default -> "!" + key;
            });
        }
        return String.join(",", parts);
    }
}
