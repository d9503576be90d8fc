package io.sourcemesh.proxy.listener;

/**
 * Envoy's server-wide DrainDecision as its connection managers ask it at each response
 * (source/server/drain_manager_impl.cc, drainClose): true while the admin's {@code /healthcheck/fail} holds, so every
 * HTTP/1 response says Connection: close and every HTTP/2 connection starts its GOAWAYs, and load balancers that
 * health-check the proxy move their clients elsewhere. One per proxy; read once per request.
 */
public final class DrainDecision {
    /** For a connection manager outside a proxy (tests, tools): never drains. */
    public static final DrainDecision NEVER = new DrainDecision();

    private volatile boolean healthCheckFailed;

    public boolean drainClose() {
        return healthCheckFailed;
    }

    /** {@code POST /healthcheck/fail} (true) and {@code /healthcheck/ok} (false). */
    public void healthCheckFailed(boolean failed) {
        if (this == NEVER) {
            throw new IllegalStateException("the shared never-draining decision cannot fail health checks");
        }
        healthCheckFailed = failed;
    }
}
