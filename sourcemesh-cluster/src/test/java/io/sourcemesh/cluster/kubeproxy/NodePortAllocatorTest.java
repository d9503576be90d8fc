package io.sourcemesh.cluster.kubeproxy;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.store.ObjectStore;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class NodePortAllocatorTest {
    final ObjectStore store = ObjectStore.inMemory();

    @AfterEach
    void close() {
        store.close();
    }

    private void apply(String yaml) {
        store.apply(ManifestReader.read("test", yaml));
    }

    private KubeObject svc(String name) {
        return store.get(ResourceKind.SERVICE, "default", name).orElseThrow();
    }

    @Test
    void loadBalancerPortsGetStableDistinctNodePortsAndClusterPolicy() {
        apply("""
                apiVersion: v1
                kind: Service
                metadata: {name: lb, namespace: default}
                spec:
                  type: LoadBalancer
                  selector: {app: x}
                  ports: [{name: a, port: 80}, {name: b, port: 443}]
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: plain, namespace: default}
                spec:
                  selector: {app: x}
                  ports: [{name: a, port: 80}]
                """);
        NodePortAllocator.allocate(store);
        KubeObject lb = svc("lb");
        Set<Integer> ports = new HashSet<>();
        for (JsonNode p : lb.spec().path("ports")) {
            int np = p.path("nodePort").asInt();
            assertTrue(np >= 30000 && np <= 32767, "nodePort " + np);
            ports.add(np);
        }
        assertEquals(2, ports.size());
        assertEquals("Cluster", lb.spec().path("externalTrafficPolicy").asText());
        assertFalse(lb.spec().has("healthCheckNodePort"));
        assertFalse(svc("plain").spec().path("ports").path(0).has("nodePort"), "ClusterIP services get none");

        NodePortAllocator.allocate(store);
        assertEquals(lb.spec(), svc("lb").spec(), "a second pass changes nothing");
    }

    @Test
    void localPolicyGetsAHealthCheckNodePortAndLosesItOnTheWayBack() {
        apply("""
                apiVersion: v1
                kind: Service
                metadata: {name: lb, namespace: default}
                spec:
                  type: LoadBalancer
                  selector: {app: x}
                  ports: [{name: a, port: 80, nodePort: 31000}]
                """);
        NodePortAllocator.allocate(store);
        assertEquals(31000, svc("lb").spec().path("ports").path(0).path("nodePort").asInt(), "a chosen nodePort is kept");
        store.patch(ResourceKind.SERVICE, "default", "lb", PatchType.STRATEGIC, "{\"spec\":{\"externalTrafficPolicy\":\"Local\"}}");
        NodePortAllocator.allocate(store);
        int hc = svc("lb").spec().path("healthCheckNodePort").asInt();
        assertTrue(hc >= 30000 && hc <= 32767 && hc != 31000, "healthCheckNodePort " + hc);

        // The API server drops healthCheckNodePort itself on this change; the store's validation does
        // not yet, so the patch drops it explicitly.
        store.patch(ResourceKind.SERVICE, "default", "lb", PatchType.STRATEGIC,
                "{\"spec\":{\"externalTrafficPolicy\":\"Cluster\",\"healthCheckNodePort\":null}}");
        NodePortAllocator.allocate(store);
        assertFalse(svc("lb").spec().has("healthCheckNodePort"));
    }
}
