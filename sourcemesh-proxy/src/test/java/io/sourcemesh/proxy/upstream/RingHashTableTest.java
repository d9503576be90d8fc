package io.sourcemesh.proxy.upstream;

import static org.junit.jupiter.api.Assertions.*;

import io.sourcemesh.proxy.config.ClusterConfig;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The ring as Envoy builds and reads it: the positions below are those Envoy's own test lists for the same hosts
 * (test/extensions/load_balancing_policies/ring_hash/ring_hash_lb_test.cc, RingHashLoadBalancerTest.Basic).
 */
class RingHashTableTest {
    private static UpstreamHost host(String ip, int port, int weight) {
        return new UpstreamHost(new InetSocketAddress(ip, port), weight);
    }

    private static List<UpstreamHost> ports90to95() {
        List<UpstreamHost> hosts = new ArrayList<>();
        for (int port = 90; port <= 95; port++) {
            hosts.add(host("127.0.0.1", port, 1));
        }
        return hosts;
    }

    @Test
    void envoysRingForSixHostsAtMinimumSizeTwelve() {
        List<UpstreamHost> hosts = ports90to95();
        RingHashTable ring = RingHashTable.of(hosts, new ClusterConfig.RingHash(12, 8 * 1024 * 1024));
        assertEquals(12, ring.size());
        // Envoy's listing: port, position (ascending).
        long[][] envoy = {
            {94, 833437586790550860L}, {92, 928266305478181108L}, {90, 1033482794131418490L},
            {95, 3551244743356806947L}, {93, 3851675632748031481L}, {91, 5583722120771150861L},
            {91, 6311230543546372928L}, {93, 7700377290971790572L}, {95, Long.parseUnsignedLong("13144177310400110813")},
            {92, Long.parseUnsignedLong("13444792449719432967")}, {94, Long.parseUnsignedLong("15516499411664133160")},
            {90, Long.parseUnsignedLong("16117243373044804889")}};
        for (int i = 0; i < envoy.length; i++) {
            long position = envoy[i][1];
            assertEquals(envoy[i][0], ring.choose(position).address().getPort(), "the entry at " + Long.toUnsignedString(position));
            long next = envoy[(i + 1) % envoy.length][0];
            assertEquals(next, ring.choose(position + 1).address().getPort(), "just past " + Long.toUnsignedString(position));
        }
        // Envoy's own picks in that test: 0 and 2^64-1 wrap to :94; 3551244743356806948 is :93's.
        assertEquals(94, ring.choose(0L).address().getPort());
        assertEquals(94, ring.choose(-1L).address().getPort());
        assertEquals(93, ring.choose(3551244743356806948L).address().getPort());
    }

    @Test
    void aRequestKeyIsHashedWithXxHash64() {
        RingHashTable ring = RingHashTable.of(ports90to95(), new ClusterConfig.RingHash(12, 8 * 1024 * 1024));
        for (String key : List.of("alice", "bob", "10.0.0.7", "session=42")) {
            assertSame(ring.choose(XxHash64.hash(key.getBytes(StandardCharsets.UTF_8))), ring.choose(key), key);
        }
    }

    /** ring_hash_lb_config's sizes: the lightest host gets a whole number of entries; maximum_ring_size caps the scale. */
    @Test
    void minimumRingSizeDecidesTheEntriesSplitByWeight() {
        List<UpstreamHost> hosts = List.of(host("127.0.0.1", 1, 1), host("127.0.0.1", 2, 1), host("127.0.0.1", 3, 2));
        assertEquals(4096, RingHashTable.of(hosts, new ClusterConfig.RingHash(4096, 8 * 1024 * 1024)).size());
        assertEquals(1024, RingHashTable.of(hosts, ClusterConfig.RingHash.defaults()).size());
        assertEquals(8, RingHashTable.of(hosts, new ClusterConfig.RingHash(4096, 8)).size(), "maximum_ring_size caps it");
        // Three equal hosts at 1024: each gets ceil(1024 / 3) = 342 entries, 1026 in all (Envoy's scale).
        List<UpstreamHost> three = List.of(host("127.0.0.1", 1, 1), host("127.0.0.1", 2, 1), host("127.0.0.1", 3, 1));
        RingHashTable ring = RingHashTable.of(three, ClusterConfig.RingHash.defaults());
        assertEquals(1026, ring.size());
        Map<Integer, Integer> share = new HashMap<>();
        RingHashTable weighted = RingHashTable.of(hosts, new ClusterConfig.RingHash(4096, 8 * 1024 * 1024));
        for (int k = 0; k < 20_000; k++) {
            share.merge(weighted.choose("user-" + k).address().getPort(), 1, Integer::sum);
        }
        assertTrue(share.get(3) > share.get(1) * 1.6 && share.get(3) > share.get(2) * 1.6, "weight 2 takes about half: " + share);
    }

    @Test
    void anIpv6HostIsKeyedAsEnvoyPrintsIt() {
        // Envoy keys "[::1]:8080_0", "[::1]:8080_1", ...: one host's entries are the xxHash64 of those keys.
        RingHashTable ring = RingHashTable.of(List.of(host("::1", 8080, 1), host("::1", 8081, 1)),
                new ClusterConfig.RingHash(4, 8 * 1024 * 1024));
        for (int i = 0; i < 2; i++) {
            long position = XxHash64.hash(("[::1]:8080_" + i).getBytes(StandardCharsets.UTF_8));
            assertEquals(8080, ring.choose(position).address().getPort(), "entry " + i);
        }
    }

    @Test
    void oneKeyOneHost() {
        RingHashTable ring = RingHashTable.of(ports90to95(), ClusterConfig.RingHash.defaults());
        for (int k = 0; k < 50; k++) {
            assertSame(ring.choose("user-" + k), ring.choose("user-" + k));
        }
    }
}
