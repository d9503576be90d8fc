package io.sourcemesh.proxy.upstream;

import java.util.function.IntToDoubleFunction;

/**
 * Envoy's EdfScheduler (source/common/upstream/edf_scheduler.h) over a fixed set of entries: each entry's deadline
 * is the scheduler's time plus 1 / its weight; a pick takes the least deadline (the one added first on a tie) and
 * adds the entry back with the weight it has then, so a weight that changes between picks (least request's active
 * requests, slow start's ramp) takes effect at the entry's next turn. Not thread-safe: its owner picks under a lock.
 */
final class EdfSchedule {
    private final double[] deadlines;
    private final long[] order;
    private long added;

    EdfSchedule(int entries) {
        deadlines = new double[entries];
        order = new long[entries];
    }

    /** Every entry added at time 0 with {@code weight}, in index order. */
    void build(IntToDoubleFunction weight) {
        for (int i = 0; i < deadlines.length; i++) {
            deadlines[i] = 1.0 / weight.applyAsDouble(i);
            order[i] = i;
        }
        added = deadlines.length;
    }

    /** pickAndAdd: the entry with the least deadline, added back at that deadline plus 1 / its weight now. */
    int pick(IntToDoubleFunction weight) {
        int min = 0;
        for (int i = 1; i < deadlines.length; i++) {
            if (deadlines[i] < deadlines[min] || (deadlines[i] == deadlines[min] && order[i] < order[min])) {
                min = i;
            }
        }
        deadlines[min] += 1.0 / weight.applyAsDouble(min); // the scheduler's time is now the picked deadline
        order[min] = added++;
        return min;
    }
}
