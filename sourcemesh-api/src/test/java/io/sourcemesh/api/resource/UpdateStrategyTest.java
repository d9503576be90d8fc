package io.sourcemesh.api.resource;

import static org.junit.jupiter.api.Assertions.*;

import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.patch.Patches;
import org.junit.jupiter.api.Test;

class UpdateStrategyTest {
    @Test
    void switchingBackToClusterDropsTheHealthCheckNodePort() throws Exception {
        KubeObject local = KubeObject.of((com.fasterxml.jackson.databind.node.ObjectNode) new com.fasterxml.jackson.databind.ObjectMapper().readTree(
                "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"gw\",\"namespace\":\"istio-system\"},"
                        + "\"spec\":{\"type\":\"LoadBalancer\",\"externalTrafficPolicy\":\"Local\",\"healthCheckNodePort\":31000,"
                        + "\"ports\":[{\"port\":80}]}}"));
        KubeObject cluster = Patches.apply(local, PatchType.STRATEGIC, "{\"spec\":{\"externalTrafficPolicy\":\"Cluster\"}}");
        assertFalse(cluster.spec().has("healthCheckNodePort"));
        assertEquals("Cluster", cluster.spec().path("externalTrafficPolicy").asText());
        assertEquals(31000, UpdateStrategy.prepare(local).spec().path("healthCheckNodePort").asInt(), "kept while Local");
    }
}
