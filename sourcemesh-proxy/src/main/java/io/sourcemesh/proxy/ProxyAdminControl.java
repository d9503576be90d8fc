package io.sourcemesh.proxy;

import io.sourcemesh.proxy.admin.AdminControl;

/**
 * The admin listener's POST endpoints acting on a running {@link Proxy}, as Envoy's server acts on them. Each
 * returns at once: the work runs on a thread of its own, never on the admin's event loop, which closing the proxy
 * also closes.
 */
final class ProxyAdminControl implements AdminControl {
    private final Proxy proxy;

    ProxyAdminControl(Proxy proxy) {
        this.proxy = proxy;
    }

    /** Envoy's handlerQuitQuitQuit: the server shuts down (listeners, connections, clusters); the process exits. */
    @Override
    public void quit() {
        Thread.ofVirtual().name("sourcemesh-quit").start(proxy::close);
    }

    /** Envoy's drainClose while health checks fail: each response closes its connection (HTTP/2: GOAWAY). */
    @Override
    public void healthCheck(boolean failing) {
        proxy.healthCheckFailed(failing);
    }

    @Override
    public void drainListeners(boolean inboundOnly, boolean graceful, boolean skipExit) {
        Thread.ofVirtual().name("sourcemesh-drain").start(() -> proxy.drainListeners(inboundOnly, graceful, skipExit));
    }
}
