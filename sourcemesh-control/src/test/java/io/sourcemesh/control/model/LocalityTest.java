package io.sourcemesh.control.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.sourcemesh.control.Fixtures;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Localities as Istio reads them (topology/locality.yaml): a pod's from its Node's labels (region, zone, Istio's subzone;
 * the deprecated beta labels when the GA ones are missing), its istio-locality label over them; a WorkloadEntry's and a
 * ServiceEntry endpoint's "region/zone/subzone", else their istio-locality label.
 */
class LocalityTest {
    private final MeshModel model = MeshModel.of(Fixtures.seed("topology/locality.yaml"));

    private Locality pod(String name) {
        return model.pod("default", name).orElseThrow().locality();
    }

    @Test
    void aPodTakesItsNodesTopologyLabels() {
        assertEquals(new Locality("r1", "z1", "s1"), pod("echo-a"));
        assertEquals(new Locality("r1", "z2", ""), pod("echo-c"), "no subzone label");
        assertEquals(new Locality("r2", "z3", ""), pod("echo-d"), "failure-domain.beta.kubernetes.io labels");
        assertEquals(new Locality("r1", "z1", "s1"), Fixtures.pod(model, "sleep").locality(), "seed's sleep on node-1");
    }

    @Test
    void theIstioLocalityLabelOverridesTheNode() {
        assertEquals(new Locality("r3", "z9", ""), pod("echo-e"), "istio-locality r3.z9 on node-1");
    }

    @Test
    void withoutItsNodeAPodsLocalityIsUnknown() {
        MeshModel noNodes = MeshModel.of(Fixtures.seed("topology/internal-traffic-policy.yaml"));
        assertFalse(noNodes.pod("default", "echo-a").orElseThrow().locality().known());
    }

    @Test
    void entriesCarryTheirWrittenLocality() {
        Service echo = model.service("default", "echo").orElseThrow();
        assertEquals(new Locality("r2", "z3", "s9"), echo.workloads().get(0).endpoint().locality());
        Service ext = model.serviceByFqdn("ext.example.com").orElseThrow();
        assertEquals(new Locality("r1", "z1", "s1"), ext.entry().endpoints().get(0).locality());
        assertEquals(new Locality("r1", "z2", ""), ext.entry().endpoints().get(1).locality());
        assertEquals(new Locality("r2", "z3", ""), ext.entry().endpoints().get(2).locality(), "istio-locality label r2.z3");
        assertEquals(Locality.UNKNOWN, ext.entry().endpoints().get(3).locality());
    }

    @Test
    void parseAndAugmentAsIstio() {
        assertEquals(new Locality("a", "", ""), Locality.parse("a"));
        assertEquals(new Locality("a", "b", "c"), Locality.parse("a/b/c/d"), "SplitLocalityLabel ignores past the third");
        assertEquals(Map.of("app", "x", "topology.kubernetes.io/region", "a", "topology.kubernetes.io/zone", "b",
                "kubernetes.io/hostname", "node-1"), new Locality("a", "b", "").augment(Map.of("app", "x"), "node-1"));
    }
}
