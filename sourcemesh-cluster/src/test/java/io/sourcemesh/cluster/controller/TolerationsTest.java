package io.sourcemesh.cluster.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Kubernetes' toleration matching (core/v1 Toleration.ToleratesTaint and the taint eviction controller), edge by edge. */
class TolerationsTest {
    private static final ObjectMapper YAML = new YAMLMapper();

    private static JsonNode yaml(String s) throws Exception {
        return YAML.readTree(s);
    }

    private static boolean tolerates(String toleration, String taint) throws Exception {
        return Tolerations.tolerates(yaml(toleration), yaml(taint));
    }

    @Test
    void equalNeedsKeyValueAndEffect() throws Exception {
        String taint = "{key: dedicated, value: gpu, effect: NoSchedule}";
        assertTrue(tolerates("{key: dedicated, operator: Equal, value: gpu, effect: NoSchedule}", taint));
        assertTrue(tolerates("{key: dedicated, value: gpu, effect: NoSchedule}", taint), "Equal is the default operator");
        assertFalse(tolerates("{key: dedicated, value: cpu, effect: NoSchedule}", taint), "another value");
        assertFalse(tolerates("{key: dedicated, effect: NoSchedule}", taint), "Equal with no value matches only an empty value");
        assertTrue(tolerates("{key: dedicated, effect: NoSchedule}", "{key: dedicated, effect: NoSchedule}"));
        assertFalse(tolerates("{key: other, value: gpu, effect: NoSchedule}", taint), "another key");
        assertFalse(tolerates("{key: dedicated, value: gpu, effect: NoExecute}", taint), "another effect");
        assertTrue(tolerates("{key: dedicated, value: gpu}", taint), "an empty effect matches every effect");
        assertFalse(tolerates("{key: dedicated, operator: In, value: gpu}", taint), "an unknown operator tolerates nothing");
    }

    @Test
    void existsMatchesAnyValueAndAnEmptyKeyEveryTaint() throws Exception {
        String taint = "{key: dedicated, value: gpu, effect: NoExecute}";
        assertTrue(tolerates("{key: dedicated, operator: Exists}", taint));
        assertTrue(tolerates("{key: dedicated, operator: Exists, effect: NoExecute}", taint));
        assertFalse(tolerates("{key: dedicated, operator: Exists, effect: NoSchedule}", taint));
        assertTrue(tolerates("{operator: Exists}", taint), "an empty key with Exists tolerates everything");
        assertTrue(tolerates("{operator: Exists}", "{key: node.kubernetes.io/unschedulable, effect: NoSchedule}"));
        assertFalse(tolerates("{operator: Exists, effect: NoSchedule}", taint), "… of its effect only");
    }

    @Test
    void theUnschedulableTaintAndTheFiltersEffects() throws Exception {
        assertTrue(Tolerations.of(yaml("{tolerations: [{key: node.kubernetes.io/unschedulable, operator: Exists, effect: NoSchedule}]}"))
                .tolerateUnschedulable());
        assertTrue(Tolerations.of(yaml("{tolerations: [{operator: Exists}]}")).tolerateUnschedulable());
        assertFalse(Tolerations.of(yaml("{tolerations: [{key: node.kubernetes.io/unschedulable, operator: Exists, effect: NoExecute}]}"))
                .tolerateUnschedulable());
        assertFalse(Tolerations.of(yaml("{}")).tolerateUnschedulable());

        JsonNode taints = yaml("[{key: a, effect: PreferNoSchedule}, {key: b, effect: PreferNoSchedule}, {key: c, value: x, effect: NoSchedule}]");
        Tolerations none = Tolerations.of(yaml("{}"));
        assertEquals("c", none.untoleratedNoSchedule(taints).orElseThrow().path("key").asText(), "PreferNoSchedule does not filter");
        assertEquals(2, none.untoleratedPreferNoSchedule(taints));
        Tolerations some = Tolerations.of(yaml("{tolerations: [{key: a, operator: Exists}, {key: c, value: x}]}"));
        assertEquals(Optional.empty(), some.untoleratedNoSchedule(taints));
        assertEquals(1, some.untoleratedPreferNoSchedule(taints));
    }

    @Test
    void noExecuteGraceIsTheShortestOfTheFirstMatchingTolerations() throws Exception {
        JsonNode taints = yaml("[{key: a, effect: NoExecute}, {key: b, effect: NoExecute}, {key: c, effect: NoSchedule}]");
        assertEquals(Optional.of(Duration.ZERO), Tolerations.of(yaml("{tolerations: [{key: a, operator: Exists}]}")).noExecuteGrace(taints),
                "b is not tolerated: evicted at once");
        assertEquals(Optional.empty(), Tolerations.of(yaml("{tolerations: [{operator: Exists}]}")).noExecuteGrace(taints),
                "tolerated for good");
        assertEquals(Optional.of(Duration.ofSeconds(30)), Tolerations.of(yaml("""
                {tolerations: [{key: a, operator: Exists, effect: NoExecute, tolerationSeconds: 30},
                               {key: b, operator: Exists, effect: NoExecute, tolerationSeconds: 60}]}
                """)).noExecuteGrace(taints));
        assertEquals(Optional.of(Duration.ofSeconds(5)), Tolerations.of(yaml("""
                {tolerations: [{operator: Exists, effect: NoExecute, tolerationSeconds: 5}, {key: a, operator: Exists}]}
                """)).noExecuteGrace(taints), "the first toleration that matches a taint counts, not the most lenient");
        assertEquals(Optional.of(Duration.ZERO), Tolerations.of(yaml("""
                {tolerations: [{operator: Exists, effect: NoExecute, tolerationSeconds: -1}]}
                """)).noExecuteGrace(taints), "zero or less: evicted at once");
        assertEquals(Optional.empty(), Tolerations.of(yaml("{}")).noExecuteGrace(yaml("[{key: c, effect: NoSchedule}]")));
    }
}
