package io.sourcemesh.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.testing.ClusterExtension;
import io.sourcemesh.cluster.testing.ClusterRuntime;
import io.sourcemesh.cluster.testing.ExternalClient;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import io.sourcemesh.cluster.exec.ExecResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The ingress gateway's Service with {@code sessionAffinity: ClientIP}, once per runtime (the netns run as root, where
 * kube-proxy's iptables rules keep the affinity with their recent match): three gateway replicas on one node, and every
 * request of one internet client through the load balancer reaches the same replica; each replica's access log shows
 * whom it served. (Without affinity, ten requests landing on one of three replicas by chance: 1 in 20,000.)
 */
class SessionAffinityTest {
    static final String NS = "istio-system";
    static final String GW = "istio-ingressgateway";
    static final int REQUESTS = 10;

    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();
    Cluster cluster;

    @ParameterizedTest(name = "{0}")
    @EnumSource(ClusterRuntime.class)
    void oneClientsConnectionsStayOnOneGatewayReplica(ClusterRuntime on) throws Exception {
        cluster = clusters.start(on, 1);
        ExternalClient client = on.client(cluster);
        cluster.apply(ManifestReader.read(Path.of("src/test/resources/seed/httpbin.yaml")));
        cluster.apply(ManifestReader.read(Path.of("src/test/resources/seed/http-demo.yaml")));
        cluster.patch(ResourceKind.DEPLOYMENT, NS, GW, PatchType.STRATEGIC, "{\"spec\":{\"replicas\":3}}");
        cluster.patch(ResourceKind.SERVICE, NS, GW, PatchType.STRATEGIC, "{\"spec\":{\"sessionAffinity\":\"ClientIP\","
                + "\"sessionAffinityConfig\":{\"clientIP\":{\"timeoutSeconds\":600}}}}");
        assertTrue(cluster.awaitSettled(on.settle()), "pods settle");
        ExternalClient.awaitTrue(() -> gateways().size() == 3, "three gateway replicas run");
        ExternalClient.awaitTrue(() -> !ingressIp().isEmpty(), "load balancer provisioned");
        String base = "http://" + ingressIp() + ":80/ip?affinity-";
        ExternalClient.awaitTrue(() -> client.code(base + "warm") == 200, "the gateway serves");

        for (int i = 0; i < REQUESTS; i++) {
            assertEquals(200, client.code(base + i), "request " + i);
        }
        Map<String, Integer> served = new TreeMap<>();
        for (KubeObject pod : gateways()) {
            List<String> lines = new ArrayList<>();
            cluster.logs(NS, pod.name(), "istio-proxy", false, -1, lines::add);
            int n = (int) lines.stream().filter(l -> l.contains("/ip?affinity-") && !l.contains("affinity-warm")).count();
            if (n > 0) {
                served.put(pod.name(), n);
            }
        }
        assertEquals(1, served.size(), "one replica served every request: " + served);
        assertEquals(REQUESTS, served.values().iterator().next(), served.toString());
    }

    /**
     * The node port and the cluster IP of one Service port share the affinity, as kube-proxy's rules send both to the
     * port's one KUBE-SVC chain with its recent lists (embedded runtime; pods without sidecars, so kube-proxy's path):
     * each of four client pods reaches the Service first through node 1's node port, then through its cluster IP, and
     * lands on the same of four httpbin pods. (With a table per path, all four agreeing by chance: 1 in 256.)
     */
    @Test
    void theNodePortsAffinityHoldsForTheClusterIp() throws Exception {
        cluster = clusters.start(ClusterRuntime.EMBEDDED, 1);
        cluster.apply(ManifestReader.read("sticky.yaml", """
                apiVersion: v1
                kind: Service
                metadata: {name: sticky, namespace: default}
                spec:
                  type: NodePort
                  sessionAffinity: ClientIP
                  selector: {app: sticky}
                  ports: [{name: http, port: 8000}]
                ---
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: sticky, namespace: default}
                spec:
                  replicas: 4
                  selector: {matchLabels: {app: sticky}}
                  template:
                    metadata: {labels: {app: sticky}, annotations: {sidecar.istio.io/inject: "false"}}
                    spec:
                      containers:
                      - {name: httpbin, image: docker.io/citizenstig/httpbin, ports: [{containerPort: 8000}]}
                ---
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: client, namespace: default}
                spec:
                  replicas: 4
                  selector: {matchLabels: {app: client}}
                  template:
                    metadata: {labels: {app: client}, annotations: {sidecar.istio.io/inject: "false"}}
                    spec:
                      terminationGracePeriodSeconds: 0
                      containers:
                      - {name: sleep, image: curlimages/curl, command: [/bin/sleep, 3650d]}
                """));
        assertTrue(cluster.awaitSettled(ClusterRuntime.EMBEDDED.settle()), "pods settle");
        List<KubeObject> servers = running("default", "app=sticky");
        List<KubeObject> clients = running("default", "app=client");
        assertEquals(4, servers.size());
        assertEquals(4, clients.size());
        int nodePort = cluster.get(ResourceKind.SERVICE, "default", "sticky").orElseThrow().spec().path("ports").path(0)
                .path("nodePort").asInt();
        String viaNodePort = "http://" + cluster.runtime().nodes().get(0).internalIp() + ":" + nodePort + "/ip?sticky-np-";
        for (KubeObject client : clients) {
            String c = client.name();
            assertEquals("200", curl(c, viaNodePort + c), "through the node port");
            for (int i = 0; i < 3; i++) {
                assertEquals("200", curl(c, "http://sticky:8000/ip?sticky-vip-" + c + "-" + i), "through the cluster IP");
            }
        }
        for (KubeObject client : clients) {
            String c = client.name();
            ExternalClient.awaitTrue(() -> servers.stream().mapToInt(s -> served(s, "sticky-vip-" + c)).sum() == 3, "requests logged");
            List<String> byNodePort = servers.stream().filter(s -> served(s, "sticky-np-" + c) == 1).map(KubeObject::name).toList();
            List<String> byClusterIp = servers.stream().filter(s -> served(s, "sticky-vip-" + c) > 0).map(KubeObject::name).toList();
            assertEquals(1, byNodePort.size(), c + " through the node port: " + byNodePort);
            assertEquals(byNodePort, byClusterIp, c + "'s cluster IP requests go where its node port request went");
        }
    }

    private String curl(String pod, String url) {
        ExecResult r = cluster.exec("default", pod, "sleep", List.of("curl", "-sS", "--max-time", "5", "-o", "/dev/null",
                "-w", "%{http_code}", url));
        return r.stdout() + r.stderr();
    }

    /** How many requests with {@code tag} the httpbin pod logged. */
    private int served(KubeObject pod, String tag) {
        List<String> lines = new ArrayList<>();
        cluster.logs("default", pod.name(), "httpbin", false, -1, lines::add);
        return (int) lines.stream().filter(l -> l.contains("/ip?" + tag + " ") || l.contains("/ip?" + tag + "-")).count();
    }

    private List<KubeObject> running(String namespace, String selector) {
        return cluster.list(ResourceKind.POD, namespace, selector).stream()
                .filter(p -> p.status().path("phase").asText().equals("Running")).toList();
    }

    private List<KubeObject> gateways() {
        return cluster.list(ResourceKind.POD, NS, "app=" + GW).stream()
                .filter(p -> p.status().path("phase").asText().equals("Running")).toList();
    }

    private String ingressIp() {
        return cluster.get(ResourceKind.SERVICE, NS, GW).orElseThrow().status().path("loadBalancer").path("ingress").path(0)
                .path("ip").asText();
    }
}
