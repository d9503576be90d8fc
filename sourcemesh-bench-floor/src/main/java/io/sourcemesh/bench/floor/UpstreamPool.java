package io.sourcemesh.bench.floor;

import java.util.ArrayDeque;

/**
 * One event loop's idle upstream connections, last in first out (the most recently used is the one
 * whose socket and buffers are warm). Confined to its loop: no locking.
 */
final class UpstreamPool {
    private final ArrayDeque<UpstreamSide> idle = new ArrayDeque<>();

    /** An idle, still open connection, or null. */
    UpstreamSide acquire() {
        UpstreamSide u;
        while ((u = idle.pollFirst()) != null) {
            if (u.isOpen()) {
                return u;
            }
        }
        return null;
    }

    void release(UpstreamSide u) {
        idle.addFirst(u);
    }

    /** A pooled connection closed (by the upstream, or an idle timeout there). */
    void remove(UpstreamSide u) {
        idle.remove(u);
    }

    int idleCount() {
        return idle.size();
    }
}
