package io.sourcemesh.l4.embedded;

import java.net.InetSocketAddress;
import java.util.Optional;

/**
 * Where an upstream connection really goes. On a real node the kernel decides (iptables REDIRECT
 * or TPROXY on the destination pod), so this is {@link #NONE}. The embedded runtime, which has no
 * kernel rules, plays that part: a connection to an injected pod's app port is sent to that pod's
 * sidecar instead, and {@link #connected} records the original destination the way conntrack would.
 */
public interface Interception {

    /** The address to connect to instead of {@code destination}, if any; {@code source} is the address the socket binds, if any. */
    Optional<InetSocketAddress> redirect(InetSocketAddress destination, Optional<InetSocketAddress> source);

    /** Told once the redirected socket is bound, before it connects, so the receiver can look it up. */
    void connected(InetSocketAddress localAddress, InetSocketAddress redirectedTo, InetSocketAddress originalDestination);

    /**
     * Told when a connection announced by {@link #connected} failed to connect: nobody will look it
     * up, so what was recorded for it can go (the kernel drops a failed connection's conntrack entry too).
     */
    default void abandoned(InetSocketAddress localAddress, InetSocketAddress redirectedTo) {}

    Interception NONE = new Interception() {
        @Override
        public Optional<InetSocketAddress> redirect(InetSocketAddress destination, Optional<InetSocketAddress> source) {
            return Optional.empty();
        }

        @Override
        public void connected(InetSocketAddress localAddress, InetSocketAddress redirectedTo, InetSocketAddress original) {}
    };
}
