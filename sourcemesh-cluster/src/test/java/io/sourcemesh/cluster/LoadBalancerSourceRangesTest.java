package io.sourcemesh.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.testing.ClusterExtension;
import io.sourcemesh.cluster.testing.ClusterRuntime;
import io.sourcemesh.cluster.testing.ExternalClient;
import io.sourcemesh.cluster.testing.ProxyLogs;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The ingress gateway's loadBalancerSourceRanges, once per runtime (the netns run as root), with real curls from two
 * internet clients under externalTrafficPolicy Local: only the client inside the ranges reaches the gateway (which sees
 * its own address); the other's connection never gets there — closed by the embedded load balancer, dropped by the
 * netns lb's firewall (its curl times out). A bare address is refused by the API server and the running ranges keep
 * being enforced; new ranges and none take effect on the running load balancer.
 */
class LoadBalancerSourceRangesTest {
    static final String NS = "istio-system";
    static final String GW = "istio-ingressgateway";

    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();
    Cluster cluster;

    @ParameterizedTest(name = "{0}")
    @EnumSource(ClusterRuntime.class)
    void onlyClientsInsideTheRangesReachTheGateway(ClusterRuntime on) throws Exception {
        cluster = clusters.start(on, 2);
        ExternalClient client = on.client(cluster);
        ExternalClient other = on.otherClient(cluster);
        cluster.apply(ManifestReader.read(Path.of("src/test/resources/seed/httpbin.yaml")));
        cluster.apply(ManifestReader.read(Path.of("src/test/resources/seed/http-demo.yaml")));
        assertTrue(cluster.awaitSettled(on.settle()), "pods settle");
        patch("{\"spec\":{\"externalTrafficPolicy\":\"Local\"}}");
        String url = "http://" + loadBalancerIp() + ":80/ip";
        ExternalClient.awaitTrue(() -> client.code(url) == 200 && other.code(url) == 200, "both clients served");

        patch("{\"spec\":{\"loadBalancerSourceRanges\":[\"" + client.address() + "/32\"]}}");
        ExternalClient.awaitTrue(() -> other.code(url) == -1, "the other client is kept out");
        ExternalClient.Curl served = client.curl(url);
        assertTrue(served.out().contains("\"origin\": \"" + client.address() + "\""), served.out());
        ProxyLogs.await(cluster, NS, gatewayPod(), j -> j.path("downstream_remote_address").asText()
                .startsWith(client.address() + ":"), j -> j.path("response_code").asInt() == 200);
        long seen = gatewayLines(other);
        assertEquals(-1, other.code(url));
        assertEquals(seen, gatewayLines(other), "no request of the other client reached the gateway");

        // A bare address is not a range: the API server refuses the patch, the running ranges stay.
        Exception refused = assertThrows(Exception.class,
                () -> patch("{\"spec\":{\"loadBalancerSourceRanges\":[\"" + other.address() + "\"]}}"));
        assertTrue(refused.getMessage().contains("spec.LoadBalancerSourceRanges: Invalid value: \"[" + other.address()
                + "]\": must be a list of IP ranges. For example, 10.240.0.0/24,10.250.0.0/24"), refused.getMessage());
        assertEquals(200, client.code(url));
        assertEquals(-1, other.code(url));

        // The ranges replaced: now only the other client; then none: everyone again.
        patch("{\"spec\":{\"loadBalancerSourceRanges\":[\"" + other.address() + "/32\"]}}");
        ExternalClient.awaitTrue(() -> client.code(url) == -1 && other.code(url) == 200, "the ranges changed sides");
        patch("{\"spec\":{\"loadBalancerSourceRanges\":null}}");
        ExternalClient.awaitTrue(() -> client.code(url) == 200 && other.code(url) == 200, "both served again");
    }

    private void patch(String json) {
        cluster.patch(ResourceKind.SERVICE, NS, GW, PatchType.STRATEGIC, json);
    }

    private String loadBalancerIp() throws Exception {
        ExternalClient.awaitTrue(() -> !ingressIp().isEmpty(), "load balancer provisioned");
        return ingressIp();
    }

    private String ingressIp() {
        return cluster.get(ResourceKind.SERVICE, NS, GW).orElseThrow().status().path("loadBalancer").path("ingress").path(0)
                .path("ip").asText();
    }

    private String gatewayPod() {
        return cluster.list(ResourceKind.POD, NS, "app=" + GW).stream()
                .filter(p -> p.status().path("phase").asText().equals("Running")).findFirst().orElseThrow().name();
    }

    /** How many of the gateway's access-log lines are of requests from {@code from}. */
    private long gatewayLines(ExternalClient from) {
        List<String> lines = new ArrayList<>();
        cluster.logs(NS, gatewayPod(), "istio-proxy", false, -1, lines::add);
        return lines.stream().filter(l -> l.contains("\"downstream_remote_address\":\"" + from.address() + ":")).count();
    }
}
