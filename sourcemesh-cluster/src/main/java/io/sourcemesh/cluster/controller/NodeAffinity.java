package io.sourcemesh.cluster.controller;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;

/**
 * Whether a node is one a pod may run on by its {@code nodeSelector} and its required node affinity, as
 * Kubernetes' scheduler matches them (component-helpers nodeaffinity.GetRequiredNodeAffinity): every
 * nodeSelector label equal, and one of the node selector terms whose every requirement holds. A term
 * with no requirement, or one that cannot be read (a Gt/Lt value that is no integer), matches nothing.
 */
public final class NodeAffinity {
    private NodeAffinity() {}

    /** Whether the pod of {@code podSpec} may run on the node named {@code node} with {@code labels}. */
    public static boolean matches(JsonNode podSpec, String node, Map<String, String> labels) {
        for (Map.Entry<String, JsonNode> e : podSpec.path("nodeSelector").properties()) {
            if (!e.getValue().asText().equals(labels.get(e.getKey()))) {
                return false;
            }
        }
        JsonNode required = podSpec.path("affinity").path("nodeAffinity").path("requiredDuringSchedulingIgnoredDuringExecution");
        if (!required.isObject()) {
            return true;
        }
        for (JsonNode term : required.path("nodeSelectorTerms")) {
            if (term(term, node, labels)) {
                return true;
            }
        }
        return false;
    }

    /** One node selector term: all of its matchExpressions (labels) and matchFields (metadata.name); none matches nothing. */
    static boolean term(JsonNode term, String node, Map<String, String> labels) {
        JsonNode expressions = term.path("matchExpressions");
        JsonNode fields = term.path("matchFields");
        if (expressions.isEmpty() && fields.isEmpty()) {
            return false;
        }
        for (JsonNode r : expressions) {
            String key = r.path("key").asText("");
            if (!requirement(r, labels.containsKey(key), labels.get(key))) {
                return false;
            }
        }
        for (JsonNode r : fields) {
            String op = r.path("operator").asText("");
            if (!r.path("key").asText("").equals("metadata.name") || !(op.equals("In") || op.equals("NotIn"))
                    || !requirement(r, true, node)) {
                return false;
            }
        }
        return true;
    }

    /** One requirement against a label the node has ({@code has}) with {@code value}. */
    static boolean requirement(JsonNode r, boolean has, String value) {
        JsonNode values = r.path("values");
        return switch (r.path("operator").asText("")) {
            case "In" -> has && contains(values, value);
            case "NotIn" -> !has || !contains(values, value);
            case "Exists" -> has;
            case "DoesNotExist" -> !has;
            case "Gt", "Lt" -> {
                if (!has || values.size() != 1) {
                    yield false;
                }
                try {
                    long label = Long.parseLong(value);
                    long bound = Long.parseLong(values.get(0).asText());
                    yield r.path("operator").asText().equals("Gt") ? label > bound : label < bound;
                } catch (NumberFormatException e) {
                    yield false; // not an integer: the requirement holds for no node
                }
            }
            default -> false;
        };
    }

    private static boolean contains(JsonNode values, String value) {
        for (JsonNode v : values) {
            if (v.asText().equals(value)) {
                return true;
            }
        }
        return false;
    }
}
