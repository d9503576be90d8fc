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

    private List<KubeObject> gateways() {
        return cluster.list(ResourceKind.POD, NS, "app=" + GW).stream()
                .filter(p -> p.status().path("phase").asText().equals("Running")).toList();
    }

    private String ingressIp() {
        return cluster.get(ResourceKind.SERVICE, NS, GW).orElseThrow().status().path("loadBalancer").path("ingress").path(0)
                .path("ip").asText();
    }
}
