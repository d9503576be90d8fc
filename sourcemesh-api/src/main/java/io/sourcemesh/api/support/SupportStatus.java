package io.sourcemesh.api.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import java.util.List;

/**
 * The status an Istio object carries for its warned fields, in Istio's shape: one
 * {@code status.validationMessages} entry per field path SourceMesh does not implement, beside
 * whatever else its controllers write there. Kept in step with the spec on every write, so a status
 * writer never has to know about it.
 */
public final class SupportStatus {
    /** The validation message type of a warned field. */
    public static final String TYPE = "FieldNotImplemented";

    private SupportStatus() {}

    /** The object with its warned-field messages brought up to date; the same object when nothing changes. */
    public static KubeObject withMessages(KubeObject object) {
        if (!object.resourceKind().map(SupportStatus::istio).orElse(false)) {
            return object; // Kubernetes' own kinds have no validationMessages: apply's warnings say it
        }
        List<String> warned = SupportCheck.check(object.node()).warned();
        JsonNode old = object.status();
        ObjectNode status = old != null && old.isObject() ? ((ObjectNode) old).deepCopy() : JsonNodeFactory.instance.objectNode();
        ArrayNode messages = JsonNodeFactory.instance.arrayNode();
        status.path("validationMessages").forEach(m -> {
            if (!TYPE.equals(m.path("type").asText())) {
                messages.add(m);
            }
        });
        for (String w : warned) {
            messages.addObject().put("level", "WARNING").put("type", TYPE).put("description", w);
        }
        if (messages.isEmpty()) {
            status.remove("validationMessages");
        } else {
            status.set("validationMessages", messages);
        }
        if (status.equals(old) || (status.isEmpty() && (old == null || old.isMissingNode() || old.isNull()))) {
            return object;
        }
        return object.withStatus(status);
    }

    private static boolean istio(ResourceKind kind) {
        return kind.group().endsWith("istio.io");
    }
}
