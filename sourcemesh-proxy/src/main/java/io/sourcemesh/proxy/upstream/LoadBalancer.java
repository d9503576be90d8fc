package io.sourcemesh.proxy.upstream;

import io.sourcemesh.proxy.config.ClusterConfig;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/** Picks a host for a request or connection; one instance per cluster version, shared by all loops. */
public interface LoadBalancer {

    /**
     * The host for a request whose consistent hash (Envoy's HashPolicy::generateHash) is {@code hash} when
     * {@code hashed}; a balancer that does not hash ignores both, a hashing one picks at random without one.
     */
    UpstreamHost choose(boolean hashed, long hash);

    /** As {@link #choose(boolean, long)} with one key's hash ({@link #hash}); null: no hash. */
    default UpstreamHost choose(String hashKey) {
        return hashKey == null ? choose(false, 0) : choose(true, hash(hashKey));
    }

    /** A key's hash as Envoy's hash methods make it: xxHash64 of its bytes, seed 0 (HashUtil::xxHash64). */
    static long hash(String key) {
        return XxHash64.hash(key.getBytes(StandardCharsets.UTF_8));
    }

    /** A balancer of Envoy's default Maglev table size. */
    static LoadBalancer create(ClusterConfig.LbPolicy policy, List<UpstreamHost> hosts, ClusterConfig.RingHash ring) {
        return create(policy, hosts, ring, ClusterConfig.DEFAULT_MAGLEV_TABLE_SIZE);
    }

    static LoadBalancer create(ClusterConfig.LbPolicy policy, List<UpstreamHost> hosts, ClusterConfig.RingHash ring,
            long maglevTableSize) {
        return create(policy, hosts, ring, maglevTableSize, ClusterConfig.SlowStart.NONE);
    }

    /** With Envoy's slow start for ROUND_ROBIN and LEAST_REQUEST ({@link SlowStartBalancer}); other policies have none. */
    static LoadBalancer create(ClusterConfig.LbPolicy policy, List<UpstreamHost> hosts, ClusterConfig.RingHash ring,
            long maglevTableSize, ClusterConfig.SlowStart slowStart) {
        LoadBalancer plain = plain(policy, hosts, ring, maglevTableSize);
        return switch (policy) {
            case ROUND_ROBIN -> SlowStartBalancer.of(plain, hosts, slowStart, false, System::nanoTime);
            case LEAST_REQUEST -> SlowStartBalancer.of(plain, hosts, slowStart, true, System::nanoTime);
            default -> plain;
        };
    }

    /**
     * A RING_HASH or MAGLEV table over {@code hosts} of these normalized weights (locality weighting's, {@link
     * PriorityBalancer}); none or one host picks as {@link #create} does.
     */
    static LoadBalancer weighted(ClusterConfig.LbPolicy policy, List<UpstreamHost> hosts, double[] weights,
            ClusterConfig.RingHash ring, long maglevTableSize) {
        if (hosts.isEmpty()) {
            return new Only(null);
        }
        if (hosts.size() == 1) {
            return new Only(hosts.get(0));
        }
        return switch (policy) {
            case RING_HASH -> RingHashTable.of(hosts, weights, ring);
            case MAGLEV -> MaglevTable.of(hosts, weights, maglevTableSize);
            default -> throw new IllegalArgumentException(policy + " has no weighted table");
        };
    }

    private static LoadBalancer plain(ClusterConfig.LbPolicy policy, List<UpstreamHost> hosts, ClusterConfig.RingHash ring,
            long maglevTableSize) {
        if (hosts.isEmpty()) {
            return new Only(null);
        }
        if (hosts.size() == 1) {
            // Every policy picks it: no shared round-robin position to bump (a locked add per request).
            return new Only(hosts.get(0));
        }
        return switch (policy) {
            case ROUND_ROBIN, CLUSTER_PROVIDED -> new RoundRobin(hosts);
            case LEAST_REQUEST -> new LeastRequest(hosts);
            case RANDOM -> new Random(hosts);
            case RING_HASH -> RingHashTable.of(hosts, ring);
            case MAGLEV -> MaglevTable.of(hosts, maglevTableSize);
        };
    }

    /**
     * A cluster of one host (or none: null). A class, not a lambda: a lambda of an interface with default methods is
     * not taken into the proxy's AOT cache.
     */
    final class Only implements LoadBalancer {
        private final UpstreamHost host;

        Only(UpstreamHost host) {
            this.host = host;
        }

        @Override
        public UpstreamHost choose(boolean hashed, long hash) {
            return host;
        }
    }

    /** Weighted round robin over the hosts expanded by weight (weights are small in practice). */
    final class RoundRobin implements LoadBalancer {
        private final UpstreamHost[] order;
        private final AtomicLong next = new AtomicLong();

        RoundRobin(List<UpstreamHost> hosts) {
            List<UpstreamHost> expanded = new ArrayList<>();
            int max = hosts.stream().mapToInt(UpstreamHost::weight).max().orElse(1);
            // Interleave by weight so a heavy host is not chosen in long runs.
            for (int round = 0; round < max; round++) {
                for (UpstreamHost h : hosts) {
                    if (h.weight() > round) {
                        expanded.add(h);
                    }
                }
            }
            this.order = expanded.toArray(UpstreamHost[]::new);
        }

        @Override
        public UpstreamHost choose(boolean hashed, long hash) {
            return order[(int) Math.floorMod(next.getAndIncrement(), (long) order.length)];
        }
    }

    /**
     * Envoy's default (LeastRequestLoadBalancer): hosts of equal weight, the fewer active requests of two random choices
     * (power of two choices); of unequal weights, Envoy's EDF schedule over each host's weight / (its active requests
     * + 1) — active_request_bias 1.0 — so an endpoint's load_balancing_weight (a WorkloadEntry's or ServiceEntry
     * endpoint's weight) shares the traffic under Istio's default policy too.
     */
    final class LeastRequest implements LoadBalancer {
        private final UpstreamHost[] hosts;
        /** Null when the weights are equal. */
        private final EdfSchedule weighted;

        LeastRequest(List<UpstreamHost> hosts) {
            this.hosts = hosts.toArray(UpstreamHost[]::new);
            boolean equal = hosts.stream().mapToInt(UpstreamHost::weight).distinct().count() <= 1;
            this.weighted = equal ? null : new EdfSchedule(this.hosts.length);
            if (weighted != null) {
                weighted.build(this::weight);
            }
        }

        @Override
        public UpstreamHost choose(boolean hashed, long hash) {
            if (weighted != null) {
                synchronized (weighted) {
                    return hosts[weighted.pick(this::weight)];
                }
            }
            ThreadLocalRandom r = ThreadLocalRandom.current();
            UpstreamHost a = hosts[r.nextInt(hosts.length)];
            UpstreamHost b = hosts[r.nextInt(hosts.length)];
            return b.activeRequests() < a.activeRequests() ? b : a;
        }

        private double weight(int i) {
            return hosts[i].weight() / (hosts[i].activeRequests() + 1.0);
        }
    }

    final class Random implements LoadBalancer {
        private final UpstreamHost[] hosts;
        private final int[] cumulative;

        Random(List<UpstreamHost> hosts) {
            this.hosts = hosts.toArray(UpstreamHost[]::new);
            this.cumulative = new int[this.hosts.length];
            int sum = 0;
            for (int i = 0; i < this.hosts.length; i++) {
                sum += this.hosts[i].weight();
                cumulative[i] = sum;
            }
        }

        @Override
        public UpstreamHost choose(boolean hashed, long hash) {
            int pick = ThreadLocalRandom.current().nextInt(cumulative[cumulative.length - 1]);
            int i = Arrays.binarySearch(cumulative, pick + 1);
            return hosts[i >= 0 ? i : -i - 1];
        }
    }
}
