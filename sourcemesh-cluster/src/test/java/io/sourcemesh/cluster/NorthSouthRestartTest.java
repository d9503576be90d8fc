package io.sourcemesh.cluster;

import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.runtime.embedded.EmbeddedRuntime;
import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.daemon.Home;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The gateway install, its node ports and its load balancer address survive a restart, with the user's patch. */
class NorthSouthRestartTest {
    @TempDir
    Path home;

    private static KubeObject gatewayService(Cluster c) {
        return c.get(ResourceKind.SERVICE, "istio-system", "istio-ingressgateway").orElseThrow();
    }

    private static String lbIp(Cluster c) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (System.nanoTime() < deadline) {
            String ip = gatewayService(c).status().path("loadBalancer").path("ingress").path(0).path("ip").asText("");
            if (!ip.isEmpty() && ip.equals(c.info().gatewayAddress())) {
                return ip;
            }
            Thread.sleep(50);
        }
        return fail("no load balancer address");
    }

    @Test
    void nodePortsPolicyAndAddressAreKept() throws Exception {
        String ip;
        JsonNode spec;
        try (Cluster c = EmbeddedRuntime.cluster(new Home(home), 2)) {
            assertTrue(c.awaitSettled(Duration.ofSeconds(30)), () -> "pods settle: " + c.list(ResourceKind.POD, "istio-system", "")
                    .stream().map(p -> p.name() + " " + p.status()).toList());
            KubeObject deployment = c.get(ResourceKind.DEPLOYMENT, "istio-system", "istio-ingressgateway").orElseThrow();
            JsonNode proxy = deployment.spec().path("template").path("spec").path("containers").path(0);
            assertEquals("istio-proxy", proxy.path("name").asText());
            assertEquals("[\"proxy\",\"router\"]", proxy.path("args").toString());
            assertEquals("ingressgateway", deployment.spec().path("template").path("metadata").path("labels").path("istio").asText());
            c.patch(ResourceKind.SERVICE, "istio-system", "istio-ingressgateway", PatchType.STRATEGIC,
                    "{\"spec\":{\"externalTrafficPolicy\":\"Local\"}}");
            ip = lbIp(c);
            spec = gatewayService(c).spec();
            assertTrue(spec.path("healthCheckNodePort").asInt() >= 30000);
        }
        try (Cluster c = EmbeddedRuntime.cluster(new Home(home), 2)) {
            assertEquals(ip, lbIp(c));
            assertEquals(spec, gatewayService(c).spec(), "nodePorts, healthCheckNodePort and the Local policy stay");
        }
    }
}
