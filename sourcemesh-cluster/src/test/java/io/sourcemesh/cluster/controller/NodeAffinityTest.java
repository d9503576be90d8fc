package io.sourcemesh.cluster.controller;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** nodeSelector and required node affinity as kube-scheduler's NodeAffinity filter reads them, edge by edge. */
class NodeAffinityTest {
    private static final Map<String, String> LABELS = Map.of("kubernetes.io/hostname", "node-1", "disktype", "ssd", "cores", "8",
            "empty", "");

    private static boolean matches(String podSpec) throws Exception {
        return NodeAffinity.matches(new YAMLMapper().readTree(podSpec), "node-1", LABELS);
    }

    private static String required(String... terms) {
        return "{affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: ["
                + String.join(", ", terms) + "]}}}}";
    }

    @Test
    void nodeSelectorNeedsEveryLabel() throws Exception {
        assertTrue(matches("{}"));
        assertTrue(matches("{nodeSelector: {}}"));
        assertTrue(matches("{nodeSelector: {disktype: ssd, kubernetes.io/hostname: node-1}}"));
        assertFalse(matches("{nodeSelector: {disktype: ssd, zone: a}}"), "a label the node lacks");
        assertFalse(matches("{nodeSelector: {disktype: hdd}}"));
        assertTrue(matches("{nodeSelector: {empty: \"\"}}"));
        assertFalse(matches("{nodeSelector: {absent: \"\"}}"), "an empty value still needs the label");
    }

    @Test
    void expressions() throws Exception {
        assertTrue(matches(required("{matchExpressions: [{key: disktype, operator: In, values: [hdd, ssd]}]}")));
        assertFalse(matches(required("{matchExpressions: [{key: zone, operator: In, values: [a]}]}")));
        assertTrue(matches(required("{matchExpressions: [{key: zone, operator: NotIn, values: [a]}]}")), "NotIn: an absent label");
        assertFalse(matches(required("{matchExpressions: [{key: disktype, operator: NotIn, values: [ssd]}]}")));
        assertTrue(matches(required("{matchExpressions: [{key: empty, operator: Exists}]}")));
        assertFalse(matches(required("{matchExpressions: [{key: zone, operator: Exists}]}")));
        assertTrue(matches(required("{matchExpressions: [{key: zone, operator: DoesNotExist}]}")));
        assertFalse(matches(required("{matchExpressions: [{key: disktype, operator: DoesNotExist}]}")));
        assertTrue(matches(required("{matchExpressions: [{key: cores, operator: Gt, values: [\"4\"]}]}")));
        assertFalse(matches(required("{matchExpressions: [{key: cores, operator: Gt, values: [\"8\"]}]}")), "Gt is strict");
        assertTrue(matches(required("{matchExpressions: [{key: cores, operator: Lt, values: [\"16\"]}]}")));
        assertFalse(matches(required("{matchExpressions: [{key: disktype, operator: Lt, values: [\"16\"]}]}")), "not an integer label");
        assertFalse(matches(required("{matchExpressions: [{key: cores, operator: Gt, values: [four]}]}")), "not an integer bound");
        assertFalse(matches(required("{matchExpressions: [{key: zone, operator: Lt, values: [\"16\"]}]}")), "an absent label");
        assertFalse(matches(required("{matchExpressions: [{key: disktype, operator: In, values: [ssd]}, "
                + "{key: zone, operator: Exists}]}")), "every expression of a term");
    }

    @Test
    void termsAreAlternativesAndAnEmptyTermMatchesNothing() throws Exception {
        assertTrue(matches(required("{matchExpressions: [{key: zone, operator: Exists}]}",
                "{matchExpressions: [{key: disktype, operator: In, values: [ssd]}]}")));
        assertFalse(matches(required("{}")), "an empty term");
        assertFalse(matches(required()), "no terms");
        assertTrue(matches(required("{}", "{matchFields: [{key: metadata.name, operator: In, values: [node-1]}]}")));
        assertFalse(matches(required("{matchFields: [{key: metadata.name, operator: NotIn, values: [node-1]}]}")));
        assertTrue(matches(required("{matchFields: [{key: metadata.name, operator: NotIn, values: [node-2]}]}")));
        assertFalse(matches(required("{matchFields: [{key: metadata.name, operator: Exists}]}")), "matchFields takes In and NotIn only");
        assertFalse(matches(required("{matchFields: [{key: metadata.uid, operator: In, values: [node-1]}]}")));
        assertFalse(matches("{nodeSelector: {disktype: hdd}, " + required("{matchFields: [{key: metadata.name, operator: In, "
                + "values: [node-1]}]}").substring(1)), "nodeSelector and affinity both");
    }
}
