package io.sourcemesh.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.exec.ExecResult;
import io.sourcemesh.cluster.testing.ClusterExtension;
import io.sourcemesh.cluster.testing.ClusterRuntime;
import io.sourcemesh.cluster.testing.ExternalClient;
import io.sourcemesh.cluster.testing.ProxyLogs;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A Service's internalTrafficPolicy end to end on two embedded nodes: an httpbin pod on each node behind one Service,
 * and two clients on node 1, one with a sidecar (its EDS: Istio's NodeLocal endpoints) and one without (the cluster
 * IP's kube-proxy path, KUBE-SVL). Under Local every request lands on node 1's pod; under Cluster both pods answer; under
 * Local with no pod on node 1 the plain client's connection is dropped and the sidecar answers 503 UH, as
 * Kubernetes and Istio do. Which pod served a request is read from the httpbin containers' access logs.
 */
class InternalTrafficPolicyEndToEndTest {
    static final String NODE_1 = "sourcemesh-node-1";
    static final String NODE_2 = "sourcemesh-node-2";
    static final int REQUESTS = 20;

    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();
    Cluster cluster;

    @Test
    void localKeepsClusterIpTrafficOnTheClientsNode() throws Exception {
        cluster = clusters.start(ClusterRuntime.EMBEDDED, 2);
        cluster.apply(ManifestReader.read("itp.yaml", manifest()));
        assertTrue(cluster.awaitSettled(ClusterRuntime.EMBEDDED.settle()), "pods settle");
        String onNode1 = server(NODE_1);
        String onNode2 = server(NODE_2);
        Map<String, String> clients = new TreeMap<>(Map.of("mesh", client("mesh"), "plain", client("plain")));
        assertEquals(2, container(clients.get("mesh")), "the mesh client has its sidecar");
        assertEquals(1, container(clients.get("plain")), "the plain client has none");

        for (Map.Entry<String, String> c : clients.entrySet()) {
            String tag = "local-" + c.getKey() + "-";
            for (int i = 0; i < REQUESTS; i++) {
                ExecResult r = curl(c.getValue(), tag + i);
                assertEquals("200", r.stdout(), c.getKey() + " request " + i + ": " + r.stderr());
            }
            awaitServed(tag, Map.of(onNode1, REQUESTS, onNode2, 0));
        }

        cluster.patch(ResourceKind.SERVICE, "default", "echo", PatchType.STRATEGIC, "{\"spec\":{\"internalTrafficPolicy\":\"Cluster\"}}");
        for (Map.Entry<String, String> c : clients.entrySet()) {
            // the sidecar's endpoints change with the push: wait for node 2's pod to be reached once
            String warm = "warm-" + c.getKey() + "-";
            int[] n = {0};
            ExternalClient.awaitTrue(() -> {
                curl(c.getValue(), warm + n[0]++);
                return count(onNode2, warm) > 0;
            }, c.getKey() + "'s requests reaching node 2 under Cluster");
            String tag = "cluster-" + c.getKey() + "-";
            for (int i = 0; i < REQUESTS; i++) {
                assertEquals("200", curl(c.getValue(), tag + i).stdout(), c.getKey() + " request " + i);
            }
            ExternalClient.awaitTrue(() -> count(onNode1, tag) + count(onNode2, tag) == REQUESTS, "every request logged");
            assertTrue(count(onNode1, tag) > 0 && count(onNode2, tag) > 0,
                    c.getKey() + ": both pods answer under Cluster: " + count(onNode1, tag) + " and " + count(onNode2, tag));
        }

        // Local again with node 1's pod gone: nothing on the client's node, and node 2's pod is not used instead.
        cluster.patch(ResourceKind.SERVICE, "default", "echo", PatchType.STRATEGIC, "{\"spec\":{\"internalTrafficPolicy\":\"Local\"}}");
        cluster.patch(ResourceKind.DEPLOYMENT, "default", "echo-1", PatchType.STRATEGIC, "{\"spec\":{\"replicas\":0}}");
        assertTrue(cluster.awaitSettled(ClusterRuntime.EMBEDDED.settle()), "node 1's pod removed");
        ExternalClient.awaitTrue(() -> cluster.list(ResourceKind.POD, "default", "app=echo").size() == 1, "node 1's pod gone");
        ExternalClient.awaitTrue(() -> curl(clients.get("mesh"), "none-mesh-warm").stdout().equals("503"),
                "the sidecar answering 503 once its endpoints are pushed");
        ExecResult mesh = curl(clients.get("mesh"), "none-mesh", "-w", "%{http_code}", "-o", "-");
        assertEquals("no healthy upstream503", mesh.stdout(), mesh.stderr());
        assertEquals("UH", ProxyLogs.await(cluster, "default", clients.get("mesh"),
                j -> j.path("path").asText().contains("none-mesh") && !j.path("path").asText().contains("warm"),
                j -> !j.path("response_flags").isMissingNode()).path("response_flags").asText());
        ExecResult plain = curl(clients.get("plain"), "none-plain");
        assertNotEquals(0, plain.exitCode(), "the plain client's connection is dropped: " + plain.stdout());
        assertEquals(0, count(onNode2, "none-"), "node 2's pod is never used for node 1's clients");
    }

    /** The echo Service under Local, an httpbin pod pinned to each node, the two clients on node 1. */
    private static String manifest() {
        StringBuilder out = new StringBuilder("""
                apiVersion: v1
                kind: Service
                metadata: {name: echo, namespace: default}
                spec:
                  internalTrafficPolicy: Local
                  selector: {app: echo}
                  ports: [{name: http, port: 8000}]
                """);
        for (String node : List.of(NODE_1, NODE_2)) {
            out.append("""
                    ---
                    apiVersion: apps/v1
                    kind: Deployment
                    metadata: {name: echo-%s, namespace: default}
                    spec:
                      replicas: 1
                      selector: {matchLabels: {app: echo, node: "%1$s"}}
                      template:
                        metadata: {labels: {app: echo, node: "%1$s"}}
                        spec:
                          nodeSelector: {kubernetes.io/hostname: %s}
                          containers:
                          - {name: httpbin, image: docker.io/citizenstig/httpbin, ports: [{containerPort: 8000}]}
                    """.formatted(node.substring(node.length() - 1), node));
        }
        for (String kind : List.of("mesh", "plain")) {
            out.append("""
                    ---
                    apiVersion: apps/v1
                    kind: Deployment
                    metadata: {name: client-%s, namespace: default}
                    spec:
                      replicas: 1
                      selector: {matchLabels: {app: client-%1$s}}
                      template:
                        metadata:
                          labels: {app: client-%1$s}
                          annotations: {sidecar.istio.io/inject: "%s"}
                        spec:
                          nodeName: %s
                          terminationGracePeriodSeconds: 0
                          containers:
                          - {name: sleep, image: curlimages/curl, command: [/bin/sleep, 3650d]}
                    """.formatted(kind, kind.equals("mesh"), NODE_1));
        }
        return out.toString();
    }

    private List<KubeObject> running(String selector) {
        return cluster.list(ResourceKind.POD, "default", selector).stream()
                .filter(p -> p.status().path("phase").asText().equals("Running")).toList();
    }

    /** The echo pod on {@code node}; it must be the only one there. */
    private String server(String node) {
        List<KubeObject> pods = running("app=echo").stream().filter(p -> p.spec().path("nodeName").asText().equals(node)).toList();
        assertEquals(1, pods.size(), "one echo pod on " + node + ": " + pods);
        return pods.get(0).name();
    }

    private String client(String kind) {
        KubeObject pod = running("app=client-" + kind).get(0);
        assertEquals(NODE_1, pod.spec().path("nodeName").asText());
        return pod.name();
    }

    private int container(String pod) {
        return cluster.get(ResourceKind.POD, "default", pod).orElseThrow().spec().path("containers").size();
    }

    /** curl in the client pod to the echo Service's name (its cluster IP); stdout is the status code unless args say otherwise. */
    private ExecResult curl(String pod, String tag, String... args) {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--max-time", "5"));
        cmd.addAll(args.length > 0 ? List.of(args) : List.of("-o", "/dev/null", "-w", "%{http_code}"));
        cmd.add("http://echo:8000/ip?itp-" + tag);
        return cluster.exec("default", pod, "sleep", cmd);
    }

    /** Requests whose tag starts with {@code prefix} in {@code pod}'s httpbin access log. */
    private int count(String pod, String prefix) {
        List<String> lines = new ArrayList<>();
        cluster.logs("default", pod, "httpbin", false, -1, lines::add);
        return (int) lines.stream().filter(l -> l.contains("/ip?itp-" + prefix)).count();
    }

    private void awaitServed(String prefix, Map<String, Integer> expected) throws InterruptedException {
        ExternalClient.awaitTrue(() -> expected.keySet().stream().mapToInt(p -> count(p, prefix)).sum()
                == expected.values().stream().mapToInt(Integer::intValue).sum(), "every request logged");
        for (Map.Entry<String, Integer> e : expected.entrySet()) {
            assertEquals(e.getValue(), count(e.getKey(), prefix), prefix + " requests served by " + e.getKey());
        }
    }
}
