package io.sourcemesh.proxy.admin;

/**
 * What the admin listener's POST endpoints ask of the running proxy. Each call returns at once;
 * the proxy acts on its own threads.
 */
public interface AdminControl {

    /** {@code POST /quitquitquit}: exit cleanly. */
    default void quit() {}

    /**
     * {@code POST /healthcheck/fail} ({@code failing} true) and {@code /healthcheck/ok} (false):
     * the health-check filter answers 503 while failing, so load balancers drain this proxy.
     */
    default void healthCheck(boolean failing) {}

    /**
     * {@code POST /drain_listeners}; the flags mirror Envoy's {@code ?inboundonly} and
     * {@code ?graceful} (drain over the drain period instead of closing listeners at once).
     */
    default void drainListeners(boolean inboundOnly, boolean graceful) {}

    static AdminControl none() {
        return new AdminControl() {};
    }
}
