package io.sourcemesh.proxy.listener;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * The drain decision a listener's connection manager holds: the proxy's (moved by the health check) for a DEFAULT
 * listener, one that never drains for a MODIFY_ONLY listener (Envoy's drain_manager_impl.cc drainClose: the health
 * check drains only DEFAULT listeners); only the first need be asked per request. Its use by the connection manager is
 * {@code http.DrainCloseTest}'s; the drain of a listener changed or removed is {@code ListenerRuntime}'s.
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

    /** A DEFAULT listener's decision is the proxy's own: the health check reaches every DEFAULT listener's managers. */
    @Test
    void aDefaultListenerSharesTheProxysDecision() {
        DrainDecision proxy = new DrainDecision();
        DrainDecision inbound = proxy.forListener(false);
        DrainDecision outbound = proxy.forListener(false);
        assertSame(proxy, inbound);
        proxy.healthCheckFailed(true);
        assertTrue(inbound.drainClose() && outbound.drainClose(), "every DEFAULT listener drains at once");
        proxy.healthCheckFailed(false);
        assertFalse(inbound.drainClose() || outbound.drainClose());
    }

    /** Starts passing: a new decision drains nothing until told. */
    @Test
    void aNewDecisionDoesNotDrain() {
        assertFalse(new DrainDecision().drainClose());
        assertFalse(new DrainDecision().forListener(false).drainClose());
        assertFalse(DrainDecision.NEVER.drainClose());
    }

    /** Each proxy's health check is its own: one failing does not drain another's listeners (nothing static moves). */
    @Test
    void twoProxiesDecideApart() {
        DrainDecision failing = new DrainDecision();
        DrainDecision other = new DrainDecision();
        failing.healthCheckFailed(true);
        assertTrue(failing.drainClose());
        assertFalse(other.drainClose());
        assertFalse(other.forListener(false).drainClose());
    }

    /** MODIFY_ONLY's decision is one for every proxy, so it must never be moved: refused, and it stays false. */
    @Test
    void theNeverDrainingDecisionsRefuseTheHealthCheck() {
        DrainDecision modifyOnly = new DrainDecision().forListener(true);
        assertSame(modifyOnly, new DrainDecision().forListener(true), "one shared instance");
        assertThrows(IllegalStateException.class, () -> modifyOnly.healthCheckFailed(true));
        assertThrows(IllegalStateException.class, () -> DrainDecision.NEVER.healthCheckFailed(true));
        assertFalse(modifyOnly.drainClose());
        assertFalse(DrainDecision.NEVER.drainClose());
        assertSame(modifyOnly, modifyOnly.forListener(true));
    }

    /** The admin's thread fails the health check; the event loops read it at their next request, without a lock. */
    @Test
    void anotherThreadSeesTheHealthCheckFail() throws Exception {
        DrainDecision proxy = new DrainDecision();
        CountDownLatch seen = new CountDownLatch(1);
        AtomicBoolean stop = new AtomicBoolean();
        Thread loop = Thread.ofPlatform().start(() -> {
            while (!stop.get()) {
                if (proxy.drainClose()) {
                    seen.countDown();
                    return;
                }
                Thread.onSpinWait();
            }
        });
        try {
            proxy.healthCheckFailed(true);
            assertTrue(seen.await(5, TimeUnit.SECONDS), "the reading thread saw the failed health check");
        } finally {
            stop.set(true);
            loop.join(5_000);
        }
    }
}
