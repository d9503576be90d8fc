package io.sourcemesh.api.resource;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class KubeObjectTest {

    @Test
    void isACopyInAndOut() {
        ObjectNode n = KubeObject.of("v1", "Service", "default", "httpbin").node();
        n.putObject("spec").put("type", "ClusterIP");
        KubeObject o = KubeObject.of(n);
        n.withObjectProperty("spec").put("type", "NodePort");
        assertEquals("ClusterIP", o.spec().path("type").asText());
        ((ObjectNode) o.spec()).put("type", "LoadBalancer");
        assertEquals("ClusterIP", o.spec().path("type").asText());
    }

    @Test
    void readsAndWritesMetadata() {
        KubeObject o = KubeObject.of("apps/v1", "Deployment", "", "sleep")
                .withNamespace("default").withUid("u-1").withResourceVersion("7").withGeneration(3)
                .withCreationTimestamp("2026-11-26T17:00:00Z").withLabels(Map.of("app", "sleep"))
                .withAnnotation("a", "1");
        assertEquals("default", o.namespace());
        assertEquals("u-1", o.uid());
        assertEquals("7", o.resourceVersion());
        assertEquals(3, o.generation());
        assertEquals("2026-11-26T17:00:00Z", o.creationTimestamp());
        assertEquals(Map.of("app", "sleep"), o.labels());
        assertEquals(Map.of("a", "1"), o.annotations());
        assertEquals(ResourceKind.DEPLOYMENT, o.resourceKind().orElseThrow());
        assertEquals("deployment.apps/sleep", o.toString());
        assertEquals("", o.withNamespace("").namespace());
        assertTrue(o.status().isMissingNode());
        KubeObject withStatus = o.withStatus(JsonNodeFactory.instance.objectNode().put("replicas", 1));
        assertEquals(1, withStatus.status().path("replicas").asInt());
        assertNotEquals(o, withStatus);
        assertEquals(o, withStatus.withStatus(null));
    }

    @Test
    void atCopiesOneSubtreeAndNumbersCompareByValue() {
        ObjectNode n = KubeObject.of("apps/v1", "Deployment", "default", "d").node();
        n.putObject("spec").put("replicas", 1L);
        KubeObject o = KubeObject.of(n);
        assertEquals(1, o.at("/spec/replicas").asInt());
        assertTrue(o.at("/spec/nothing").isMissingNode());
        ObjectNode same = o.node();
        same.withObjectProperty("spec").put("replicas", 1);
        assertEquals(o, KubeObject.of(same));
        assertEquals(o.hashCode(), KubeObject.of(same).hashCode());
    }
}
