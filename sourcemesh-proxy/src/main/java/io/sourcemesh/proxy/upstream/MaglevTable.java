package io.sourcemesh.proxy.upstream;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Envoy's Maglev load balancer (source/extensions/load_balancing_policies/maglev/maglev_lb.cc, the Maglev paper's
 * listing 1 with Envoy's weighting): a table of a prime number of slots, each naming a host, built once per host set
 * (the hosts not ejected, or all of them in panic, as ThreadAwareLoadBalancerBase::refresh builds it) and read per
 * request at {@code hash % size}. Built as Envoy builds it — the same host keys ("ip:port", "[ip]:port" for IPv6),
 * sorted, offset and skip from xxHash64 with seeds 0 and 1, the same weighted filling — and the request's key hashed
 * with xxHash64 as Envoy's hash policies hash it, so a key reaches the endpoint an Envoy with these hosts would pick.
 */
public final class MaglevTable implements LoadBalancer {
    private final UpstreamHost[] table;
    private final int[] entriesPerHost;

    private MaglevTable(UpstreamHost[] table, int[] entriesPerHost) {
        this.table = table;
        this.entriesPerHost = entriesPerHost;
    }

    /** The table over {@code hosts}, each keyed by its address as Envoy's Address::asString. */
    static MaglevTable of(List<UpstreamHost> hosts, long size) {
        return of(hosts, RingHashTable.normalized(hosts), size);
    }

    /** The table over {@code hosts} of these normalized weights (only their ratios count), keyed by their addresses. */
    static MaglevTable of(List<UpstreamHost> hosts, double[] weights, long size) {
        List<String> keys = new ArrayList<>(hosts.size());
        for (UpstreamHost h : hosts) {
            keys.add(UpstreamHost.hashKey(h.address()));
        }
        return of(hosts, keys, weights, size);
    }

    /**
     * The table over {@code hosts} keyed by {@code keys} (Envoy's hashKey: the address, or the hostname under
     * use_hostname_for_hashing). {@code size} is a prime (the cluster's translation refused any other), so every skip
     * in [1, size - 1] walks all the slots.
     */
    static MaglevTable of(List<UpstreamHost> hosts, List<String> keys, long size) {
        return of(hosts, keys, RingHashTable.normalized(hosts), size);
    }

    private static MaglevTable of(List<UpstreamHost> hosts, List<String> keys, double[] weights, long size) {
        if (size < 2 || size > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("maglev table size " + size);
        }
        int n = hosts.size();
        // normalized weights (normalizeHostWeights); a host of the largest weight takes a slot every round.
        double maxWeight = 0;
        Entry[] entries = new Entry[n];
        for (int i = 0; i < n; i++) {
            byte[] key = keys.get(i).getBytes(StandardCharsets.UTF_8);
            double weight = weights[i];
            maxWeight = Math.max(maxWeight, weight);
            entries[i] = new Entry(i, keys.get(i), Long.remainderUnsigned(XxHash64.hash(key, 0), size),
                    Long.remainderUnsigned(XxHash64.hash(key, 1), size - 1) + 1, weight);
        }
        // Envoy fills in the order of the sorted keys, so the table does not depend on the order the hosts came in.
        Arrays.sort(entries, Comparator.comparing((Entry e) -> e.key));
        UpstreamHost[] table = new UpstreamHost[(int) size];
        int[] counts = new int[n];
        long filled = 0;
        for (long round = 1; filled < size && n > 0; round++) {
            for (int i = 0; i < n && filled < size; i++) {
                Entry e = entries[i];
                // A host of weight max/k takes a slot every k-th round (OriginalMaglevTable::constructImplementationInternals).
                if (round * e.weight < e.target) {
                    continue;
                }
                e.target += maxWeight;
                long slot = e.slot(size);
                while (table[(int) slot] != null) {
                    e.next++;
                    slot = e.slot(size);
                }
                table[(int) slot] = hosts.get(e.host);
                e.next++;
                counts[e.host]++;
                filled++;
            }
        }
        return new MaglevTable(table, counts);
    }

    /** A request without a key gets a random slot, as ThreadAwareLoadBalancerBase::LoadBalancerImpl::chooseHost. */
    @Override
    public UpstreamHost choose(boolean hashed, long hash) {
        return choose(hashed ? hash : ThreadLocalRandom.current().nextLong());
    }

    /** The host of slot {@code hash % size}, the hash read unsigned (OriginalMaglevTable::chooseHost). */
    UpstreamHost choose(long hash) {
        return table[(int) Long.remainderUnsigned(hash, table.length)];
    }

    int size() {
        return table.length;
    }

    /** How many slots the i-th host of the list the table was built from holds (Envoy's min/max_entries_per_host). */
    int entries(int host) {
        return entriesPerHost[host];
    }

    /** One host while the table is filled: TableBuildEntry. */
    private static final class Entry {
        final int host;
        final String key;
        final long offset;
        final long skip;
        final double weight;
        double target;
        long next;

        Entry(int host, String key, long offset, long skip, double weight) {
            this.host = host;
            this.key = key;
            this.offset = offset;
            this.skip = skip;
            this.weight = weight;
        }

        /** The next slot of this host's permutation: (offset + skip × next) mod size. */
        long slot(long size) {
            return (offset + skip * next) % size;
        }
    }
}
