package io.sourcemesh.cluster.runtime.netns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.control.model.InterceptionMode;
import io.sourcemesh.control.model.Locality;
import io.sourcemesh.proxy.config.BootstrapLoader;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * A netns sidecar's bootstrap carries its pod's locality as the node's, and the proxy that reads the file takes it
 * (its ADS stream then reports it as Envoy's Node.locality, ProxyAdsTest); with no locality known the node has none.
 */
class SidecarBootstrapTest {
    private static final KubeObject POD = KubeObject.of("v1", "Pod", "default", "sleep-1");

    private static Bootstrap read(Locality locality) {
        String json = SidecarBootstrap.json("sidecar~10.0.0.2~sleep-1.default~default.svc.cluster.local", POD,
                InterceptionMode.REDIRECT, Path.of("xds.sock"), locality);
        return (Bootstrap) BootstrapLoader.loadText(json).source();
    }

    @Test
    void theNodeCarriesThePodsLocality() {
        Bootstrap b = read(new Locality("r1", "z1", "s1"));
        assertEquals(io.envoyproxy.envoy.config.core.v3.Locality.newBuilder().setRegion("r1").setZone("z1").setSubZone("s1").build(),
                b.getNode().getLocality());
        assertEquals("sleep-1.default", b.getNode().getCluster());
    }

    @Test
    void anUnknownLocalityIsNone() {
        assertFalse(read(Locality.UNKNOWN).getNode().hasLocality());
    }
}
