package io.sourcemesh.proxy.upstream;

import io.sourcemesh.proxy.config.ClusterConfig;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * Envoy's slow start for ROUND_ROBIN and LEAST_REQUEST (EdfLoadBalancerBase, source/extensions/load_balancing_policies/
 * common/load_balancer_impl.cc): while some host that joined after the cluster's first version is within the window
 * from joining, picks go by Envoy's EDF schedule over each host's weight, a joining host's scaled by {@link #factor}
 * (least request's weight is also divided by its active requests + 1, Envoy's active_request_bias 1.0). Before and
 * after, and while every host is in its window (all are alike new), the plain balancer picks. Once every window has
 * passed, a pick is one volatile read more than the plain balancer's.
 */
final class SlowStartBalancer implements LoadBalancer {
    private final LoadBalancer plain;
    private final UpstreamHost[] hosts;
    private final boolean leastRequest;
    private final long windowNanos;
    private final long windowMillis;
    private final double aggression;
    private final double minWeight;
    private final LongSupplier clock;
    /** Every host joined later: until the first window ends all are in slow start alike. */
    private final boolean everyJoined;
    private final long firstEnd;
    private final long lastEnd;
    private volatile boolean over;

    // Envoy's EdfScheduler, built with the balancer as Envoy's refresh builds it; a pick re-adds its host with the
    // weight it has then.
    private final EdfSchedule schedule;
    private boolean built;

    private SlowStartBalancer(LoadBalancer plain, UpstreamHost[] hosts, ClusterConfig.SlowStart config, boolean leastRequest,
            LongSupplier clock, long at, boolean everyJoined, long firstEnd, long lastEnd) {
        this.plain = plain;
        this.hosts = hosts;
        this.leastRequest = leastRequest;
        this.windowNanos = config.window().toNanos();
        this.windowMillis = config.window().toMillis();
        this.aggression = config.aggression();
        this.minWeight = config.minWeightPercent() / 100;
        this.clock = clock;
        this.everyJoined = everyJoined;
        this.firstEnd = firstEnd;
        this.lastEnd = lastEnd;
        this.schedule = new EdfSchedule(hosts.length);
        if (!(everyJoined && at - firstEnd < 0)) {
            build(at);
        }
    }

    /** EdfScheduler's build: each host at 1 / its weight, in host order; once all are alike new, at the first pick after. */
    private void build(long t) {
        schedule.build(i -> weight(i, t));
        built = true;
    }

    /** {@code plain} itself when no host is in slow start now (none joined later, or every window has passed). */
    static LoadBalancer of(LoadBalancer plain, List<UpstreamHost> hosts, ClusterConfig.SlowStart config, boolean leastRequest,
            LongSupplier clock) {
        if (!config.enabled() || hosts.size() < 2) {
            return plain;
        }
        long at = clock.getAsLong();
        long windowNanos = config.window().toNanos();
        boolean everyJoined = true;
        boolean any = false;
        long firstEnd = 0;
        long lastEnd = 0;
        for (UpstreamHost h : hosts) {
            if (h.joinedNanos() == UpstreamHost.INITIAL) {
                everyJoined = false;
                continue;
            }
            long end = h.joinedNanos() + windowNanos;
            if (end - at <= 0) {
                continue;
            }
            firstEnd = any && firstEnd - end < 0 ? firstEnd : end;
            lastEnd = any && lastEnd - end > 0 ? lastEnd : end;
            any = true;
        }
        if (!any) {
            return plain;
        }
        // A host whose window has passed is out of slow start: not "every host in its window".
        for (UpstreamHost h : hosts) {
            if (h.joinedNanos() != UpstreamHost.INITIAL && h.joinedNanos() + windowNanos - at <= 0) {
                everyJoined = false;
            }
        }
        return new SlowStartBalancer(plain, hosts.toArray(UpstreamHost[]::new), config, leastRequest, clock, at,
                everyJoined, firstEnd, lastEnd);
    }

    /**
     * Envoy's applySlowStartFactor: a host {@code inMillis} into its window of {@code windowMillis} takes
     * max(minWeight, (max(1, inMillis) / windowMillis) ^ (1 / aggression)) of its weight.
     */
    static double factor(long inMillis, long windowMillis, double aggression, double minWeight) {
        double time = (double) Math.max(1, inMillis) / windowMillis;
        double scaled = aggression == 1.0 || time == 1.0 ? time : Math.pow(time, 1.0 / aggression);
        return Math.max(scaled, minWeight);
    }

    @Override
    public UpstreamHost choose(boolean hashed, long hash) {
        if (over) {
            return plain.choose(hashed, hash);
        }
        long t = clock.getAsLong();
        if (t - lastEnd >= 0) {
            over = true;
            return plain.choose(hashed, hash);
        }
        if (everyJoined && t - firstEnd < 0) {
            return plain.choose(hashed, hash);
        }
        return pick(t);
    }

    /** EdfScheduler::pickAndAdd: the least deadline (the earliest added on a tie), re-added with its weight now. */
    private synchronized UpstreamHost pick(long t) {
        if (!built) {
            build(t);
        }
        return hosts[schedule.pick(i -> weight(i, t))];
    }

    /** Envoy's hostWeight while some host is in slow start. */
    private double weight(int i, long t) {
        UpstreamHost h = hosts[i];
        double w = h.weight();
        if (leastRequest) {
            w /= h.activeRequests() + 1.0;
        }
        long joined = h.joinedNanos();
        if (joined == UpstreamHost.INITIAL || t - joined >= windowNanos) {
            return w;
        }
        return w * factor((t - joined) / 1_000_000, windowMillis, aggression, minWeight);
    }
}
