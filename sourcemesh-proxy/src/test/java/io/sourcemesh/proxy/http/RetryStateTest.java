package io.sourcemesh.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.proxy.config.RouteConfig;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A retry's back-off as Envoy's JitteredExponentialBackOffStrategy (source/common/common/backoff_strategy.cc) draws it:
 * uniform in [0, bound), the bound starting at the base interval and doubling per retry up to the most.
 */
class RetryStateTest {
    private static final int SAMPLES = 4000;

    /**
     * The n-th retry's waits over many streams: never at or over the bound, and reaching near it (a uniform draw stays
     * under 90% of it 4000 times with a chance of 1 in 10^183).
     */
    private static void assertBounds(long base, long max, long... bounds) {
        var policy = new RouteConfig.RetryPolicy(Set.of("5xx"), bounds.length, Set.of(), false, 1, Duration.ZERO, base, max);
        long[] most = new long[bounds.length];
        long[] least = new long[bounds.length];
        java.util.Arrays.fill(least, Long.MAX_VALUE);
        for (int i = 0; i < SAMPLES; i++) {
            RetryState state = new RetryState(policy, null);
            for (int n = 0; n < bounds.length; n++) {
                long wait = state.backOffMillis();
                most[n] = Math.max(most[n], wait);
                least[n] = Math.min(least[n], wait);
            }
        }
        for (int n = 0; n < bounds.length; n++) {
            assertTrue(most[n] < bounds[n], "retry " + (n + 1) + ": " + most[n] + " under " + bounds[n]);
            assertTrue(most[n] >= bounds[n] * 9 / 10, "retry " + (n + 1) + ": " + most[n] + " reaches near " + bounds[n]);
            assertEquals(0, least[n], "retry " + (n + 1) + ": fully jittered, from 0");
        }
    }

    @Test
    void envoysDefaultBackOffDoublesFrom25msUpTo250ms() {
        assertBounds(25, 250, 25, 50, 100, 200, 250, 250);
    }

    @Test
    void aConfiguredBackOffDoublesUpToItsMax() {
        assertBounds(10, 30, 10, 20, 30, 30);
    }

    @Test
    void aOneMillisecondBaseWaitsNothingFirst() {
        assertBounds(1, 1, 1, 1);
    }
}
