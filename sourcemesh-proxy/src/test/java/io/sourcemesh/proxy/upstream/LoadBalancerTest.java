package io.sourcemesh.proxy.upstream;

import static org.junit.jupiter.api.Assertions.*;

import io.sourcemesh.proxy.config.ClusterConfig;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every policy's picks: the only host of a one-host cluster, and weighted round robin's order over several. */
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

    @Test
    void noHostNoPick() {
        assertNull(LoadBalancer.create(ClusterConfig.LbPolicy.ROUND_ROBIN, List.of(), ClusterConfig.RingHash.defaults()).choose(null));
    }
}
