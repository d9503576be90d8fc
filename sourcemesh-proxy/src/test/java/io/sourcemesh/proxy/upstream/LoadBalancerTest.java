package io.sourcemesh.proxy.upstream;

import static org.junit.jupiter.api.Assertions.*;

import io.sourcemesh.proxy.config.ClusterConfig;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every policy's picks: the only host of a one-host cluster, weighted round robin's order and least request's weights. */
class LoadBalancerTest {
    private static UpstreamHost host(int port, int weight) {
        return new UpstreamHost(new InetSocketAddress("127.0.0.1", port), weight);
    }

    @Test
    void everyPolicyPicksTheOnlyHost() {
        UpstreamHost only = host(8080, 3);
        for (ClusterConfig.LbPolicy policy : ClusterConfig.LbPolicy.values()) {
            LoadBalancer lb = LoadBalancer.create(policy, List.of(only), ClusterConfig.RingHash.defaults());
            for (int i = 0; i < 10; i++) {
                assertSame(only, lb.choose(i % 2 == 0 ? null : "key" + i), policy.name());
            }
        }
    }

    @Test
    void roundRobinFollowsTheWeights() {
        UpstreamHost a = host(1, 2);
        UpstreamHost b = host(2, 1);
        LoadBalancer lb = LoadBalancer.create(ClusterConfig.LbPolicy.ROUND_ROBIN, List.of(a, b), ClusterConfig.RingHash.defaults());
        Map<UpstreamHost, Integer> picks = new HashMap<>();
        for (int i = 0; i < 30; i++) {
            picks.merge(lb.choose(null), 1, Integer::sum);
        }
        assertEquals(20, picks.get(a));
        assertEquals(10, picks.get(b));
    }

    /**
     * Envoy's least request with unequal weights: its EDF schedule over weight / (active requests + 1). Idle hosts of
     * weights 1 and 3 share 400 picks as 100 and 300 (power of two choices would give about half each); a busy heavy host
     * loses its share to the light one.
     */
    @Test
    void leastRequestFollowsUnequalWeights() {
        UpstreamHost light = host(1, 1);
        UpstreamHost heavy = host(2, 3);
        LoadBalancer lb = LoadBalancer.create(ClusterConfig.LbPolicy.LEAST_REQUEST, List.of(light, heavy),
                ClusterConfig.RingHash.defaults());
        Map<UpstreamHost, Integer> picks = new HashMap<>();
        for (int i = 0; i < 400; i++) {
            picks.merge(lb.choose(null), 1, Integer::sum);
        }
        assertEquals(100, picks.get(light), picks.toString());
        assertEquals(300, picks.get(heavy), picks.toString());

        for (int i = 0; i < 8; i++) {
            heavy.requestStarted(); // 8 in flight: 3 / 9 against 1 / 1
        }
        picks.clear();
        for (int i = 0; i < 400; i++) {
            picks.merge(lb.choose(null), 1, Integer::sum);
        }
        assertTrue(picks.get(light) > 250, picks.toString());
    }

    @Test
    void noHostNoPick() {
        assertNull(LoadBalancer.create(ClusterConfig.LbPolicy.ROUND_ROBIN, List.of(), ClusterConfig.RingHash.defaults()).choose(null));
    }
}
