package io.sourcemesh.proxy.listener;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Who still uses one listener version, and what it owns ({@link VersionResources}: its access-log writers, its
 * filters' background fetches). The proxy holds one use from the version's build; {@link #serve} starts what the
 * version's filters start once it is in service; each connection it accepted holds a use until the connection is
 * gone. When the version is retired and its last connection ends (at once when it never served), what it owns is
 * closed, off the event loop (closing a log waits for its writer to drain) — as Envoy drains a listener's filter
 * chains: connections that started on the old version keep working and logging until they end.
 */
public final class VersionUse {
    private final VersionResources owned;
    /** The serving use plus one per connection; 0 once closed, and never counted up again. */
    private final AtomicInteger uses = new AtomicInteger(1);
    private final AtomicBoolean retired = new AtomicBoolean();

    private VersionUse(VersionResources owned) {
        this.owned = owned;
    }

    /** A version just built, owning {@code owned}. */
    public static VersionUse owning(VersionResources owned) {
        return new VersionUse(owned);
    }

    /** The proxy put the version in service (its update was accepted): what its filters start, starts. */
    public void serve() {
        owned.serve();
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
            Thread.ofVirtual().name("listener-version-close").start(owned::close);
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
}
