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
     * {@code POST /drain_listeners}; the flags mirror Envoy's {@code ?inboundonly} (only listeners whose
     * traffic_direction is INBOUND), {@code ?graceful} (keep accepting for the drain time before stopping the
     * listeners) and {@code ?skip_exit} (drain, never stop them).
     */
    default void drainListeners(boolean inboundOnly, boolean graceful, boolean skipExit) {}

    static AdminControl none() {
        return new AdminControl() {};
    }
}
