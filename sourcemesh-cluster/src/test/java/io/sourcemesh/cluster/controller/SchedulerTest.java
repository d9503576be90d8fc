package io.sourcemesh.cluster.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.store.ObjectStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The scheduler's passes over a store with two nodes and the ReplicaSet controller: cordon, taints and tolerations,
 * nodeSelector and node affinity, the FitError message of a pod no node takes, and NoExecute evictions.
 */
class SchedulerTest {
    private final ObjectStore store = ObjectStore.inMemory();
    private final Workloads workloads = new Workloads(store, pod -> pod);
    private final List<Duration> wakes = new ArrayList<>();
    private final MutableClock clock = new MutableClock();
    private final Scheduler scheduler = Scheduler.create(store, () -> List.of("node-1", "node-2"), wakes::add, clock);

    SchedulerTest() {
        for (String n : List.of("node-1", "node-2")) {
            store.create(ManifestReader.read("node.yaml", "apiVersion: v1\nkind: Node\nmetadata: {name: " + n
                    + ", labels: {kubernetes.io/hostname: " + n + "}}\nspec: {}\n").get(0));
        }
    }

    private void deploy(int replicas, String podSpecExtra) {
        store.apply(ManifestReader.read("d.yaml", """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web, namespace: default}
                spec:
                  replicas: %d
                  selector: {matchLabels: {app: web}}
                  template:
                    metadata: {labels: {app: web}}
                    spec:
                      containers: [{name: c, image: docker.io/kennethreitz/httpbin}]
                %s""".formatted(replicas, podSpecExtra.indent(6))));
    }

    private void passes() {
        for (int i = 0; i < 4; i++) {
            workloads.reconcile();
            scheduler.reconcile();
        }
    }

    private List<KubeObject> pods() {
        return store.list(ResourceKind.POD, "default");
    }

    private List<String> nodesOfPods() {
        return pods().stream().map(p -> p.spec().path("nodeName").asText("")).sorted().toList();
    }

    private void patchNode(String node, String merge) {
        store.patch(ResourceKind.NODE, null, node, PatchType.MERGE, merge);
    }

    private static JsonNode podScheduled(KubeObject pod) {
        for (JsonNode c : pod.status().path("conditions")) {
            if (c.path("type").asText().equals("PodScheduled")) {
                return c;
            }
        }
        throw new AssertionError("no PodScheduled condition: " + pod.status());
    }

    @Test
    void podsSpreadAndACordonedNodeTakesNoNewOnes() {
        deploy(2, "");
        passes();
        assertEquals(List.of("node-1", "node-2"), nodesOfPods(), "the fewest pods first");
        assertEquals("True", podScheduled(pods().get(0)).path("status").asText());

        patchNode("node-1", "{\"spec\":{\"unschedulable\":true}}");
        scheduler.reconcile();
        JsonNode taints = store.get(ResourceKind.NODE, null, "node-1").orElseThrow().spec().path("taints");
        assertEquals("node.kubernetes.io/unschedulable", taints.path(0).path("key").asText(), taints.toString());
        assertEquals("NoSchedule", taints.path(0).path("effect").asText());
        store.patch(ResourceKind.DEPLOYMENT, "default", "web", PatchType.MERGE, "{\"spec\":{\"replicas\":4}}");
        passes();
        assertEquals(List.of("node-1", "node-2", "node-2", "node-2"), nodesOfPods(), "the cordoned node's pod stays, no new one");

        patchNode("node-1", "{\"spec\":{\"unschedulable\":null}}");
        scheduler.reconcile();
        assertTrue(store.get(ResourceKind.NODE, null, "node-1").orElseThrow().spec().path("taints").isMissingNode(),
                "uncordoned: the taint goes");
    }

    @Test
    void aPodNoNodeTakesStaysPendingWithTheSchedulersMessageUntilOneDoes() {
        patchNode("node-1", "{\"spec\":{\"unschedulable\":true}}");
        deploy(1, "nodeSelector: {disktype: ssd}");
        passes();
        KubeObject pod = pods().get(0);
        assertEquals("", pod.spec().path("nodeName").asText(""));
        assertEquals("Pending", pod.status().path("phase").asText());
        JsonNode c = podScheduled(pod);
        assertEquals("False", c.path("status").asText());
        assertEquals("Unschedulable", c.path("reason").asText());
        assertEquals("0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) were unschedulable.",
                c.path("message").asText());

        patchNode("node-1", "{\"metadata\":{\"labels\":{\"disktype\":\"ssd\"}}}");
        passes();
        assertEquals(List.of(""), nodesOfPods(), "the only node with the label is cordoned");
        patchNode("node-2", "{\"metadata\":{\"labels\":{\"disktype\":\"ssd\"}}}");
        passes();
        assertEquals(List.of("node-2"), nodesOfPods(), "a node with the label");
        assertEquals("True", podScheduled(pods().get(0)).path("status").asText());
    }

    @Test
    void noScheduleTaintsNeedAToleration() {
        patchNode("node-1", "{\"spec\":{\"taints\":[{\"key\":\"dedicated\",\"value\":\"gpu\",\"effect\":\"NoSchedule\"}]}}");
        patchNode("node-2", "{\"spec\":{\"taints\":[{\"key\":\"dedicated\",\"value\":\"gpu\",\"effect\":\"NoSchedule\"}]}}");
        deploy(1, "");
        passes();
        assertEquals("0/2 nodes are available: 2 node(s) had untolerated taint {dedicated: gpu}.",
                podScheduled(pods().get(0)).path("message").asText());
        deploy(1, "tolerations: [{key: dedicated, operator: Equal, value: gpu, effect: NoSchedule}]");
        passes();
        assertEquals(List.of("", "node-1"), nodesOfPods(), "the new template's pod tolerates the taint; the old one stays "
                + "Pending (no kubelet here makes the new one ready)");
    }

    @Test
    void preferNoScheduleIsAPreference() {
        patchNode("node-1", "{\"spec\":{\"taints\":[{\"key\":\"spot\",\"effect\":\"PreferNoSchedule\"}]}}");
        deploy(3, "");
        passes();
        assertEquals(List.of("node-2", "node-2", "node-2"), nodesOfPods(), "node-2 while it fits, however loaded");
        patchNode("node-2", "{\"spec\":{\"unschedulable\":true}}");
        store.patch(ResourceKind.DEPLOYMENT, "default", "web", PatchType.MERGE, "{\"spec\":{\"replicas\":4}}");
        passes();
        assertEquals(List.of("node-1", "node-2", "node-2", "node-2"), nodesOfPods(), "a preference, not a filter");
    }

    @Test
    void requiredNodeAffinityAndMatchFields() {
        deploy(2, """
                affinity:
                  nodeAffinity:
                    requiredDuringSchedulingIgnoredDuringExecution:
                      nodeSelectorTerms:
                      - matchFields: [{key: metadata.name, operator: In, values: [node-2]}]
                """);
        passes();
        assertEquals(List.of("node-2", "node-2"), nodesOfPods());
    }

    @Test
    void noExecuteEvictsAtOnceOrAfterTolerationSeconds() {
        deploy(2, "tolerations: [{key: maintenance, operator: Exists, effect: NoExecute, tolerationSeconds: 30}]");
        passes();
        assertEquals(List.of("node-1", "node-2"), nodesOfPods());
        String onNode1 = pods().stream().filter(p -> p.spec().path("nodeName").asText().equals("node-1")).findFirst().orElseThrow().name();

        patchNode("node-1", "{\"spec\":{\"taints\":[{\"key\":\"maintenance\",\"effect\":\"NoExecute\"}]}}");
        passes();
        assertTrue(store.get(ResourceKind.POD, "default", onNode1).isPresent(), "tolerated for 30 s");
        assertEquals(List.of(Duration.ofSeconds(30)), wakes, "one timer for the deadline, not one per pass");
        clock.advance(Duration.ofSeconds(29));
        passes();
        assertTrue(store.get(ResourceKind.POD, "default", onNode1).isPresent());
        clock.advance(Duration.ofSeconds(1));
        passes();
        assertTrue(store.get(ResourceKind.POD, "default", onNode1).isEmpty(), "evicted once its tolerationSeconds ran out");
        assertEquals(List.of("node-1", "node-2"), nodesOfPods(), "its replacement tolerates the taint too, so it may land there "
                + "(as in Kubernetes), for its own 30 s");
        String onNode2 = pods().stream().filter(p -> p.spec().path("nodeName").asText().equals("node-2")).findFirst().orElseThrow().name();

        patchNode("node-2", "{\"spec\":{\"taints\":[{\"key\":\"other\",\"effect\":\"NoExecute\"}]}}");
        passes();
        assertTrue(store.get(ResourceKind.POD, "default", onNode2).isEmpty(), "not tolerated: evicted at once");
        assertEquals(List.of("node-1", "node-1"), nodesOfPods(), "and its replacement keeps off node-2");
    }

    @Test
    void aBarePodIsScheduledLikeAReplicaSetsAndByItsNodeSelector() {
        store.create(ManifestReader.read("p.yaml", """
                apiVersion: v1
                kind: Pod
                metadata: {name: bare, namespace: default}
                spec:
                  nodeSelector: {kubernetes.io/hostname: node-2}
                  containers: [{name: c, image: docker.io/kennethreitz/httpbin}]
                """).get(0));
        scheduler.reconcile();
        assertEquals("node-2", store.get(ResourceKind.POD, "default", "bare").orElseThrow().spec().path("nodeName").asText());
    }

    private static final class MutableClock extends Clock {
        private Instant now = Instant.parse("2026-01-01T00:00:00Z");

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}
