package io.sourcemesh.proxy.upstream;

import java.util.BitSet;

/**
 * One stream's retry_priority envoy.retry_priorities.previous_priorities (Envoy's PreviousPrioritiesRetryPriority,
 * source/extensions/retry/priority/previous_priorities): every {@code update_frequency} attempts, the priorities of the
 * hosts attempted so far are excluded from the load of the picks that follow, which the other priorities share by their
 * health ({@link PriorityBalancer#choose(boolean, long, BitSet)}). Before the first update the load is the cluster's.
 */
public final class PreviousPriorities {
    private final int updateFrequency;
    private final BitSet attempted = new BitSet();
    private final BitSet excluded = new BitSet();
    private int attempts;

    private PreviousPriorities(int updateFrequency) {
        this.updateFrequency = updateFrequency;
    }

    /** {@code updateFrequency}: above 0, as Envoy's validation holds it. */
    public static PreviousPriorities of(int updateFrequency) {
        if (updateFrequency <= 0) {
            throw new IllegalArgumentException("update_frequency " + updateFrequency);
        }
        return new PreviousPriorities(updateFrequency);
    }

    /** An attempt went to {@code host} (Envoy's onHostAttempted). */
    public void attempted(UpstreamHost host) {
        attempted.set(host.priority());
        attempts++;
        if (attempts % updateFrequency == 0) {
            // Envoy recomputes at the pick when the attempts are a multiple of update_frequency; the same set.
            excluded.or(attempted);
        }
    }

    /** The priorities the next pick leaves out (empty: the cluster's own load). */
    BitSet excluded() {
        return excluded;
    }
}
