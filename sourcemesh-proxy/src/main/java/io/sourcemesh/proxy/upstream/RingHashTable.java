package io.sourcemesh.proxy.upstream;

import io.sourcemesh.proxy.config.ClusterConfig;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Envoy's ring hash load balancer (source/extensions/load_balancing_policies/ring_hash/ring_hash_lb.cc,
 * RingHashLoadBalancer::Ring, with its default hash function XX_HASH), built once per host set as
 * {@link MaglevTable} is. Each host's weight is normalised over the hosts; the scale is the smallest that gives
 * the lightest host a whole number of entries at minimum_ring_size, capped at maximum_ring_size; walking the
 * hosts in order, a host takes entries while the running count is below the running target (its share of the
 * scale added), its i-th keyed "&lt;address&gt;_&lt;i&gt;" (the address as {@link UpstreamHost#hashKey}) and placed
 * at xxHash64 of that key; the ring is sorted by position, read unsigned. A request's key, hashed with xxHash64
 * as Envoy's hash policies hash it, goes to the first entry at or after its hash, past the last to the first
 * (Ketama's search, as Envoy's chooseHost). So a key reaches the endpoint an Envoy with these hosts would pick.
 */
public final class RingHashTable implements LoadBalancer {
    /** Entry positions, ascending as unsigned numbers. */
    private final long[] positions;
    private final UpstreamHost[] owners;

    private RingHashTable(long[] positions, UpstreamHost[] owners) {
        this.positions = positions;
        this.owners = owners;
    }

    private record Entry(long position, UpstreamHost host) {}

    static RingHashTable of(List<UpstreamHost> hosts, ClusterConfig.RingHash config) {
        return of(hosts, normalized(hosts), config);
    }

    /** Envoy's normalizeHostWeights: each host's weight over their sum, in the same order of operations. */
    static double[] normalized(List<UpstreamHost> hosts) {
        long sum = 0;
        for (UpstreamHost h : hosts) {
            sum += h.weight();
        }
        double[] weights = new double[hosts.size()];
        for (int i = 0; i < weights.length; i++) {
            weights[i] = hosts.get(i).weight() * 1.0 / sum;
        }
        return weights;
    }

    /**
     * The ring over {@code hosts} of these normalized weights (summing to 1, or less when locality weighting left a
     * locality without hosts out: only their ratios count).
     */
    static RingHashTable of(List<UpstreamHost> hosts, double[] weights, ClusterConfig.RingHash config) {
        double min = 1.0; // ThreadAwareLoadBalancerBase::refresh starts the minimum there
        for (double w : weights) {
            min = Math.min(min, w);
        }
        double scale = Math.min(Math.ceil(min * config.minimumRingSize()) / min, (double) config.maximumRingSize());
        List<Entry> entries = new ArrayList<>((int) Math.min(Math.ceil(scale), Integer.MAX_VALUE - 8));
        double current = 0;
        double target = 0;
        for (int h = 0; h < weights.length; h++) {
            UpstreamHost host = hosts.get(h);
            byte[] prefix = (UpstreamHost.hashKey(host.address()) + "_").getBytes(StandardCharsets.UTF_8);
            target += scale * weights[h];
            for (long i = 0; current < target; i++, current++) {
                entries.add(new Entry(XxHash64.hash(entryKey(prefix, i)), host));
            }
        }
        entries.sort((x, y) -> Long.compareUnsigned(x.position, y.position));
        long[] positions = new long[entries.size()];
        UpstreamHost[] owners = new UpstreamHost[entries.size()];
        for (int i = 0; i < positions.length; i++) {
            positions[i] = entries.get(i).position;
            owners[i] = entries.get(i).host;
        }
        return new RingHashTable(positions, owners);
    }

    /** "&lt;address&gt;_&lt;i&gt;" as bytes: the prefix, then i in decimal. */
    private static byte[] entryKey(byte[] prefix, long i) {
        byte[] digits = Long.toString(i).getBytes(StandardCharsets.US_ASCII);
        byte[] key = Arrays.copyOf(prefix, prefix.length + digits.length);
        System.arraycopy(digits, 0, key, prefix.length, digits.length);
        return key;
    }

    /** A request without a key gets a random point, as ThreadAwareLoadBalancerBase::LoadBalancerImpl::chooseHost. */
    @Override
    public UpstreamHost choose(boolean hashed, long hash) {
        return choose(hashed ? hash : ThreadLocalRandom.current().nextLong());
    }

    /** The owner of the first entry at or after {@code hash} (unsigned), the first past the last. */
    UpstreamHost choose(long hash) {
        int lo = 0;
        int hi = positions.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (Long.compareUnsigned(positions[mid], hash) < 0) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return owners[lo == positions.length ? 0 : lo];
    }

    /** The ring's entries: about minimum_ring_size (as the weights split it), never above maximum_ring_size. */
    int size() {
        return positions.length;
    }
}
