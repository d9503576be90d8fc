package io.sourcemesh.cluster;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.testing.ClusterExtension;
import io.sourcemesh.cluster.testing.ClusterRuntime;
import io.sourcemesh.cluster.testing.ExternalClient;
import java.util.List;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The gateway install, its node ports and its load balancer address survive a restart, with the
 * user's patch, once per runtime (the netns run as root), and the seed's httpbin behind the seed's
 * gateway serves the internet client again, its address kept (Local).
 */
class NorthSouthRestartTest {
    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();

    private static KubeObject gatewayService(Cluster c) {
        return c.get(ResourceKind.SERVICE, "istio-system", "istio-ingressgateway").orElseThrow();
    }

    private static String lbIp(Cluster c) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            String ip = gatewayService(c).status().path("loadBalancer").path("ingress").path(0).path("ip").asText("");
            if (!ip.isEmpty() && ip.equals(c.info().gatewayAddress())) {
                return ip;
            }
            Thread.sleep(50);
        }
        return fail("no load balancer address");
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(ClusterRuntime.class)
    void nodePortsPolicyAndAddressAreKept(ClusterRuntime on) throws Exception {
        Cluster c = clusters.start(on, 2);
        Cluster first = c;
        assertTrue(c.awaitSettled(on.settle()), () -> "pods settle: " + first.list(ResourceKind.POD, "istio-system", "")
                .stream().map(p -> p.name() + " " + p.status()).toList());
        KubeObject deployment = c.get(ResourceKind.DEPLOYMENT, "istio-system", "istio-ingressgateway").orElseThrow();
        JsonNode proxy = deployment.spec().path("template").path("spec").path("containers").path(0);
        assertEquals("istio-proxy", proxy.path("name").asText());
        assertEquals("[\"proxy\",\"router\"]", proxy.path("args").toString());
        assertEquals("ingressgateway", deployment.spec().path("template").path("metadata").path("labels").path("istio").asText());
        c.settle(List.of(c.patch(ResourceKind.SERVICE, "istio-system", "istio-ingressgateway", PatchType.STRATEGIC,
                "{\"spec\":{\"externalTrafficPolicy\":\"Local\"}}")));
        c.apply(ManifestReader.read(Path.of("src/test/resources/seed/httpbin.yaml")));
        c.apply(ManifestReader.read(Path.of("src/test/resources/seed/http-demo.yaml")));
        assertTrue(c.awaitSettled(on.settle()), "httpbin settles");
        String ip = lbIp(c);
        ExternalClient client = on.client(c);
        assertEquals(client.address(), client.origin("http://" + ip + "/ip"));
        JsonNode spec = gatewayService(c).spec();
        assertTrue(spec.path("healthCheckNodePort").asInt() >= 30000);

        c = clusters.restart();
        assertEquals(ip, lbIp(c));
        assertEquals(spec, gatewayService(c).spec(), "nodePorts, healthCheckNodePort and the Local policy stay");
        assertTrue(c.awaitSettled(on.settle()), "pods settle after the restart");
        assertEquals(client.address(), on.client(c).origin("http://" + ip + "/ip"), "served again, the client's address kept");
    }
}
