package io.sourcemesh.cluster.controller;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.Optional;

/**
 * A pod's tolerations against a node's taints, as Kubernetes matches them (k8s.io/api core/v1
 * Toleration.ToleratesTaint): an empty effect matches every effect, an empty key (with Exists) every
 * key, Exists any value and Equal (the default) the taint's value only.
 */
public final class Tolerations {
    /** The taint kubectl cordon stands for: the scheduler's NodeUnschedulable filter lets a pod that tolerates it through. */
    static final String UNSCHEDULABLE = "node.kubernetes.io/unschedulable";

    private final JsonNode list;

    private Tolerations(JsonNode list) {
        this.list = list;
    }

    /** The tolerations of a pod's spec. */
    public static Tolerations of(JsonNode podSpec) {
        return new Tolerations(podSpec.path("tolerations"));
    }

    /** Whether one toleration tolerates one taint. */
    public static boolean tolerates(JsonNode toleration, JsonNode taint) {
        String effect = toleration.path("effect").asText("");
        if (!effect.isEmpty() && !effect.equals(taint.path("effect").asText(""))) {
            return false;
        }
        String key = toleration.path("key").asText("");
        if (!key.isEmpty() && !key.equals(taint.path("key").asText(""))) {
            return false;
        }
        return switch (toleration.path("operator").asText("")) {
            case "", "Equal" -> toleration.path("value").asText("").equals(taint.path("value").asText(""));
            case "Exists" -> true;
            default -> false;
        };
    }

    /** Whether any of the pod's tolerations tolerates {@code taint}. */
    public boolean tolerate(JsonNode taint) {
        for (JsonNode t : list) {
            if (tolerates(t, taint)) {
                return true;
            }
        }
        return false;
    }

    /** Whether the pod tolerates a cordoned node (the taint {@code node.kubernetes.io/unschedulable:NoSchedule}). */
    public boolean tolerateUnschedulable() {
        return tolerate(com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode()
                .put("key", UNSCHEDULABLE).put("effect", "NoSchedule"));
    }

    /** The first of {@code taints} with an effect that keeps a pod off the node (NoSchedule, NoExecute) the pod does not tolerate. */
    public Optional<JsonNode> untoleratedNoSchedule(JsonNode taints) {
        for (JsonNode taint : taints) {
            String effect = taint.path("effect").asText("");
            if ((effect.equals("NoSchedule") || effect.equals("NoExecute")) && !tolerate(taint)) {
                return Optional.of(taint);
            }
        }
        return Optional.empty();
    }

    /** How many PreferNoSchedule taints the pod does not tolerate: the scheduler prefers the node with fewest. */
    public int untoleratedPreferNoSchedule(JsonNode taints) {
        int n = 0;
        for (JsonNode taint : taints) {
            if (taint.path("effect").asText("").equals("PreferNoSchedule") && !tolerate(taint)) {
                n++;
            }
        }
        return n;
    }

    /**
     * How long a pod may stay on a node with these taints, as the taint eviction controller reckons it
     * (GetMatchingTolerations, getMinTolerationTime): empty when no NoExecute taint applies or every one is tolerated
     * for good; zero when one is not tolerated; else the shortest tolerationSeconds among the first toleration that
     * tolerates each NoExecute taint (one without seconds tolerates for good, zero or less not at all).
     */
    public Optional<Duration> noExecuteGrace(JsonNode taints) {
        long min = Long.MAX_VALUE;
        for (JsonNode taint : taints) {
            if (!taint.path("effect").asText("").equals("NoExecute")) {
                continue;
            }
            JsonNode used = null;
            for (JsonNode t : list) {
                if (tolerates(t, taint)) {
                    used = t;
                    break;
                }
            }
            if (used == null) {
                return Optional.of(Duration.ZERO);
            }
            if (used.hasNonNull("tolerationSeconds")) {
                min = Math.min(min, Math.max(0, used.path("tolerationSeconds").asLong()));
            }
        }
        return min == Long.MAX_VALUE ? Optional.empty() : Optional.of(Duration.ofSeconds(min));
    }
}
