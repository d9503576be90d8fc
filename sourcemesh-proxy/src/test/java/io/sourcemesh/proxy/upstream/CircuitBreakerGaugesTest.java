package io.sourcemesh.proxy.upstream;

import static org.junit.jupiter.api.Assertions.*;

import io.sourcemesh.proxy.config.ClusterConfig;
import io.sourcemesh.proxy.stats.Stats;
import org.junit.jupiter.api.Test;

/** The circuit breaker's gauges follow its counts through every threshold, both ways (they are written only on a change). */
class CircuitBreakerGaugesTest {
    private static final String CB = "c.circuit_breakers.default.";

    @Test
    void openFlagsAndRemainingFollowTheCounts() {
        Stats stats = new Stats();
        CircuitBreaker cb = new CircuitBreaker(new ClusterConfig.CircuitBreakers(1, 1, 2, 1, true), stats, "c.");
        assertEquals(0, gauge(stats, "rq_open"));
        assertEquals(2, gauge(stats, "remaining_rq"));
        assertEquals(1, gauge(stats, "remaining_cx"));

        assertTrue(cb.tryRequest());
        assertEquals(0, gauge(stats, "rq_open"));
        assertEquals(1, gauge(stats, "remaining_rq"));
        assertTrue(cb.tryRequest());
        assertEquals(1, gauge(stats, "rq_open"), "at the threshold");
        assertEquals(0, gauge(stats, "remaining_rq"));
        assertFalse(cb.tryRequest(), "over it");
        assertEquals(1, gauge(stats, "rq_open"));
        cb.requestDone();
        assertEquals(0, gauge(stats, "rq_open"), "below it again");
        assertEquals(1, gauge(stats, "remaining_rq"));
        cb.requestDone();
        assertEquals(2, gauge(stats, "remaining_rq"));

        cb.connectionOpened();
        assertEquals(1, gauge(stats, "cx_open"));
        assertEquals(0, gauge(stats, "remaining_cx"));
        cb.connectionClosed();
        assertEquals(0, gauge(stats, "cx_open"));
        assertEquals(1, gauge(stats, "remaining_cx"));

        assertTrue(cb.tryPending());
        assertEquals(1, gauge(stats, "rq_pending_open"));
        cb.pendingDone();
        assertEquals(0, gauge(stats, "rq_pending_open"));

        assertTrue(cb.tryRetry());
        assertEquals(1, gauge(stats, "rq_retry_open"));
        assertEquals(0, gauge(stats, "remaining_retries"));
    }

    private static long gauge(Stats stats, String name) {
        return stats.gauges().get(CB + name);
    }
}
