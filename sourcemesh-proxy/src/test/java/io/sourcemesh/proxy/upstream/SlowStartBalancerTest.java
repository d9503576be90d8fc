package io.sourcemesh.proxy.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.proxy.config.ClusterConfig;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Envoy's slow start against Envoy's own expectations (test/extensions/load_balancing_policies/round_robin/
 * round_robin_lb_test.cc and least_request/least_request_lb_test.cc, the SlowStart tests): the factor, and the pick
 * sequences of a scheduler built ("refreshed") at a given time with one host of the first version and one that joined
 * later. A balancer made at a point in time here is Envoy's runCallbacks there: a fresh schedule.
 */
class SlowStartBalancerTest {
    private static final long S = TimeUnit.SECONDS.toNanos(1);

    private long now = 1_000 * S;

    private static UpstreamHost host(int port, long joined) {
        return new UpstreamHost(new InetSocketAddress("127.0.0.1", port), 1, UpstreamTransportSocket.RAW_BUFFER, joined);
    }

    private static ClusterConfig.SlowStart window(int seconds, double aggression, double minPercent) {
        return new ClusterConfig.SlowStart(Duration.ofSeconds(seconds), aggression, minPercent);
    }

    private LoadBalancer balancer(ClusterConfig.LbPolicy policy, List<UpstreamHost> hosts, ClusterConfig.SlowStart s) {
        LoadBalancer plain = LoadBalancer.create(policy, hosts, ClusterConfig.RingHash.defaults(), 65537);
        return SlowStartBalancer.of(plain, hosts, s, policy == ClusterConfig.LbPolicy.LEAST_REQUEST, () -> now);
    }

    private static List<Integer> picks(LoadBalancer lb, List<UpstreamHost> hosts, int n) {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(hosts.indexOf(lb.choose(false, 0)));
        }
        return out;
    }

    @Test
    void theFactorIsEnvoysTimeBias() {
        // max(min, (max(1ms, t) / window) ^ (1 / aggression)), Envoy's figures in its tests' comments.
        assertEquals(0.2, SlowStartBalancer.factor(12_000, 60_000, 1.0, 0.1), 1e-12);
        assertEquals(20.0 / 60, SlowStartBalancer.factor(20_000, 60_000, 1.0, 0.1), 1e-12);
        assertEquals(0.35, SlowStartBalancer.factor(12_000, 60_000, 1.0, 0.35), 1e-12);
        assertEquals(0.1, SlowStartBalancer.factor(0, 60_000, 2.0, 0.1), 1e-12, "1ms in: max((1/60000)^0.5, 0.1)");
        assertEquals(Math.sqrt(0.1), SlowStartBalancer.factor(6_000, 60_000, 2.0, 0.1), 1e-12);
        assertEquals(0.93, SlowStartBalancer.factor(9_000, 10_000, 1.5, 0.1), 0.005);
        assertEquals(0.5, SlowStartBalancer.factor(5_000, 10_000, 1.0, 0.1), 1e-12);
        assertEquals(0.0, SlowStartBalancer.factor(0, 10_000, 1.0, 0), 1e-3, "no floor: 1ms of 10s");
    }

    /** RoundRobinLoadBalancerTest.SlowStartWithDefaultParams' sequences (60s window, Envoy's defaults). */
    @Test
    void roundRobinWithEnvoysDefaults() {
        long joined = now;
        List<UpstreamHost> hosts = List.of(host(80, UpstreamHost.INITIAL), host(90, joined));
        ClusterConfig.SlowStart s = window(60, 1.0, 10);
        now = joined + 12 * S; // factor 0.2: 4:1
        assertEquals(List.of(0, 0, 0, 0, 1), picks(balancer(ClusterConfig.LbPolicy.ROUND_ROBIN, hosts, s), hosts, 5));
        now = joined + 20 * S; // factor 1/3: 2:1
        assertEquals(List.of(0, 0, 1), picks(balancer(ClusterConfig.LbPolicy.ROUND_ROBIN, hosts, s), hosts, 3));
        now = joined + 65 * S; // out of slow start: 1:1, the plain balancer itself
        LoadBalancer after = balancer(ClusterConfig.LbPolicy.ROUND_ROBIN, hosts, s);
        assertEquals(List.of(0, 1, 0, 1), picks(after, hosts, 4));
        assertEquals(LoadBalancer.RoundRobin.class, after.getClass());
    }

    /** SlowStartNoWaitMinWeightPercent35: the floor 35% over the time factor 0.2, 5:2. */
    @Test
    void roundRobinWithAMinimumWeightPercent() {
        long joined = now;
        List<UpstreamHost> hosts = List.of(host(80, UpstreamHost.INITIAL), host(90, joined));
        now = joined + 12 * S;
        assertEquals(List.of(0, 0, 1, 0, 0, 0, 1),
                picks(balancer(ClusterConfig.LbPolicy.ROUND_ROBIN, hosts, window(60, 1.0, 35)), hosts, 7));
    }

    /** SlowStartNoWaitNonLinearAggression: aggression 2, 3:1 at 6s and 5:3 at 26s. */
    @Test
    void roundRobinWithAggression() {
        long joined = now;
        List<UpstreamHost> hosts = List.of(host(80, UpstreamHost.INITIAL), host(90, joined));
        ClusterConfig.SlowStart s = window(60, 2.0, 10);
        now = joined + 6 * S;
        assertEquals(List.of(0, 0, 0, 1), picks(balancer(ClusterConfig.LbPolicy.ROUND_ROBIN, hosts, s), hosts, 4));
        now = joined + 26 * S;
        assertEquals(List.of(0, 1, 0, 0, 1, 0, 1, 0),
                picks(balancer(ClusterConfig.LbPolicy.ROUND_ROBIN, hosts, s), hosts, 8));
    }

    /**
     * LeastRequestLoadBalancerTest.SlowStartNoWait: host 1 has a request active (weight 1 / 2 from the pick after the
     * schedule was built), host 2 is 10s then 40s into 60s.
     */
    @Test
    void leastRequestScalesTheActiveRequestWeight() {
        long joined = now;
        List<UpstreamHost> hosts = List.of(host(80, UpstreamHost.INITIAL), host(90, joined));
        ClusterConfig.SlowStart s = window(60, 1.0, 10);
        now = joined + 10 * S;
        LoadBalancer lb = balancer(ClusterConfig.LbPolicy.LEAST_REQUEST, hosts, s);
        hosts.get(0).requestStarted();
        assertEquals(List.of(0, 0, 0, 1), picks(lb, hosts, 4));
        now = joined + 40 * S;
        assertEquals(List.of(1, 0, 1, 0, 1, 0, 1),
                picks(balancer(ClusterConfig.LbPolicy.LEAST_REQUEST, hosts, s), hosts, 7));
    }

    /** SlowStartWithActiveHC's last figures: host 2 5s into 10s, 2:1. */
    @Test
    void leastRequestHalfWayThroughTheWindow() {
        long joined = now;
        List<UpstreamHost> hosts = List.of(host(80, UpstreamHost.INITIAL), host(90, joined));
        now = joined + 5 * S;
        assertEquals(List.of(0, 1, 0, 0, 1, 0),
                picks(balancer(ClusterConfig.LbPolicy.LEAST_REQUEST, hosts, window(10, 1.0, 10)), hosts, 6));
    }

    @Test
    void noHostInSlowStartIsThePlainBalancer() {
        List<UpstreamHost> first = List.of(host(80, UpstreamHost.INITIAL), host(90, UpstreamHost.INITIAL));
        LoadBalancer lb = balancer(ClusterConfig.LbPolicy.ROUND_ROBIN, first, window(60, 1.0, 10));
        assertEquals(LoadBalancer.RoundRobin.class, lb.getClass(), "no host joined after the first version");
        List<UpstreamHost> joined = List.of(host(80, UpstreamHost.INITIAL), host(90, now));
        assertEquals(LoadBalancer.LeastRequest.class,
                balancer(ClusterConfig.LbPolicy.LEAST_REQUEST, joined, ClusterConfig.SlowStart.NONE).getClass(), "no window");
    }

    @Test
    void everyHostInItsWindowIsPlainRoundRobinUntilOneLeavesIt() {
        long joined = now;
        // All joined later (the cluster's first version had none): alike new, plain 1:1 while all are in slow start.
        List<UpstreamHost> hosts = List.of(host(80, joined), host(90, joined + 30 * S));
        now = joined + 31 * S;
        LoadBalancer lb = balancer(ClusterConfig.LbPolicy.ROUND_ROBIN, hosts, window(60, 1.0, 10));
        assertNotSame(LoadBalancer.RoundRobin.class, lb.getClass());
        assertEquals(List.of(0, 1, 0, 1), picks(lb, hosts, 4));
        // Host 0 left its window at 60s; host 1 is 32s into it (factor 0.53): weighted now.
        now = joined + 62 * S;
        List<Integer> weighted = picks(lb, hosts, 40);
        long ones = weighted.stream().filter(i -> i == 1).count();
        assertTrue(ones >= 10 && ones <= 17, weighted.toString());
        // Past every window: plain again, for good.
        now = joined + 91 * S;
        List<Integer> plain = picks(lb, hosts, 10);
        assertEquals(5, plain.stream().filter(i -> i == 1).count(), plain.toString());
    }

    @Test
    void otherPoliciesHaveNoSlowStart() {
        List<UpstreamHost> hosts = List.of(host(80, UpstreamHost.INITIAL), host(90, now));
        assertSame(LoadBalancer.Random.class, LoadBalancer.create(ClusterConfig.LbPolicy.RANDOM, hosts,
                ClusterConfig.RingHash.defaults(), 65537, window(60, 1.0, 10)).getClass());
    }
}
