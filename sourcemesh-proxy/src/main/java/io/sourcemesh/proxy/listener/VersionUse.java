package io.sourcemesh.proxy.listener;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Who still uses one listener version, and what it owns (its access-log writers). The proxy holds
 * one use while the version serves; each connection it accepted holds one until the connection is
 * gone. When the version is retired and its last connection ends, what it owns is closed, off the
 * event loop (closing a log waits for its writer to drain) — as Envoy drains a listener's filter
 * chains: connections that started on the old version keep working and logging until they end.
 */
public final class VersionUse {
    private static final Logger LOG = Logger.getLogger(VersionUse.class.getName());
    private final List<? extends AutoCloseable> owned;
    /** The serving use plus one per connection; 0 once closed, and never counted up again. */
    private final AtomicInteger uses = new AtomicInteger(1);
    private final AtomicBoolean retired = new AtomicBoolean();

    private VersionUse(List<? extends AutoCloseable> owned) {
        this.owned = List.copyOf(owned);
    }

    /** A version in service, owning {@code owned}. */
    public static VersionUse owning(List<? extends AutoCloseable> owned) {
        return new VersionUse(owned);
    }

    /** A use by one more connection; false when the version was already closed (take the current one). */
    boolean acquire() {
        while (true) {
            int n = uses.get();
            if (n == 0) {
                return false;
            }
            if (uses.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    /** A connection that held a use has ended. */
    void release() {
        if (uses.decrementAndGet() == 0) {
            Thread.ofVirtual().name("listener-version-close").start(this::closeOwned);
        }
    }

    /** The version stopped serving new connections (replaced or removed); idempotent. */
    public void retire() {
        if (retired.compareAndSet(false, true)) {
            release();
        }
    }

    /** Connections (and the serving use) still holding the version; 0 once closed. */
    public int uses() {
        return uses.get();
    }

    private void closeOwned() {
        for (AutoCloseable c : owned) {
            try {
                c.close();
            } catch (Exception e) {
                LOG.log(Level.FINE, "closing a retired listener version's " + c, e);
            }
        }
    }
}
