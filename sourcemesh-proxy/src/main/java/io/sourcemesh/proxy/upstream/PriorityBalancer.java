package io.sourcemesh.proxy.upstream;

import io.sourcemesh.proxy.config.ClusterConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.IntToDoubleFunction;
import java.util.function.Predicate;

/**
 * Envoy's priority levels and locality weighting (LoadBalancerBase, source/common/upstream/load_balancer_impl.cc) over
 * one health snapshot: each priority's health is min(100, overprovisioning factor × healthy / total), its load the
 * share of 100 its health takes after the priorities above it (recalculatePerPriorityState), normalised when their sum
 * is under 100; a priority whose healthy share is under the panic threshold, when the total is under 100, balances
 * over all its hosts, and when every priority panics the load follows the host counts (recalculatePerPriorityPanic,
 * recalculateLoadInTotalPanic). A request takes a priority by a number in [0, 100) — its hash under RING_HASH or
 * MAGLEV, else a random one (EdfLoadBalancerBase draws one even when the request has a hash) —
 * then, with locality weighting, a locality by Envoy's EDF over weight × its health, then the cluster's policy over
 * that priority's (or locality's) hosts: one table per priority for the hash policies, its hosts weighted by their
 * locality's share with locality weighting. A retry under
 * previous_priorities picks over a load without the priorities it tried ({@link PreviousPriorities}). Built per health
 * snapshot, immutable but for the balancers' positions.
 */
final class PriorityBalancer implements LoadBalancer {
    /** Cumulative load per priority: priority p takes the numbers in [cumulative[p - 1], cumulative[p]). */
    private final int[] cumulative;
    /** Each priority's health, min(100, factor × healthy share): what a retry's load is spread by. */
    private final long[] health;
    private final LoadBalancer[] priorities;
    /** Per priority, its localities' balancers and their schedule; null where the priority picks no locality. */
    private final LoadBalancer[][] localities;
    private final EdfSchedule[] schedules;
    /** Per priority, its localities' effective weights as the schedule reads them (made once: no lambda per pick). */
    private final IntToDoubleFunction[] localityWeights;
    /** RING_HASH or MAGLEV: a request's hash picks its priority too (Envoy's ThreadAwareLoadBalancerBase); others draw. */
    private final boolean hashes;

    private PriorityBalancer(boolean hashes, int[] cumulative, long[] health, LoadBalancer[] priorities,
            LoadBalancer[][] localities, EdfSchedule[] schedules, double[][] localityWeights) {
        this.hashes = hashes;
        this.cumulative = cumulative;
        this.health = health;
        this.priorities = priorities;
        this.localities = localities;
        this.schedules = schedules;
        this.localityWeights = new IntToDoubleFunction[localityWeights.length];
        for (int p = 0; p < localityWeights.length; p++) {
            double[] w = localityWeights[p];
            this.localityWeights[p] = w == null ? null : i -> w[i];
        }
    }

    /** The balancer over {@code hosts} (each with its priority and locality) of which {@code healthy} ones are. */
    static PriorityBalancer of(ClusterConfig config, List<UpstreamHost> hosts, Predicate<UpstreamHost> healthy) {
        int count = 0;
        for (UpstreamHost h : hosts) {
            count = Math.max(count, h.priority() + 1);
        }
        count = Math.max(count, 1);
        List<List<UpstreamHost>> all = new ArrayList<>();
        List<List<UpstreamHost>> ok = new ArrayList<>();
        for (int p = 0; p < count; p++) {
            all.add(new ArrayList<>());
            ok.add(new ArrayList<>());
        }
        for (UpstreamHost h : hosts) {
            all.get(h.priority()).add(h);
            if (healthy.test(h)) {
                ok.get(h.priority()).add(h);
            }
        }
        ClusterConfig.Priorities settings = config.priorities();
        long[] health = new long[count];
        long sum = 0;
        for (int p = 0; p < count; p++) {
            long total = settings.weightedPriorityHealth() ? weight(all.get(p)) : all.get(p).size();
            long up = settings.weightedPriorityHealth() ? weight(ok.get(p)) : ok.get(p).size();
            health[p] = total == 0 ? 0 : Math.min(100, settings.overprovisioningFactor() * up / total);
            sum += health[p];
        }
        int normalized = (int) Math.min(100, sum);
        int[] load = new int[count];
        boolean[] panic = new boolean[count];
        double threshold = config.healthyPanicThreshold();
        if (normalized > 0) {
            int left = 100;
            int first = -1;
            for (int p = 0; p < count; p++) {
                if (first < 0 && health[p] > 0) {
                    first = p;
                }
                load[p] = (int) Math.min(left, health[p] * 100 / normalized);
                left -= load[p];
            }
            load[first] += left; // rounding's remainder goes to the first priority with health
        }
        if (threshold == 0 && normalized == 0) {
            load[0] = 100; // every pick fails for want of a healthy host, as Envoy's
        } else {
            boolean total = true;
            for (int p = 0; p < count; p++) {
                int n = all.get(p).size();
                double healthyPercent = n == 0 ? 0 : 100.0 * ok.get(p).size() / n;
                panic[p] = normalized != 100 && healthyPercent < threshold;
                total &= panic[p];
            }
            if (total) {
                inTotalPanic(all, load);
            }
        }
        int[] cumulative = new int[count];
        LoadBalancer[] balancers = new LoadBalancer[count];
        LoadBalancer[][] localities = new LoadBalancer[count][];
        EdfSchedule[] schedules = new EdfSchedule[count];
        double[][] localityWeights = new double[count][];
        boolean hashes = config.lbPolicy() == ClusterConfig.LbPolicy.RING_HASH || config.lbPolicy() == ClusterConfig.LbPolicy.MAGLEV;
        int at = 0;
        for (int p = 0; p < count; p++) {
            at += load[p];
            cumulative[p] = at;
            List<UpstreamHost> use = panic[p] ? all.get(p) : ok.get(p);
            if (hashes && settings.localityWeighted()) {
                balancers[p] = localityWeightedTable(config, all.get(p), use);
                continue;
            }
            balancers[p] = balancer(config, use);
            if (settings.localityWeighted() && !panic[p]) {
                localities(config, all.get(p), ok.get(p), p, localities, schedules, localityWeights);
            }
        }
        return new PriorityBalancer(hashes, cumulative, health, balancers, localities, schedules, localityWeights);
    }

    /** Envoy's recalculateLoadInTotalPanic: each priority's load by its share of all hosts, the rest to the first. */
    private static void inTotalPanic(List<List<UpstreamHost>> all, int[] load) {
        int hosts = 0;
        for (List<UpstreamHost> l : all) {
            hosts += l.size();
        }
        if (hosts == 0) {
            load[0] = 100;
            return;
        }
        int left = 100;
        int first = -1;
        for (int p = 0; p < load.length; p++) {
            load[p] = 100 * all.get(p).size() / hosts;
            left -= load[p];
            if (first < 0 && !all.get(p).isEmpty()) {
                first = p;
            }
        }
        load[first] += left;
    }

    /**
     * Envoy's HostSetImpl::effectiveLocalityWeight: a locality's load_balancing_weight × min(1, factor / 100 × its
     * healthy share); one of weight 0 (unset, or no healthy host) gets nothing. None left: the priority's hosts.
     */
    private static void localities(ClusterConfig config, List<UpstreamHost> all, List<UpstreamHost> ok, int p,
            LoadBalancer[][] localities, EdfSchedule[] schedules, double[][] localityWeights) {
        Map<ClusterConfig.Locality, List<UpstreamHost>> allBy = new LinkedHashMap<>();
        Map<ClusterConfig.Locality, List<UpstreamHost>> okBy = new LinkedHashMap<>();
        Map<ClusterConfig.Locality, Integer> weights = new LinkedHashMap<>();
        for (UpstreamHost h : all) {
            allBy.computeIfAbsent(h.locality(), l -> new ArrayList<>()).add(h);
            weights.put(h.locality(), h.localityWeight());
        }
        for (UpstreamHost h : ok) {
            okBy.computeIfAbsent(h.locality(), l -> new ArrayList<>()).add(h);
        }
        List<LoadBalancer> balancers = new ArrayList<>();
        List<Double> effective = new ArrayList<>();
        for (Map.Entry<ClusterConfig.Locality, List<UpstreamHost>> e : allBy.entrySet()) {
            List<UpstreamHost> up = okBy.getOrDefault(e.getKey(), List.of());
            double ratio = Math.min(1.0, config.priorities().overprovisioningFactor() / 100.0 * up.size() / e.getValue().size());
            double w = weights.get(e.getKey()) * ratio;
            if (w > 0) {
                balancers.add(balancer(config, up));
                effective.add(w);
            }
        }
        if (balancers.isEmpty()) {
            return;
        }
        localities[p] = balancers.toArray(LoadBalancer[]::new);
        localityWeights[p] = effective.stream().mapToDouble(Double::doubleValue).toArray();
        schedules[p] = new EdfSchedule(balancers.size());
        double[] w = localityWeights[p];
        schedules[p].build(i -> w[i]);
    }

    /**
     * A hash table with locality weighting, as Envoy's ThreadAwareLoadBalancerBase (normalizeLocalityWeights): each host
     * of {@code use} (the healthy ones, all in panic) weighted by its share of its locality's host weight × its
     * locality's load_balancing_weight over the sum of the priority's; a locality of weight 0 is left out, and none is
     * adjusted for health (Envoy's TODO), unlike the EDF of the other policies. All of weight 0: no host.
     */
    private static LoadBalancer localityWeightedTable(ClusterConfig config, List<UpstreamHost> all, List<UpstreamHost> use) {
        Map<ClusterConfig.Locality, Integer> weights = new LinkedHashMap<>();
        long sum = 0;
        for (UpstreamHost h : all) {
            if (weights.putIfAbsent(h.locality(), h.localityWeight()) == null) {
                sum += h.localityWeight();
            }
        }
        Map<ClusterConfig.Locality, List<UpstreamHost>> useBy = new LinkedHashMap<>();
        weights.keySet().forEach(l -> useBy.put(l, new ArrayList<>()));
        use.forEach(h -> useBy.get(h.locality()).add(h));
        List<UpstreamHost> hosts = new ArrayList<>();
        List<Double> normalized = new ArrayList<>();
        for (Map.Entry<ClusterConfig.Locality, List<UpstreamHost>> e : useBy.entrySet()) {
            int localityWeight = weights.get(e.getKey());
            if (sum == 0 || localityWeight == 0) {
                continue;
            }
            double share = (double) localityWeight / sum;
            long hostSum = weight(e.getValue());
            for (UpstreamHost h : e.getValue()) {
                hosts.add(h);
                normalized.add(h.weight() * share / hostSum);
            }
        }
        return LoadBalancer.weighted(config.lbPolicy(), hosts, normalized.stream().mapToDouble(Double::doubleValue).toArray(),
                config.ringHash(), config.maglevTableSize());
    }

    private static LoadBalancer balancer(ClusterConfig config, List<UpstreamHost> hosts) {
        return LoadBalancer.create(config.lbPolicy(), hosts, config.ringHash(), config.maglevTableSize(), config.slowStart());
    }

    private static long weight(List<UpstreamHost> hosts) {
        long w = 0;
        for (UpstreamHost h : hosts) {
            w += h.weight();
        }
        return w;
    }

    /** The percentage of load priority {@code p} takes (tests). */
    int load(int p) {
        return cumulative[p] - (p == 0 ? 0 : cumulative[p - 1]);
    }

    /**
     * A retry's pick with the priorities {@code excluded} (Envoy's PreviousPrioritiesRetryPriority::
     * adjustForAttemptedPriorities): the others share the load by their health, their sum held to 100, what rounding
     * leaves to the first with health; when none of them has any, the load stays as it is. Panic and localities stay
     * each priority's own.
     */
    UpstreamHost choose(boolean hashed, long hash, java.util.BitSet excluded) {
        int[] load = excluded.isEmpty() ? null : without(excluded);
        return choose(hashed, hash, load == null ? cumulative : load);
    }

    /** The cumulative load without {@code excluded}; null when the others have no health. */
    int[] without(java.util.BitSet excluded) {
        long total = 0;
        for (int p = 0; p < health.length; p++) {
            total += excluded.get(p) ? 0 : health[p];
        }
        total = Math.min(total, 100);
        if (total == 0) {
            return null;
        }
        int[] load = new int[health.length];
        int left = 100;
        int first = -1;
        for (int p = 0; p < health.length; p++) {
            if (excluded.get(p)) {
                continue;
            }
            if (first < 0 && health[p] > 0) {
                first = p;
            }
            load[p] = (int) Math.min(left, health[p] * 100 / total);
            left -= load[p];
        }
        load[first] += left;
        for (int p = 1; p < load.length; p++) {
            load[p] += load[p - 1];
        }
        return load;
    }

    @Override
    public UpstreamHost choose(boolean hashed, long hash) {
        return choose(hashed, hash, cumulative);
    }

    private UpstreamHost choose(boolean hashed, long hash, int[] cumulative) {
        int pick = hashed && hashes ? (int) Long.remainderUnsigned(hash, 100) : ThreadLocalRandom.current().nextInt(100);
        int p = 0;
        int last = cumulative.length - 1;
        while (p < last && pick >= cumulative[p]) {
            p++;
        }
        EdfSchedule schedule = schedules[p];
        if (schedule == null) {
            return priorities[p].choose(hashed, hash);
        }
        int locality;
        synchronized (schedule) {
            locality = schedule.pick(localityWeights[p]);
        }
        return localities[p][locality].choose(hashed, hash);
    }
}
