package io.sourcemesh.cluster.kubeapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.testing.ClusterExtension;
import io.sourcemesh.cluster.testing.ClusterRuntime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Predicate;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The real kubectl's node verbs against a two-node embedded cluster: cordon and uncordon, taint and a toleration, a
 * nodeSelector on a label the user adds with {@code kubectl label node}, and {@code kubectl drain} evicting a
 * Deployment's pods through the Eviction subresource so they are made again on the other node.
 */
class KubectlSchedulingTest {
    private static final String NODE_1 = "sourcemesh-node-1";
    private static final String NODE_2 = "sourcemesh-node-2";

    @RegisterExtension
    @Order(1)
    final ClusterExtension clusters = new ClusterExtension();
    /** Registered after the cluster's, so it closes first: the API server reads the cluster's store. */
    @RegisterExtension
    @Order(2)
    final ApiServerExtension api = new ApiServerExtension();
    Kubectl kubectl;

    private Kubectl.Result ok(String... args) throws Exception {
        Kubectl.Result r = kubectl.run(args);
        assertEquals(0, r.exit(), r.toString());
        return r;
    }

    /** A Deployment of sleeping pods without sidecars (cheap to start), with {@code spec} added to its pod spec. */
    private void deploy(String name, int replicas, String spec) throws Exception {
        Path f = api.home().resolve(name + ".yaml");
        Files.writeString(f, """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: %s}
                spec:
                  replicas: %d
                  selector: {matchLabels: {app: %1$s}}
                  template:
                    metadata: {labels: {app: %1$s}, annotations: {sidecar.istio.io/inject: "false"}}
                    spec:
                      containers:
                      - {name: nap, image: curlimages/curl, command: ["sleep", "3650d"]}
                %s""".formatted(name, replicas, spec.indent(6)));
        ok("apply", "-f", f.toString());
    }

    /** The pods' nodes ({@code jsonpath}), once {@code done} holds of them. */
    private String awaitPods(String app, String jsonpath, Predicate<String> done) throws Exception {
        long deadline = System.nanoTime() + ClusterRuntime.EMBEDDED.settle().toNanos();
        String out = "";
        while (System.nanoTime() < deadline) {
            out = ok("get", "pods", "-l", "app=" + app, "-o", "jsonpath=" + jsonpath).out();
            if (done.test(out)) {
                return out;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("pods of " + app + " never got there: " + out);
    }

    private String nodes(String app, Predicate<String> done) throws Exception {
        return awaitPods(app, "{range .items[*]}{.spec.nodeName} {end}", done);
    }

    @Test
    void cordonTaintLabelAndDrainMovePods() throws Exception {
        assumeTrue(Kubectl.installed(), "no kubectl on PATH: the tests that drive the real kubectl are skipped");
        Cluster cluster = clusters.start(ClusterRuntime.EMBEDDED, 2);
        kubectl = api.serve(cluster, cluster.store(), clusters.home()).kubectl();

        // cordon: new pods go to the other node; the node says so
        assertEquals("node/" + NODE_1 + " cordoned\n", ok("cordon", NODE_1).out());
        assertTrue(ok("get", "node", NODE_1).out().contains("Ready,SchedulingDisabled"));
        assertEquals("node.kubernetes.io/unschedulable:NoSchedule", ok("get", "node", NODE_1, "-o",
                "jsonpath={range .spec.taints[*]}{.key}:{.effect}{end}").out());
        deploy("nap", 2, "");
        assertEquals(NODE_2 + " " + NODE_2 + " ", nodes("nap", s -> true));
        assertEquals("node/" + NODE_1 + " uncordoned\n", ok("uncordon", NODE_1).out());
        assertEquals("", ok("get", "node", NODE_1, "-o", "jsonpath={.spec.taints}").out());

        // a NoSchedule taint keeps off the pods that do not tolerate it
        assertEquals("node/" + NODE_2 + " tainted\n", ok("taint", "nodes", NODE_2, "dedicated=gpu:NoSchedule").out());
        deploy("plain", 1, "nodeSelector: {kubernetes.io/hostname: " + NODE_2 + "}");
        deploy("tolerant", 1, "nodeSelector: {kubernetes.io/hostname: " + NODE_2 + "}\n"
                + "tolerations: [{key: dedicated, operator: Equal, value: gpu, effect: NoSchedule}]");
        assertEquals(NODE_2 + " ", nodes("tolerant", s -> !s.isBlank()));
        assertEquals(" ", nodes("plain", s -> true), "not scheduled");
        assertEquals("False Unschedulable 0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, "
                + "1 node(s) had untolerated taint {dedicated: gpu}.", awaitPods("plain",
                "{.items[0].status.conditions[?(@.type==\"PodScheduled\")]['status','reason','message']}", s -> !s.isBlank()));
        ok("taint", "nodes", NODE_2, "dedicated=gpu:NoSchedule-");
        assertEquals(NODE_2 + " ", nodes("plain", s -> !s.isBlank()), "scheduled once the taint is gone");

        // a nodeSelector on the user's own label: Pending until a node has it
        deploy("ssd", 1, "nodeSelector: {disktype: ssd}");
        assertEquals(" ", nodes("ssd", s -> true));
        ok("label", "node", NODE_1, "disktype=ssd");
        assertEquals(NODE_1 + " ", nodes("ssd", s -> !s.isBlank()));
        awaitPods("ssd", "{.items[0].status.phase}", "Running"::equals);

        // drain: cordoned, the Deployment's pods evicted and made again on node 1
        Kubectl.Result drain = ok("drain", NODE_2, "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=90s");
        assertTrue(drain.out().contains("node/" + NODE_2 + " cordoned"), drain.toString());
        assertTrue(drain.out().contains("node/" + NODE_2 + " drained"), drain.toString());
        assertTrue(drain.out().contains("evicting pod default/nap-"), drain.toString());
        assertTrue(drain.out().contains(" evicted\n"), drain.toString()); // "deleted" without the Eviction subresource
        assertEquals(NODE_1 + " " + NODE_1 + " ", nodes("nap", s -> s.equals(NODE_1 + " " + NODE_1 + " ")));
        awaitPods("nap", "{range .items[*]}{.status.phase} {end}", "Running Running "::equals);
        assertEquals("0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) were unschedulable.",
                awaitPods("plain", "{.items[0].status.conditions[?(@.type==\"PodScheduled\")].message}", s -> !s.isBlank()),
                "the pod pinned to the drained node waits for it");
        assertTrue(ok("get", "node", NODE_2).out().contains("SchedulingDisabled"));
    }
}
