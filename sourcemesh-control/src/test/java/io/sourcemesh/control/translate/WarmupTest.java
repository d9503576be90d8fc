package io.sourcemesh.control.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.google.protobuf.util.Durations;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.Golden;
import io.sourcemesh.control.model.MeshModel;
import org.junit.jupiter.api.Test;

/**
 * A DestinationRule's warmup and warmupDurationSecs (topology/dr-warmup.yaml) as Istio's applyRoundRobinLoadBalancer
 * and applyLeastRequestLoadBalancer write them (pilot/pkg/networking/core/cluster_traffic_policy.go, setWarmup and
 * setSlowStartConfig): the cluster's round_robin_lb_config or least_request_lb_config slow_start_config.
 */
class WarmupTest {
    private static final String SLOW = "slow.default.svc.cluster.local";

    private final MeshModel model = MeshModel.of(Fixtures.seed("topology/dr-warmup.yaml"));
    private final ProxyResources r = Translator.create().translate(model, Fixtures.sidecar(model, "sleep"));

    private Cluster cluster(int port, String subset) {
        return r.cluster(Names.outboundCluster(port, subset, SLOW)).orElseThrow();
    }

    @Test
    void warmupIsTheClustersSlowStartConfig() throws Exception {
        Golden.assertMatches("sidecar-dr-warmup", r.toJson());

        Cluster c = cluster(8080, "");
        assertEquals(Cluster.LbPolicy.LEAST_REQUEST, c.getLbPolicy(), "Istio's default");
        Cluster.SlowStartConfig s = c.getLeastRequestLbConfig().getSlowStartConfig();
        assertEquals(Durations.fromSeconds(30), s.getSlowStartWindow());
        assertEquals(2.0, s.getAggression().getDefaultValue());
        assertEquals("(", s.getAggression().getRuntimeKey(), "Istio's key no runtime has");
        assertEquals(5.0, s.getMinWeightPercent().getValue());

        Cluster port = cluster(9090, "");
        assertEquals(Cluster.LbPolicy.ROUND_ROBIN, port.getLbPolicy());
        assertEquals(Cluster.SlowStartConfig.newBuilder().setSlowStartWindow(Durations.fromSeconds(45)).build(),
                port.getRoundRobinLbConfig().getSlowStartConfig(), "warmupDurationSecs: the window alone");

        Cluster random = cluster(8080, "v1");
        assertEquals(Cluster.LbPolicy.RANDOM, random.getLbPolicy());
        assertFalse(random.hasLeastRequestLbConfig() || random.hasRoundRobinLbConfig(), "no slow start under RANDOM");

        Cluster both = cluster(8080, "v2");
        Cluster.SlowStartConfig w = both.getLeastRequestLbConfig().getSlowStartConfig();
        assertEquals(Durations.fromSeconds(15), w.getSlowStartWindow(), "warmup over warmupDurationSecs");
        assertEquals(1.0, w.getAggression().getDefaultValue());
        assertEquals(10.0, w.getMinWeightPercent().getValue());
    }
}
