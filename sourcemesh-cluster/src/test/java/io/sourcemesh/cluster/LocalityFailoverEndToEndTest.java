package io.sourcemesh.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Locality failover end to end on two embedded nodes in two zones of one region (their topology labels set by patch):
 * an httpbin pod on each node behind one Service, a client with a sidecar on node 1, and a DestinationRule with outlier
 * detection, so Istio's locality load balancing is on. Every request stays in the client's zone; once node 1's pod
 * stops answering (rolled to a container that does not listen), outlier detection ejects it and the requests fail over
 * to the other zone. Which pod served a request is read from the httpbin containers' access logs.
 */
class LocalityFailoverEndToEndTest {
    static final String NODE_1 = "sourcemesh-node-1";
    static final String NODE_2 = "sourcemesh-node-2";
    static final int REQUESTS = 20;

    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();
    Cluster cluster;

    @Test
    void trafficStaysInTheClientsZoneAndFailsOverWhenItsPodFails() throws Exception {
        cluster = clusters.start(ClusterRuntime.EMBEDDED, 2);
        zone(NODE_1, "z1");
        zone(NODE_2, "z2");
        cluster.apply(ManifestReader.read("locality.yaml", manifest(false)));
        assertTrue(cluster.awaitSettled(ClusterRuntime.EMBEDDED.settle()), "pods settle");
        String near = server(NODE_1);
        String far = server(NODE_2);
        String client = running("app=client").get(0).name();

        for (int i = 0; i < REQUESTS; i++) {
            ExecResult r = curl(client, "near-" + i);
            assertEquals("200", r.stdout(), "request " + i + ": " + r.stderr());
        }
        ExternalClient.awaitTrue(() -> count(near, "near-") == REQUESTS, "every request served in zone z1");
        assertEquals(0, count(far, "near-"), "no request leaves the client's zone while its pod is healthy");

        // Node 1's pod rolled to one that listens on nothing: its requests fail until outlier detection ejects it.
        cluster.patch(ResourceKind.DEPLOYMENT, "default", "echo-1", PatchType.STRATEGIC, """
                {"spec":{"template":{"spec":{"containers":[{"name":"httpbin","command":["/bin/sleep","3650d"]}]}}}}""");
        assertTrue(cluster.awaitSettled(ClusterRuntime.EMBEDDED.settle()), "node 1's pod rolled");
        ExternalClient.awaitTrue(() -> running("app=echo").stream().noneMatch(p -> p.name().equals(near)), "the old pod gone");
        int[] n = {0};
        ExternalClient.awaitTrue(() -> {
            curl(client, "fail-" + n[0]++);
            return count(far, "fail-") > 0;
        }, "requests failing over to zone z2");
        for (int i = 0; i < REQUESTS; i++) {
            ExecResult r = curl(client, "far-" + i);
            assertEquals("200", r.stdout(), "after failover, request " + i + ": " + r.stderr());
        }
        ExternalClient.awaitTrue(() -> count(far, "far-") == REQUESTS, "every request served in zone z2");
    }

    /**
     * Kubernetes' spec.trafficDistribution PreferClose, no DestinationRule: Istio's locality preference without outlier
     * detection. The client's zone is served while it has a pod; once it has none, the other zone is.
     */
    @Test
    void aServicesTrafficDistributionKeepsTrafficInTheZoneWithoutADestinationRule() throws Exception {
        cluster = clusters.start(ClusterRuntime.EMBEDDED, 2);
        zone(NODE_1, "z1");
        zone(NODE_2, "z2");
        cluster.apply(ManifestReader.read("locality.yaml", manifest(true)));
        assertTrue(cluster.awaitSettled(ClusterRuntime.EMBEDDED.settle()), "pods settle");
        String near = server(NODE_1);
        String far = server(NODE_2);
        String client = running("app=client").get(0).name();
        for (int i = 0; i < REQUESTS; i++) {
            assertEquals("200", curl(client, "near-" + i).stdout(), "request " + i);
        }
        ExternalClient.awaitTrue(() -> count(near, "near-") == REQUESTS, "every request served in zone z1");
        assertEquals(0, count(far, "near-"), "none leaves the client's zone");

        cluster.patch(ResourceKind.DEPLOYMENT, "default", "echo-1", PatchType.MERGE, "{\"spec\":{\"replicas\":0}}");
        assertTrue(cluster.awaitSettled(ClusterRuntime.EMBEDDED.settle()), "zone z1 has no pod");
        for (int i = 0; i < REQUESTS; i++) {
            assertEquals("200", curl(client, "far-" + i).stdout(), "request " + i + " with zone z1 empty");
        }
        ExternalClient.awaitTrue(() -> count(far, "far-") == REQUESTS, "every request served in zone z2");
    }

    private void zone(String node, String zone) {
        cluster.patch(ResourceKind.NODE, null, node, PatchType.STRATEGIC, """
                {"metadata":{"labels":{"topology.kubernetes.io/region":"r1","topology.kubernetes.io/zone":"%s"}}}"""
                .formatted(zone));
    }

    /**
     * The echo Service, an httpbin pod pinned to each node, the client on node 1, and the DestinationRule, or instead of
     * it the Service's {@code trafficDistribution: PreferClose}.
     */
    private static String manifest(boolean trafficDistribution) {
        StringBuilder out = new StringBuilder("""
                apiVersion: v1
                kind: Service
                metadata: {name: echo, namespace: default}
                spec:
                  selector: {app: echo}
                  ports: [{name: http, port: 8000}]
                """);
        out.append(trafficDistribution ? "  trafficDistribution: PreferClose\n" : """
                ---
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: echo, namespace: default}
                spec:
                  host: echo
                  trafficPolicy:
                    outlierDetection: {consecutive5xxErrors: 1, interval: 1s, baseEjectionTime: 5m, maxEjectionPercent: 100}
                """);
        out.append("""
                ---
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: client, namespace: default}
                spec:
                  replicas: 1
                  selector: {matchLabels: {app: client}}
                  template:
                    metadata:
                      labels: {app: client}
                      annotations: {sidecar.istio.io/inject: "true"}
                    spec:
                      nodeSelector: {kubernetes.io/hostname: %s}
                      terminationGracePeriodSeconds: 0
                      containers:
                      - {name: sleep, image: curlimages/curl, command: [/bin/sleep, 3650d]}
                """.formatted(NODE_1));
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
                        metadata:
                          labels: {app: echo, node: "%1$s"}
                          annotations: {sidecar.istio.io/inject: "false"}
                        spec:
                          nodeSelector: {kubernetes.io/hostname: %s}
                          terminationGracePeriodSeconds: 0
                          containers:
                          - {name: httpbin, image: docker.io/citizenstig/httpbin, ports: [{containerPort: 8000}]}
                    """.formatted(node.substring(node.length() - 1), node));
        }
        return out.toString();
    }

    private List<KubeObject> running(String selector) {
        return cluster.list(ResourceKind.POD, "default", selector).stream()
                .filter(p -> p.status().path("phase").asText().equals("Running")).toList();
    }

    private String server(String node) {
        List<KubeObject> pods = running("app=echo").stream().filter(p -> p.spec().path("nodeName").asText().equals(node)).toList();
        assertEquals(1, pods.size(), "one echo pod on " + node + ": " + pods);
        return pods.get(0).name();
    }

    private ExecResult curl(String pod, String tag) {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}"));
        cmd.add("http://echo:8000/ip?loc-" + tag);
        return cluster.exec("default", pod, "sleep", cmd);
    }

    private int count(String pod, String prefix) {
        List<String> lines = new ArrayList<>();
        cluster.logs("default", pod, "httpbin", false, -1, lines::add);
        return (int) lines.stream().filter(l -> l.contains("/ip?loc-" + prefix)).count();
    }
}
