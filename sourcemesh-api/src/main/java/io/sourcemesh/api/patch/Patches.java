package io.sourcemesh.api.patch;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.sourcemesh.api.resource.FieldError;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.api.resource.UpdateStrategy;
import io.sourcemesh.api.resource.Validator;

import java.util.List;
import java.util.stream.Collectors;

/** {@code kubectl patch}: applies a patch of any type to an object and validates the result. */
public final class Patches {

    private static final ObjectMapper YAML = new YAMLMapper();

    private Patches() {
    }

    /** Parses the patch text (JSON, or YAML as kubectl also accepts) and applies it. */
    public static KubeObject apply(KubeObject object, PatchType type, String patch) {
        JsonNode parsed;
        try {
            parsed = YAML.readTree(patch);
        } catch (JsonProcessingException e) {
            throw new PatchException("unable to parse \"" + patch + "\": " + e.getOriginalMessage());
        }
        return apply(object, type, parsed);
    }

    /**
     * The patched object. Identity (kind, name, namespace) may not change, and the result must validate:
     * otherwise a {@link PatchException} in the API server's words.
     */
    public static KubeObject apply(KubeObject object, PatchType type, JsonNode patch) {
        KubeObject patched = unvalidated(object, type, patch);
        ResourceKind kind = patched.resourceKind().orElseThrow();
        List<FieldError> errors = Validator.validate(patched);
        if (!errors.isEmpty()) {
            String all = errors.stream().map(FieldError::message).collect(Collectors.joining(", "));
            throw new PatchException("The " + kind.kind() + " \"" + object.name() + "\" is invalid: "
                    + (errors.size() == 1 ? all : "[" + all + "]"));
        }
        return patched;
    }

    /**
     * The patched object, its identity checked but not yet validated: the API server drops unknown fields
     * (fieldValidation Warn or Ignore) before it validates.
     */
    public static KubeObject unvalidated(KubeObject object, PatchType type, JsonNode patch) {
        ResourceKind kind = object.resourceKind()
                .orElseThrow(() -> new PatchException("no matches for kind \"" + object.kind() + "\" in version \"" + object.apiVersion() + "\""));
        JsonNode result = switch (type) {
            case STRATEGIC -> {
                if (!kind.builtIn()) {
                    throw new PatchException("the body of the request was in an unknown format - accepted media types include: "
                            + "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml");
                }
                yield StrategicMergePatch.apply(object.node(), patch, kind);
            }
            case MERGE -> JsonMergePatch.apply(object.node(), patch);
            case JSON -> JsonPatch.apply(object.node(), patch);
        };
        if (!(result instanceof ObjectNode o)) {
            throw new PatchException("the patched " + kind.kind() + " \"" + object.name() + "\" is not an object");
        }
        KubeObject patched = UpdateStrategy.prepare(KubeObject.of(o));
        if (!patched.kind().equals(object.kind()) || !patched.name().equals(object.name())
                || !patched.namespace().equals(object.namespace())) {
            throw new PatchException("The " + kind.kind() + " \"" + object.name() + "\" is invalid: "
                    + "metadata: Invalid value: kind, name and namespace cannot be changed by a patch");
        }
        return patched;
    }
}
