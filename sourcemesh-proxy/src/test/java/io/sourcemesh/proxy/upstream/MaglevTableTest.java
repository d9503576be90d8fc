package io.sourcemesh.proxy.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.proxy.config.ClusterConfig;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * The Maglev table as Envoy builds it: the tables of Envoy's own tests
 * (test/extensions/load_balancing_policies/maglev/maglev_lb_test.cc: Basic, BasicWithHostName, Weighted, BasicStability)
 * slot by slot, which only the same host keys, xxHash64 seeds, sort and weighted filling give; then the Maglev
 * properties at the default size: equal shares, weighted shares, and few keys moved when a host leaves.
 */
class MaglevTableTest {
    private static UpstreamHost host(int port, int weight) {
        return new UpstreamHost(new InetSocketAddress("127.0.0.1", port), weight);
    }

    private static List<UpstreamHost> hosts(int from, int to) {
        return IntStream.rangeClosed(from, to).mapToObj(p -> host(p, 1)).toList();
    }

    /** Slot i of the table is what hash i picks: table[hash % size]. */
    private static void assertTable(List<UpstreamHost> hosts, int[] expected, MaglevTable table) {
        assertEquals(expected.length, table.size());
        for (int i = 0; i < 3 * expected.length; i++) {
            assertSame(hosts.get(expected[i % expected.length]), table.choose((long) i), "hash " + i);
        }
    }

    @Test
    void envoysBasicTable() {
        List<UpstreamHost> hosts = hosts(90, 95);
        MaglevTable table = MaglevTable.of(hosts, 7);
        assertTable(hosts, new int[] {2, 4, 0, 1, 5, 0, 3}, table);
        IntSummary entries = IntSummary.of(table, hosts.size());
        assertEquals(1, entries.min);
        assertEquals(2, entries.max);
    }

    /** use_hostname_for_hashing's keys: the table follows the key, not the address. */
    @Test
    void envoysHostnameTable() {
        List<UpstreamHost> hosts = hosts(90, 95);
        List<String> names = List.of("90", "91", "92", "93", "94", "95");
        assertTable(hosts, new int[] {2, 5, 0, 3, 4, 1, 0}, MaglevTable.of(hosts, names, 7));
    }

    @Test
    void envoysWeightedTable() {
        List<UpstreamHost> hosts = List.of(host(90, 1), host(91, 2));
        MaglevTable table = MaglevTable.of(hosts, 17);
        assertTable(hosts, new int[] {1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 0, 1}, table);
        assertEquals(6, table.entries(0));
        assertEquals(11, table.entries(1));
    }

    /** The hosts are sorted by key before filling: the order the endpoints came in changes nothing. */
    @Test
    void theEndpointsOrderDoesNotMatter() {
        List<UpstreamHost> hosts = new ArrayList<>(hosts(90, 95));
        Collections.shuffle(hosts, new Random(7));
        List<UpstreamHost> sorted = hosts.stream().sorted((a, b) -> a.address().getPort() - b.address().getPort()).toList();
        assertTable(sorted, new int[] {2, 4, 0, 1, 5, 0, 3}, MaglevTable.of(hosts, 7));
    }

    /** The host key is Envoy's Address::asString: IPv6 in brackets, inet_ntop's compressed form. */
    @Test
    void hostKeysAreEnvoysAddressStrings() {
        assertEquals("127.0.0.1:90", UpstreamHost.hashKey(new InetSocketAddress("127.0.0.1", 90)));
        assertEquals("[::1]:8080", UpstreamHost.hashKey(new InetSocketAddress("::1", 8080)));
        assertEquals("[fd00::a:1]:80", UpstreamHost.hashKey(new InetSocketAddress("fd00:0:0:0:0:0:a:1", 80)));
    }

    /** A request's key is hashed as Envoy's hash policies hash a header or cookie value: xxHash64, seed 0. */
    @Test
    void aKeyIsHashedWithXxHash64() {
        List<UpstreamHost> hosts = hosts(90, 95);
        MaglevTable table = MaglevTable.of(hosts, 7);
        for (String key : List.of("foo", "bar", "lyft", "user-1", "user-2", "user-3", "user-4")) {
            assertSame(table.choose(XxHash64.hash(key.getBytes(StandardCharsets.UTF_8))), table.choose(key), key);
        }
        // xxHash64("foo") = 3728699739546630719 (Envoy's hash_test.cc), mod 7 = 3: slot 3 is 127.0.0.1:91.
        assertSame(hosts.get(1), table.choose("foo"));
    }

    /** Equal weights: every host takes a slot each round, so the shares differ by at most one slot. */
    @Test
    void equalWeightsShareTheTableEvenly() {
        List<UpstreamHost> hosts = hosts(9000, 9009);
        MaglevTable table = MaglevTable.of(hosts, ClusterConfig.DEFAULT_MAGLEV_TABLE_SIZE);
        assertEquals(65537, table.size());
        IntSummary entries = IntSummary.of(table, hosts.size());
        assertEquals(6553, entries.min);
        assertEquals(6554, entries.max);
        assertEquals(65537, entries.sum);
    }

    /** Weights 1:2:3 (normalised, the heaviest placed every round) give the table in those shares. */
    @Test
    void weightsSplitTheTable() {
        List<UpstreamHost> hosts = List.of(host(9000, 1), host(9001, 2), host(9002, 3));
        MaglevTable table = MaglevTable.of(hosts, ClusterConfig.DEFAULT_MAGLEV_TABLE_SIZE);
        for (int i = 0; i < 3; i++) {
            double share = (double) table.entries(i) / table.size();
            assertEquals((i + 1) / 6.0, share, 0.001, "host " + i + " holds " + table.entries(i));
        }
        // What a request sees: 60,000 random hashes land in about the same shares.
        Random r = new Random(1);
        int[] picks = new int[3];
        for (int i = 0; i < 60_000; i++) {
            picks[hosts.indexOf(table.choose(r.nextLong()))]++;
        }
        for (int i = 0; i < 3; i++) {
            assertEquals((i + 1) * 10_000, picks[i], 600, "host " + i);
        }
    }

    /**
     * Maglev's promise (the paper's section 3.4, Envoy's reason to offer it): when a host leaves, its slots are shared
     * out and nearly every other slot keeps its host.
     */
    @Test
    void aHostLeavingMovesFewOtherKeys() {
        List<UpstreamHost> all = hosts(9000, 9009);
        MaglevTable before = MaglevTable.of(all, ClusterConfig.DEFAULT_MAGLEV_TABLE_SIZE);
        UpstreamHost gone = all.get(3);
        List<UpstreamHost> left = all.stream().filter(h -> h != gone).toList();
        MaglevTable after = MaglevTable.of(left, ClusterConfig.DEFAULT_MAGLEV_TABLE_SIZE);
        int kept = 0;
        int others = 0;
        Set<UpstreamHost> heirs = new HashSet<>();
        for (long slot = 0; slot < before.size(); slot++) {
            UpstreamHost was = before.choose(slot);
            UpstreamHost now = after.choose(slot);
            assertTrue(now != gone);
            if (was == gone) {
                heirs.add(now);
            } else {
                others++;
                kept += was == now ? 1 : 0;
            }
        }
        assertTrue(kept >= others * 0.97, kept + " of " + others + " slots kept their host");
        assertEquals(9, heirs.size(), "the leaving host's slots are spread over all the others");
    }

    /** Without a key each request gets a random slot, as Envoy's random() hash. */
    @Test
    void withoutAKeyRequestsSpread() {
        List<UpstreamHost> hosts = hosts(90, 92);
        MaglevTable table = MaglevTable.of(hosts, ClusterConfig.DEFAULT_MAGLEV_TABLE_SIZE);
        Set<UpstreamHost> seen = new HashSet<>();
        for (int i = 0; i < 100; i++) {
            seen.add(table.choose((String) null));
        }
        assertEquals(3, seen.size());
    }

    @Test
    void theClusterBuildsItsTableForMaglev() {
        List<UpstreamHost> hosts = hosts(90, 95);
        LoadBalancer lb = LoadBalancer.create(ClusterConfig.LbPolicy.MAGLEV, hosts, ClusterConfig.RingHash.defaults(), 7);
        MaglevTable table = (MaglevTable) lb;
        assertTable(hosts, new int[] {2, 4, 0, 1, 5, 0, 3}, table);
    }

    private record IntSummary(int min, int max, int sum) {
        static IntSummary of(MaglevTable table, int hosts) {
            int min = Integer.MAX_VALUE;
            int max = 0;
            int sum = 0;
            for (int i = 0; i < hosts; i++) {
                min = Math.min(min, table.entries(i));
                max = Math.max(max, table.entries(i));
                sum += table.entries(i);
            }
            return new IntSummary(min, max, sum);
        }
    }
}
