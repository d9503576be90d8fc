package io.sourcemesh.cli;

import io.sourcemesh.proxy.Proxy;

/** The admin listener of a proxy started from the CLI, when its bootstrap has {@code admin}. */
final class ProxyAdmin implements AutoCloseable {
    private ProxyAdmin() {}

    static ProxyAdmin start(Proxy proxy) {
        return new ProxyAdmin();
    }

    @Override
    public void close() {}
}
