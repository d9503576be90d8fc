package io.sourcemesh.proxy.listener;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The drain decision a listener's connection manager holds: the proxy's (moved by the health check) for a DEFAULT
 * listener, one that never drains for a MODIFY_ONLY listener; only the first need be asked per request.
 */
class DrainDecisionTest {
    @Test
    void onlyTheHealthCheckedDecisionIsAskedPerRequest() {
        DrainDecision proxy = new DrainDecision();
        assertFalse(proxy.constant());
        assertTrue(proxy.forListener(true).constant(), "MODIFY_ONLY: the health check never moves it");
        assertFalse(proxy.forListener(false).constant());
        assertTrue(DrainDecision.NEVER.constant());

        proxy.healthCheckFailed(true);
        assertTrue(proxy.drainClose());
        assertFalse(proxy.forListener(true).drainClose());
        proxy.healthCheckFailed(false);
        assertFalse(proxy.drainClose());
    }
}
