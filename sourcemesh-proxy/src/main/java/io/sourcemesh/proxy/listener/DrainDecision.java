package io.sourcemesh.proxy.listener;

/**
 * Envoy's server-wide DrainDecision as its connection managers ask it at each response
 * (source/server/drain_manager_impl.cc, drainClose): true while the admin's {@code /healthcheck/fail} holds, so every
 * HTTP/1 response says Connection: close and every HTTP/2 connection starts its GOAWAYs, and load balancers that
 * health-check the proxy move their clients elsewhere. One per proxy; read once per request, by a listener that the
 * health check drains.
 */
public final class DrainDecision {
    /** For a connection manager outside a proxy (tests, tools): never drains. */
    public static final DrainDecision NEVER = new DrainDecision();

    /** A MODIFY_ONLY listener's: the health check does not drain it (only its own removal or change does). */
    private static final DrainDecision MODIFY_ONLY = new DrainDecision();

    private volatile boolean healthCheckFailed;

    /** The decision a listener of this drain_type asks: this one (DEFAULT), or one the health check never moves. */
    public DrainDecision forListener(boolean modifyOnly) {
        return modifyOnly ? MODIFY_ONLY : this;
    }

    /**
     * True when {@link #drainClose} is false for good (outside a proxy, a MODIFY_ONLY listener's): a connection manager
     * asks this once, when made for its listener, and then never asks per request.
     */
    public boolean constant() {
        return this == NEVER || this == MODIFY_ONLY;
    }

    public boolean drainClose() {
        return healthCheckFailed;
    }

    /** {@code POST /healthcheck/fail} (true) and {@code /healthcheck/ok} (false). */
    public void healthCheckFailed(boolean failed) {
        if (this == NEVER || this == MODIFY_ONLY) {
            throw new IllegalStateException("the shared never-draining decision cannot fail health checks");
        }
        healthCheckFailed = failed;
    }
}
