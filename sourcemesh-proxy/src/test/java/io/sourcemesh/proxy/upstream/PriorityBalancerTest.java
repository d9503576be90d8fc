package io.sourcemesh.proxy.upstream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.proxy.config.ClusterConfig;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Envoy's per-priority load (load_balancer_impl.cc recalculatePerPriorityState and its panic rules), case by case. */
class PriorityBalancerTest {
    private final List<UpstreamHost> hosts = new ArrayList<>();
    private final Set<UpstreamHost> down = new HashSet<>();

    /** {@code up} healthy and {@code unhealthy} unhealthy hosts of weight 1 in {@code priority}. */
    private void priority(int priority, int up, int unhealthy) {
        for (int i = 0; i < up + unhealthy; i++) {
            UpstreamHost h = host(priority, 1);
            if (i >= up) {
                down.add(h);
            }
        }
    }

    private UpstreamHost host(int priority, int weight) {
        UpstreamHost h = new UpstreamHost(new InetSocketAddress("127.0.0.1", 10000 + hosts.size()), weight,
                UpstreamTransportSocket.RAW_BUFFER, UpstreamHost.INITIAL, priority, ClusterConfig.Locality.NONE, 0);
        hosts.add(h);
        return h;
    }

    private static ClusterConfig config(ClusterConfig.LbPolicy policy, double panicThreshold, ClusterConfig.Priorities priorities) {
        ClusterConfig c = new ClusterConfig("c", ClusterConfig.DiscoveryType.STATIC, policy, List.of(),
                Duration.ofSeconds(1), Optional.empty(), ClusterConfig.RingHash.defaults(), Optional.empty(), 0,
                io.sourcemesh.proxy.config.TransportSocketConfig.RAW_BUFFER, ClusterConfig.CircuitBreakers.DEFAULTS, Optional.empty(),
                panicThreshold);
        return new ClusterConfig(c.name(), c.type(), c.lbPolicy(), c.endpoints(), c.connectTimeout(), c.upstreamBindAddress(),
                c.ringHash(), c.idleTimeout(), c.maxRequestsPerConnection(), c.transportSocket(), c.circuitBreakers(),
                c.outlierDetection(), c.healthyPanicThreshold(), c.maxConnectionDuration(), c.maglevTableSize(), c.tcpKeepalive(),
                c.upstreamHttp(), c.transportSocketMatches(), c.slowStart(), priorities);
    }

    private PriorityBalancer balancer(double panicThreshold, ClusterConfig.Priorities priorities) {
        return PriorityBalancer.of(config(ClusterConfig.LbPolicy.ROUND_ROBIN, panicThreshold, priorities), hosts,
                h -> !down.contains(h));
    }

    private PriorityBalancer balancer() {
        return balancer(50, ClusterConfig.Priorities.DEFAULTS);
    }

    private static List<Integer> loads(PriorityBalancer b, int priorities) {
        List<Integer> out = new ArrayList<>();
        for (int p = 0; p < priorities; p++) {
            out.add(b.load(p));
        }
        return out;
    }

    @Test
    void aHealthyPriorityZeroTakesAll() {
        priority(0, 2, 0);
        priority(1, 1, 0);
        assertEquals(List.of(100, 0), loads(balancer(), 2));
    }

    /**
     * 140 × 1/2 = 70 for priority 0, the 30 left to priority 1; under RING_HASH a request's hash picks the priority by
     * its value mod 100 (one ring per priority, of its healthy hosts), under ROUND_ROBIN a random draw does.
     */
    @Test
    void halfOfPriorityZeroHealthyKeepsSeventyPercent() {
        priority(0, 1, 1);
        priority(1, 1, 0);
        PriorityBalancer b = balancer();
        assertEquals(List.of(70, 30), loads(b, 2));
        PriorityBalancer ring = PriorityBalancer.of(config(ClusterConfig.LbPolicy.RING_HASH, 50, ClusterConfig.Priorities.DEFAULTS),
                hosts, h -> !down.contains(h));
        assertEquals(List.of(70, 30), loads(ring, 2));
        for (long hash = 0; hash < 300; hash++) {
            assertSame(hash % 100 < 70 ? hosts.get(0) : hosts.get(2), ring.choose(true, hash), "hash " + hash);
        }
        int p1 = 0;
        for (int i = 0; i < 1000; i++) {
            p1 += b.choose(true, 1).priority();
        }
        assertTrue(p1 > 200 && p1 < 400, "round robin draws its priority, whatever the hash: " + p1 + " of 1000 to priority 1");
    }

    /** A factor of 100 gives priority 0 its healthy share only: 50. */
    @Test
    void theOverprovisioningFactorScalesHealth() {
        priority(0, 1, 1);
        priority(1, 1, 0);
        assertEquals(List.of(50, 50), loads(balancer(50, new ClusterConfig.Priorities(100, false, false)), 2));
    }

    @Test
    void noHealthyHostInPriorityZeroSendsAllToPriorityOne() {
        priority(0, 0, 2);
        priority(1, 1, 0);
        assertEquals(List.of(0, 100), loads(balancer(), 2));
    }

    /** Healths 28 and 46 sum to 74: normalised 37 and 62, the rounding's 1 to the first healthy priority. */
    @Test
    void healthsUnderOneHundredAreNormalised() {
        priority(0, 1, 4);
        priority(1, 1, 2);
        assertEquals(List.of(38, 62), loads(balancer(10, ClusterConfig.Priorities.DEFAULTS), 3 - 1));
    }

    /** Every priority under the panic threshold: load by host count (1 : 3), over all of each priority's hosts. */
    @Test
    void totalPanicSplitsByHostCount() {
        priority(0, 0, 1);
        priority(1, 0, 3);
        PriorityBalancer b = balancer();
        assertEquals(List.of(25, 75), loads(b, 2));
        assertNotNull(b.choose(false, 0), "panic balances over unhealthy hosts");
    }

    /** Panic threshold 0 with nothing healthy: priority 0 takes the load and finds no host (Envoy's no healthy upstream). */
    @Test
    void withoutPanicAndNothingHealthyThereIsNoHost() {
        priority(0, 0, 1);
        priority(1, 0, 1);
        PriorityBalancer b = balancer(0, ClusterConfig.Priorities.DEFAULTS);
        assertEquals(List.of(100, 0), loads(b, 2));
        assertNull(b.choose(false, 0));
    }

    /** weighted_priority_health: a healthy host of weight 3 beside an unhealthy one of 1 is 140 × 3/4, capped at 100. */
    @Test
    void weightedPriorityHealthCountsWeights() {
        host(0, 3);
        down.add(host(0, 1));
        priority(1, 1, 0);
        assertEquals(List.of(70, 30), loads(balancer(), 2));
        assertEquals(List.of(100, 0), loads(balancer(50, new ClusterConfig.Priorities(140, true, false)), 2));
    }
    private static java.util.BitSet excluding(int... priorities) {
        java.util.BitSet b = new java.util.BitSet();
        for (int p : priorities) {
            b.set(p);
        }
        return b;
    }

    /**
     * A retry under previous_priorities: without priority 0 the others share the load by health, their sum held to 100
     * (here 100 and 28 (140 × 1/5): 100 and 0), else normalised (28 and 46: 38 and 62, rounding's 1 to the first);
     * nothing left with health keeps the cluster's load (Envoy's PreviousPrioritiesRetryPriority).
     */
    @Test
    void aRetrysLoadLeavesTheExcludedPrioritiesOut() {
        priority(0, 2, 0);
        priority(1, 1, 0);
        priority(2, 1, 4);
        PriorityBalancer b = balancer();
        assertEquals(List.of(100, 0, 0), loads(b, 3));
        assertArrayEquals(new int[] {0, 100, 100}, b.without(excluding(0)));
        assertArrayEquals(new int[] {0, 0, 100}, b.without(excluding(0, 1)));
        assertNull(b.without(excluding(0, 1, 2)));
        for (int i = 0; i < 20; i++) {
            assertEquals(1, b.choose(false, 0, excluding(0)).priority());
            assertEquals(0, b.choose(false, 0, excluding(0, 1, 2)).priority(), "all excluded: the cluster's load");
        }
        hosts.clear();
        down.clear();
        priority(0, 1, 0);
        priority(1, 1, 4);
        priority(2, 1, 2);
        assertArrayEquals(new int[] {0, 38, 100}, balancer(10, ClusterConfig.Priorities.DEFAULTS).without(excluding(0)));
    }
    private UpstreamHost host(int priority, String zone, int localityWeight) {
        UpstreamHost h = new UpstreamHost(new InetSocketAddress("127.0.0.1", 10000 + hosts.size()), 1,
                UpstreamTransportSocket.RAW_BUFFER, UpstreamHost.INITIAL, priority, new ClusterConfig.Locality("r", zone, ""),
                localityWeight);
        hosts.add(h);
        return h;
    }

    /** How many of {@code n} hashes (0, 1, ...; keys' xxHash64 when {@code keys}) reach {@code host}. */
    private static int picks(PriorityBalancer b, UpstreamHost host, int n, boolean keys) {
        int count = 0;
        for (int i = 0; i < n; i++) {
            count += b.choose(true, keys ? LoadBalancer.hash("key-" + i) : i) == host ? 1 : 0;
        }
        return count;
    }

    private PriorityBalancer localityWeighted(ClusterConfig.LbPolicy policy) {
        return PriorityBalancer.of(config(policy, 50, new ClusterConfig.Priorities(140, false, true)), hosts, h -> !down.contains(h));
    }

    /**
     * RING_HASH with locality weighting (Envoy's normalizeLocalityWeights): localities weighted 1 and 3 give their one
     * host each a quarter and three quarters of the ring (unweighted: half each); a locality of weight 0 gets none.
     */
    @Test
    void ringHashWeightsItsHostsByTheirLocalitysShare() {
        UpstreamHost light = host(0, "z1", 1);
        UpstreamHost heavy = host(0, "z3", 3);
        UpstreamHost unweighted = host(0, "z0", 0);
        PriorityBalancer b = localityWeighted(ClusterConfig.LbPolicy.RING_HASH);
        int n = 4000;
        int l = picks(b, light, n, true);
        assertTrue(l > 850 && l < 1150, "the weight-1 locality's host took " + l + " of " + n + ", expected about 1000");
        assertEquals(n - l, picks(b, heavy, n, true));
        assertEquals(0, picks(b, unweighted, n, true));
    }

    /**
     * The locality weights are not adjusted for health in a hash table (Envoy's TODO in thread_aware_lb_impl.cc): with
     * one of z1's two hosts down, its other host still takes z1's half — the EDF of the other policies would give z1
     * min(1, 1.4 × 1/2) / 1.7, 41%.
     */
    @Test
    void aHashTablesLocalityWeightsIgnoreHealth() {
        UpstreamHost a1 = host(0, "z1", 1);
        UpstreamHost a2 = host(0, "z1", 1);
        down.add(a2);
        host(0, "z2", 1);
        PriorityBalancer b = localityWeighted(ClusterConfig.LbPolicy.RING_HASH);
        int n = 4000;
        int a = picks(b, a1, n, true);
        assertTrue(a > 1800 && a < 2200, "z1's healthy host took " + a + " of " + n + ", expected about 2000");
        assertEquals(0, picks(b, a2, n, true));
    }

    /** MAGLEV likewise: of the 65537 slots, the weight-1 locality's host holds about a quarter. */
    @Test
    void maglevWeightsItsHostsByTheirLocalitysShare() {
        UpstreamHost light = host(0, "z1", 1);
        host(0, "z3", 3);
        PriorityBalancer b = localityWeighted(ClusterConfig.LbPolicy.MAGLEV);
        int slots = picks(b, light, 65537, false);
        assertTrue(Math.abs(slots - 65537 / 4) < 200, "the weight-1 locality's host holds " + slots + " slots");
    }
}
