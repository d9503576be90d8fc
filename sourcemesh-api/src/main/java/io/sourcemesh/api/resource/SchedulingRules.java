package io.sourcemesh.api.resource;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The API server's rules for what the scheduler reads, in its words (pkg/apis/core/validation: ValidateTolerations,
 * validateNodeTaints, ValidateNodeSelector for required node affinity): a toleration's operator, value and effect, a
 * Node's taints (unique by key and effect), a node selector term's requirements.
 */
final class SchedulingRules {
    static final List<String> EFFECTS = List.of("NoSchedule", "PreferNoSchedule", "NoExecute");
    private static final String LABEL_KEY = "a valid label key must be a qualified name (at most 63 characters of alphanumerics, "
            + "'-', '_' or '.', starting and ending with an alphanumeric), optionally prefixed by a DNS subdomain and '/'";
    private static final String LABEL_VALUE = "a valid label value must be empty or at most 63 characters of alphanumerics, "
            + "'-', '_' or '.', starting and ending with an alphanumeric";

    private SchedulingRules() {}

    static void checkPod(JsonNode spec, String path, List<FieldError> errors) {
        JsonNode tolerations = spec.path("tolerations");
        for (int i = 0; i < tolerations.size(); i++) {
            toleration(tolerations.get(i), path + ".tolerations[" + i + "]", errors);
        }
        JsonNode required = spec.path("affinity").path("nodeAffinity").path("requiredDuringSchedulingIgnoredDuringExecution");
        if (required.isObject()) {
            nodeSelector(required, path + ".affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution", errors);
        }
    }

    static void checkNode(JsonNode spec, List<FieldError> errors) {
        JsonNode taints = spec.path("taints");
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < taints.size(); i++) {
            JsonNode t = taints.get(i);
            String at = "spec.taints[" + i + "]";
            String key = t.path("key").asText("");
            if (!WorkloadEntryRules.labelKey(key)) {
                errors.add(invalid(at + ".key", key, LABEL_KEY));
            }
            String value = t.path("value").asText("");
            if (!WorkloadEntryRules.labelValue(value)) {
                errors.add(invalid(at + ".value", value, LABEL_VALUE));
            }
            String effect = t.path("effect").asText("");
            if (effect.isEmpty()) {
                errors.add(new FieldError(at + ".effect", at + ".effect: Required value"));
            } else if (!EFFECTS.contains(effect)) {
                errors.add(unsupported(at + ".effect", effect, EFFECTS));
            } else if (!seen.add(key + "\u0000" + effect)) {
                errors.add(new FieldError(at, at + ": Duplicate value: {\"key\":\"" + key + "\",\"effect\":\"" + effect
                        + "\"}: taints must be unique by key and effect pair"));
            }
        }
    }

    private static void toleration(JsonNode t, String at, List<FieldError> errors) {
        String key = t.path("key").asText("");
        String operator = t.path("operator").asText("");
        String value = t.path("value").asText("");
        String effect = t.path("effect").asText("");
        if (!key.isEmpty() && !WorkloadEntryRules.labelKey(key)) {
            errors.add(invalid(at + ".key", key, LABEL_KEY));
        }
        if (key.isEmpty() && !operator.equals("Exists")) {
            errors.add(invalid(at + ".operator", operator,
                    "operator must be Exists when `key` is empty, which means \"match all values and all keys\""));
        }
        if (t.hasNonNull("tolerationSeconds") && !effect.equals("NoExecute")) {
            errors.add(invalid(at + ".effect", effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"));
        }
        switch (operator) {
            case "", "Equal" -> {
                if (!WorkloadEntryRules.labelValue(value)) {
                    errors.add(invalid(at + ".operator", value, LABEL_VALUE));
                }
            }
            case "Exists" -> {
                if (!value.isEmpty()) {
                    errors.add(invalid(at + ".operator", value, "value must be empty when `operator` is 'Exists'"));
                }
            }
            default -> errors.add(unsupported(at + ".operator", operator, List.of("Equal", "Exists")));
        }
        if (!effect.isEmpty() && !EFFECTS.contains(effect)) {
            errors.add(unsupported(at + ".effect", effect, EFFECTS));
        }
    }

    private static void nodeSelector(JsonNode selector, String path, List<FieldError> errors) {
        String termsAt = path + ".nodeSelectorTerms";
        JsonNode terms = selector.path("nodeSelectorTerms");
        if (terms.isEmpty()) {
            errors.add(new FieldError(termsAt, termsAt + ": Required value: must have at least one node selector term"));
            return;
        }
        for (int i = 0; i < terms.size(); i++) {
            String at = termsAt + "[" + i + "]";
            JsonNode expressions = terms.get(i).path("matchExpressions");
            for (int j = 0; j < expressions.size(); j++) {
                expression(expressions.get(j), at + ".matchExpressions[" + j + "]", errors);
            }
            JsonNode fields = terms.get(i).path("matchFields");
            for (int j = 0; j < fields.size(); j++) {
                field(fields.get(j), at + ".matchFields[" + j + "]", errors);
            }
        }
    }

    private static void expression(JsonNode r, String at, List<FieldError> errors) {
        String operator = r.path("operator").asText("");
        int values = r.path("values").size();
        switch (operator) {
            case "In", "NotIn" -> {
                if (values == 0) {
                    errors.add(required(at + ".values", "must be specified when `operator` is 'In' or 'NotIn'"));
                }
            }
            case "Exists", "DoesNotExist" -> {
                if (values > 0) {
                    errors.add(new FieldError(at + ".values", at + ".values: Forbidden: may not be specified when `operator` is "
                            + "'Exists' or 'DoesNotExist'"));
                }
            }
            case "Gt", "Lt" -> {
                if (values != 1) {
                    errors.add(required(at + ".values", "must be specified single value when `operator` is 'Lt' or 'Gt'"));
                }
            }
            default -> errors.add(invalid(at + ".operator", operator, "not a valid selector operator"));
        }
        String key = r.path("key").asText("");
        if (!WorkloadEntryRules.labelKey(key)) {
            errors.add(invalid(at + ".key", key, LABEL_KEY));
        }
    }

    private static void field(JsonNode r, String at, List<FieldError> errors) {
        String operator = r.path("operator").asText("");
        if (operator.equals("In") || operator.equals("NotIn")) {
            if (r.path("values").size() != 1) {
                errors.add(required(at + ".values", "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"));
            }
        } else {
            errors.add(invalid(at + ".operator", operator, "not a valid selector operator"));
        }
        String key = r.path("key").asText("");
        if (!key.equals("metadata.name")) {
            errors.add(invalid(at + ".key", key, "not a valid field selector key"));
        }
    }

    private static FieldError invalid(String path, String value, String detail) {
        return new FieldError(path, path + ": Invalid value: \"" + value + "\": " + detail);
    }

    private static FieldError required(String path, String detail) {
        return new FieldError(path, path + ": Required value: " + detail);
    }

    private static FieldError unsupported(String path, String value, List<String> supported) {
        return new FieldError(path, path + ": Unsupported value: \"" + value + "\": supported values: \""
                + String.join("\", \"", supported) + "\"");
    }
}
