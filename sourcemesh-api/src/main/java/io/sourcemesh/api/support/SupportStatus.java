package io.sourcemesh.api.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.FieldError;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;

/**
 * The status an Istio object carries for what its spec says about itself, in Istio's shape: beside whatever
 * else its controllers write there, one {@code status.validationMessages} entry per
 * <ul>
 * <li>field path SourceMesh does not implement ({@value #TYPE}, WARNING);</li>
 * <li>warning of Istio's own validation, the ones istiod's webhook returns ({@value #ISTIO_WARNING_TYPE},
 * WARNING: the name istioctl analyze reports them under, IST0133, pkg/config/analysis/msg/messages.yaml), so a
 * reader tells "SourceMesh ignores this" from "Istio warns about this";</li>
 * <li>error of the validation, which only an object stored before a rule tightened can have
 * ({@value #INVALID_TYPE}, ERROR: IST0106; {@link InvalidObjects}).</li>
 * </ul>
 * Kept in step with the spec on every write, so a status writer never has to know about it.
 */
public final class SupportStatus {
    /** The validation message type of a warned field. */
    public static final String TYPE = "FieldNotImplemented";
    /** The validation message type of an Istio validation warning. */
    public static final String ISTIO_WARNING_TYPE = "SchemaWarning";
    /** The validation message type of a validation error. */
    public static final String INVALID_TYPE = "SchemaValidationError";

    private static final Set<String> OURS = Set.of(TYPE, ISTIO_WARNING_TYPE, INVALID_TYPE);

    private SupportStatus() {}

    /** The object with its spec's messages brought up to date; the same object when nothing changes. */
    public static KubeObject withMessages(KubeObject object) {
        return withMessages(object, InvalidObjects.errors(object));
    }

    /**
     * As {@link #withMessages(KubeObject)}, given {@code errors}: {@link InvalidObjects#errors} of this object, which
     * a caller that has validated it already hands over rather than have it validated a second time.
     */
    public static KubeObject withMessages(KubeObject object, List<FieldError> errors) {
        ResourceKind kind = object.resourceKind().orElse(null);
        if (kind == null || !InvalidObjects.istio(kind)) {
            return object; // Kubernetes' own kinds have no validationMessages: apply's warnings say it
        }
        SupportCheck.Findings findings = SupportCheck.check(object.node());
        ArrayNode messages = JsonNodeFactory.instance.arrayNode();
        for (FieldError e : errors) {
            messages.addObject().put("level", "ERROR").put("type", INVALID_TYPE)
                    .put("description", e.message() + "; " + InvalidObjects.consequence(kind));
        }
        for (String w : findings.notImplemented()) {
            messages.addObject().put("level", "WARNING").put("type", TYPE).put("description", w);
        }
        for (String w : findings.validationWarnings()) {
            messages.addObject().put("level", "WARNING").put("type", ISTIO_WARNING_TYPE).put("description", w);
        }
        return withMessages(object, OURS, messages);
    }

    /**
     * {@code object} with its {@code status.validationMessages} of {@code types} (one writer's) replaced by
     * {@code messages}, the other writers' kept before them; the same object when nothing changes, in content or only
     * in order (two writers that each put theirs last would otherwise rewrite the same messages in turn).
     */
    public static KubeObject withMessages(KubeObject object, Set<String> types, ArrayNode messages) {
        JsonNode old = object.status();
        ObjectNode status = old != null && old.isObject() ? ((ObjectNode) old).deepCopy() : JsonNodeFactory.instance.objectNode();
        ArrayNode all = JsonNodeFactory.instance.arrayNode();
        status.path("validationMessages").forEach(m -> {
            if (!types.contains(m.path("type").asText())) {
                all.add(m);
            }
        });
        all.addAll(messages);
        if (all.isEmpty()) {
            status.remove("validationMessages");
        } else {
            status.set("validationMessages", all);
        }
        if (status.equals(old) || (status.isEmpty() && (old == null || old.isMissingNode() || old.isNull()))
                || old instanceof ObjectNode o && sorted(o).equals(sorted(status))) {
            return object;
        }
        return object.withStatus(status);
    }

    /** {@code status} with its validationMessages in one order (a copy). */
    private static ObjectNode sorted(ObjectNode status) {
        List<JsonNode> messages = new ArrayList<>();
        status.path("validationMessages").forEach(messages::add);
        messages.sort(Comparator.comparing(JsonNode::toString));
        ObjectNode copy = status.deepCopy();
        copy.putArray("validationMessages").addAll(messages);
        return copy;
    }
}
