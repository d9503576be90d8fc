package io.sourcemesh.cluster.kubelet;

import java.time.Duration;

/**
 * The kubelet's crash-loop back-off: none before the first restart, then {@code first} doubling up to
 * {@code max} (Kubernetes: 10 s and 5 min). Tests give shorter ones so a second restart does not take 10 s.
 */
public record BackOff(Duration first, Duration max) {
    public static final BackOff KUBELET = new BackOff(Duration.ofSeconds(10), Duration.ofMinutes(5));

    public BackOff {
        if (first.isNegative() || max.compareTo(first) < 0) {
            throw new IllegalArgumentException("a back-off needs 0 <= first <= max, not " + first + " and " + max);
        }
    }

    /** The wait before the next start of a container restarted {@code restarts} times already. */
    public Duration after(int restarts) {
        if (restarts == 0) {
            return Duration.ZERO;
        }
        Duration d = first.multipliedBy(1L << Math.min(restarts - 1, 20));
        return d.compareTo(max) > 0 ? max : d;
    }
}
