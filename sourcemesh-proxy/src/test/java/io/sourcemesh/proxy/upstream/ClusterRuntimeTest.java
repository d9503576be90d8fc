package io.sourcemesh.proxy.upstream;

import io.sourcemesh.l4.SourceBinding;

import static org.junit.jupiter.api.Assertions.*;

import io.netty.channel.ChannelFuture;
import io.netty.channel.embedded.EmbeddedChannel;
import io.sourcemesh.proxy.config.ClusterConfig;
import io.sourcemesh.proxy.stats.Stats;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The per-loop idle pool: what it keeps per connection must not grow with the requests it served. */
class ClusterRuntimeTest {
    private static final InetSocketAddress ORIGIN = new InetSocketAddress("127.0.0.1", 8080);

    private static ClusterRuntime cluster() {
        return cluster(List.of(new ClusterConfig.Endpoint(ORIGIN, 1)));
    }

    private static ClusterRuntime cluster(List<ClusterConfig.Endpoint> endpoints) {
        ClusterConfig config = new ClusterConfig("origin", ClusterConfig.DiscoveryType.STATIC, ClusterConfig.LbPolicy.ROUND_ROBIN,
                endpoints, Duration.ofSeconds(1), Optional.empty(), ClusterConfig.RingHash.defaults(), Optional.empty(), 0);
        return new ClusterRuntime(config, new Stats(), io.sourcemesh.proxy.upstream.UpstreamTransportSocket.RAW_BUFFER);
    }

    /**
     * A changed cluster's hosts keep when they joined, by address, from the runtime it replaces; a host new to it joins
     * then; every host of a cluster's first version is INITIAL (never in slow start).
     */
    @Test
    void hostsKeepWhenTheyJoinedAcrossVersions() {
        InetSocketAddress other = new InetSocketAddress("127.0.0.1", 8081);
        InetSocketAddress added = new InetSocketAddress("127.0.0.1", 8082);
        ClusterRuntime first = cluster(List.of(new ClusterConfig.Endpoint(ORIGIN, 1), new ClusterConfig.Endpoint(other, 1)));
        first.hosts().forEach(h -> assertEquals(UpstreamHost.INITIAL, h.joinedNanos(), h.toString()));
        long before = System.nanoTime();
        ClusterRuntime second = new ClusterRuntime(new ClusterConfig("origin", ClusterConfig.DiscoveryType.STATIC,
                ClusterConfig.LbPolicy.ROUND_ROBIN, List.of(new ClusterConfig.Endpoint(ORIGIN, 1), new ClusterConfig.Endpoint(added, 1)),
                Duration.ofSeconds(1), Optional.empty(), ClusterConfig.RingHash.defaults(), Optional.empty(), 0), new Stats(),
                UpstreamTransportSocket.RAW_BUFFER, List.of(), first);
        List<UpstreamHost> hosts = List.copyOf(second.hosts());
        assertEquals(UpstreamHost.INITIAL, hosts.get(0).joinedNanos(), "kept from the first version");
        assertNotEquals(UpstreamHost.INITIAL, hosts.get(1).joinedNanos(), "joined with the second version");
        assertTrue(hosts.get(1).joinedNanos() - before >= 0, "joined with the second version");
        ClusterRuntime third = new ClusterRuntime(second.config(), new Stats(), UpstreamTransportSocket.RAW_BUFFER, List.of(), second);
        assertEquals(hosts.get(1).joinedNanos(), List.copyOf(third.hosts()).get(1).joinedNanos(), "carried on");
    }

    /** A channel whose close future counts the listeners added to it. */
    private static final class CountingChannel extends EmbeddedChannel {
        final AtomicInteger closeListeners = new AtomicInteger();
        private ChannelFuture counted;

        @Override
        public ChannelFuture closeFuture() {
            if (counted == null) {
                ChannelFuture real = super.closeFuture();
                counted = (ChannelFuture) Proxy.newProxyInstance(ChannelFuture.class.getClassLoader(),
                        new Class<?>[] {ChannelFuture.class}, (proxy, method, args) -> {
                            if (method.getName().equals("addListener")) {
                                closeListeners.incrementAndGet();
                            }
                            try {
                                Object result = method.invoke(real, args);
                                return result == real ? proxy : result;
                            } catch (InvocationTargetException e) {
                                throw e.getCause();
                            }
                        });
            }
            return counted;
        }
    }

    @Test
    void aConnectionPooledForManyRequestsIsWatchedOnce() {
        ClusterRuntime cluster = cluster();
        UpstreamHost host = cluster.choose(null, null).orElseThrow();
        CountingChannel ch = new CountingChannel();
        for (int request = 0; request < 10_000; request++) {
            cluster.release(ch, host, SourceBinding.NONE);
            assertSame(ch, cluster.pollIdle(host, SourceBinding.NONE), "request " + request + " reuses the pooled connection");
        }
        assertEquals(1, ch.closeListeners.get(), "one close listener for the connection's life, not one per request");
        ch.close();
    }

    @Test
    void anIdleConnectionClosedByTheUpstreamLeavesThePool() {
        ClusterRuntime cluster = cluster();
        UpstreamHost host = cluster.choose(null, null).orElseThrow();
        CountingChannel kept = new CountingChannel();
        CountingChannel closed = new CountingChannel();
        for (int i = 0; i < 3; i++) {
            cluster.release(kept, host, SourceBinding.NONE);
            cluster.release(closed, host, SourceBinding.NONE);
            assertSame(closed, cluster.pollIdle(host, SourceBinding.NONE));
            assertSame(kept, cluster.pollIdle(host, SourceBinding.NONE));
        }
        cluster.release(kept, host, SourceBinding.NONE);
        cluster.release(closed, host, SourceBinding.NONE);
        closed.close();
        assertSame(kept, cluster.pollIdle(host, SourceBinding.NONE), "the closed connection is never handed out");
        assertNull(cluster.pollIdle(host, SourceBinding.NONE));
        assertEquals(1, kept.closeListeners.get());
        assertEquals(1, closed.closeListeners.get());
        kept.close();
    }

    @Test
    void aConnectionIsOnlyReusedForItsOwnHost() {
        ClusterRuntime cluster = cluster(List.of(new ClusterConfig.Endpoint(ORIGIN, 1),
                new ClusterConfig.Endpoint(new InetSocketAddress("127.0.0.2", 8080), 1)));
        UpstreamHost a = cluster.choose(null, null).orElseThrow();
        UpstreamHost b = cluster.choose(null, null).orElseThrow();
        assertNotSame(a, b);
        CountingChannel toA = new CountingChannel();
        CountingChannel toB = new CountingChannel();
        cluster.release(toA, a, SourceBinding.NONE);
        assertNull(cluster.pollIdle(b, SourceBinding.NONE), "host b has no idle connection of its own");
        cluster.release(toB, b, SourceBinding.NONE);
        assertSame(toA, cluster.pollIdle(a, SourceBinding.NONE)); // asked right after b's: the pool's last host changes
        assertNull(cluster.pollIdle(a, SourceBinding.NONE));
        assertSame(toB, cluster.pollIdle(b, SourceBinding.NONE));
        toA.close();
        toB.close();
    }

    @Test
    void aConnectionIsOnlyReusedForItsOwnSourceBinding() {
        ClusterRuntime cluster = cluster();
        UpstreamHost host = cluster.choose(null, null).orElseThrow();
        CountingChannel ch = new CountingChannel();
        SourceBinding bound = SourceBinding.fixed(new InetSocketAddress("127.0.0.6", 0));
        cluster.release(ch, host, bound);
        assertNull(cluster.pollIdle(host, SourceBinding.NONE));
        assertSame(ch, cluster.pollIdle(host, bound));
        ch.close();
    }

    /**
     * A MAGLEV cluster balances over the hosts outlier detection has not ejected with a table of those hosts, as Envoy's
     * ThreadAwareLoadBalancerBase::refresh builds it from the healthy hosts (source/common/upstream/thread_aware_lb_impl.cc):
     * the ejected host's keys go elsewhere, the table is the one Envoy builds over the rest, and most keys stay.
     */
    @Test
    void maglevBalancesOverTheHostsNotEjected() {
        List<ClusterConfig.Endpoint> endpoints = java.util.stream.IntStream.rangeClosed(9001, 9005)
                .mapToObj(p -> new ClusterConfig.Endpoint(new InetSocketAddress("127.0.0.1", p), 1)).toList();
        ClusterConfig config = new ClusterConfig("origin", ClusterConfig.DiscoveryType.STATIC, ClusterConfig.LbPolicy.MAGLEV,
                endpoints, Duration.ofSeconds(1), Optional.empty(), ClusterConfig.RingHash.defaults(), Optional.empty(), 0,
                io.sourcemesh.proxy.config.TransportSocketConfig.RAW_BUFFER, ClusterConfig.CircuitBreakers.DEFAULTS,
                Optional.of(new ClusterConfig.OutlierDetection(1, 100, 5, 0, Duration.ofSeconds(10), Duration.ofSeconds(30),
                        Duration.ofSeconds(300), 100)), 0, Optional.empty(), 101);
        ClusterRuntime cluster = new ClusterRuntime(config, new Stats(), UpstreamTransportSocket.RAW_BUFFER);
        List<UpstreamHost> hosts = List.copyOf(cluster.hosts());
        MaglevTable all = MaglevTable.of(hosts, 101);
        for (int k = 0; k < 200; k++) {
            assertSame(all.choose("user-" + k), cluster.choose("user-" + k, null).orElseThrow(), "the table of size 101");
        }
        UpstreamHost ejected = hosts.get(2);
        cluster.outlierResult(ejected, 503);
        assertTrue(cluster.ejected(ejected));
        MaglevTable rest = MaglevTable.of(hosts.stream().filter(h -> h != ejected).toList(), 101);
        int stayed = 0;
        int others = 0;
        for (int k = 0; k < 200; k++) {
            UpstreamHost now = cluster.choose("user-" + k, null).orElseThrow();
            assertSame(rest.choose("user-" + k), now);
            assertNotSame(ejected, now);
            if (all.choose("user-" + k) != ejected) {
                others++;
                stayed += all.choose("user-" + k) == now ? 1 : 0;
            }
        }
        assertTrue(stayed >= others * 0.8, stayed + " of " + others + " keys kept their host");
    }

    private static com.google.protobuf.Value text(String s) {
        return com.google.protobuf.Value.newBuilder().setStringValue(s).build();
    }

    /**
     * Envoy's TransportSocketMatcherImpl::resolve: every match against the endpoint's metadata first (the first that
     * holds wins), then against the locality's, else the cluster's own socket; an ORIGINAL_DST host has no metadata, so
     * only an empty match takes it. Each match counts the hosts it chose.
     */
    @Test
    void eachHostGetsTheSocketOfItsFirstMatch() {
        UpstreamTransportSocket first = UpstreamTransportSocket.proxyProtocol(1, UpstreamTransportSocket.RAW_BUFFER);
        UpstreamTransportSocket second = UpstreamTransportSocket.proxyProtocol(2, UpstreamTransportSocket.RAW_BUFFER);
        List<ClusterConfig.TransportSocketMatch> matches = List.of(
                new ClusterConfig.TransportSocketMatch("istio", java.util.Map.of("tlsMode", text("istio")),
                        io.sourcemesh.proxy.config.TransportSocketConfig.RAW_BUFFER),
                new ClusterConfig.TransportSocketMatch("zone", java.util.Map.of("zone", text("a")),
                        io.sourcemesh.proxy.config.TransportSocketConfig.RAW_BUFFER));
        List<ClusterConfig.Endpoint> endpoints = List.of(
                new ClusterConfig.Endpoint(new InetSocketAddress("127.0.0.1", 1), 1,
                        java.util.Map.of("tlsMode", text("istio"), "zone", text("a")), java.util.Map.of()),
                new ClusterConfig.Endpoint(new InetSocketAddress("127.0.0.1", 2), 1,
                        java.util.Map.of("tlsMode", text("disabled")), java.util.Map.of("zone", text("a"), "tlsMode", text("istio"))),
                new ClusterConfig.Endpoint(new InetSocketAddress("127.0.0.1", 3), 1,
                        java.util.Map.of("tlsMode", text("disabled")), java.util.Map.of("zone", text("b"))));
        ClusterConfig config = new ClusterConfig("origin", ClusterConfig.DiscoveryType.STATIC, ClusterConfig.LbPolicy.ROUND_ROBIN,
                endpoints, Duration.ofSeconds(1), Optional.empty(), ClusterConfig.RingHash.defaults(), Optional.empty(), 0,
                io.sourcemesh.proxy.config.TransportSocketConfig.RAW_BUFFER, ClusterConfig.CircuitBreakers.DEFAULTS, Optional.empty(),
                50, Optional.empty(), ClusterConfig.DEFAULT_MAGLEV_TABLE_SIZE, Optional.empty(), ClusterConfig.UpstreamHttp.HTTP1, matches);
        Stats stats = new Stats();
        ClusterRuntime c = new ClusterRuntime(config, stats, UpstreamTransportSocket.RAW_BUFFER, List.of(first, second));
        List<UpstreamHost> hosts = List.copyOf(c.hosts());
        assertSame(first, hosts.get(0).transportSocket(), "the endpoint's metadata holds both: the first match wins");
        assertSame(first, hosts.get(1).transportSocket(), "no match for the endpoint's; the locality's holds the first");
        assertSame(UpstreamTransportSocket.RAW_BUFFER, hosts.get(2).transportSocket(), "neither: the cluster's own socket");
        assertEquals(2, stats.counters().get("cluster.origin.istio.total_match_count"));
        assertEquals(0, stats.counters().get("cluster.origin.zone.total_match_count"));
        assertThrows(IllegalArgumentException.class, () -> new ClusterRuntime(config, new Stats(), UpstreamTransportSocket.RAW_BUFFER));

        ClusterConfig passthrough = new ClusterConfig("dst", ClusterConfig.DiscoveryType.ORIGINAL_DST,
                ClusterConfig.LbPolicy.CLUSTER_PROVIDED, List.of(), Duration.ofSeconds(1), Optional.empty(),
                ClusterConfig.RingHash.defaults(), Optional.empty(), 0, io.sourcemesh.proxy.config.TransportSocketConfig.RAW_BUFFER,
                ClusterConfig.CircuitBreakers.DEFAULTS, Optional.empty(), 50, Optional.empty(), ClusterConfig.DEFAULT_MAGLEV_TABLE_SIZE,
                Optional.empty(), ClusterConfig.UpstreamHttp.HTTP1, List.of(matches.get(0),
                        new ClusterConfig.TransportSocketMatch("any", java.util.Map.of(),
                                io.sourcemesh.proxy.config.TransportSocketConfig.RAW_BUFFER)));
        ClusterRuntime dst = new ClusterRuntime(passthrough, new Stats(), UpstreamTransportSocket.RAW_BUFFER, List.of(first, second));
        assertSame(second, dst.choose(false, 0, ORIGIN).orElseThrow().transportSocket(), "no metadata: only the empty match");
    }
}
