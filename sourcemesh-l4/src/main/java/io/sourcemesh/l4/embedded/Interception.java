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

    /** Told when a connection announced by {@link #connected} has closed: what is still on record for it can go. */
    default void closed(InetSocketAddress localAddress, InetSocketAddress redirectedTo) {}

    /**
     * This interception for one connection a relay opens on behalf of {@code peer}. On a node a load balancer in
     * passthrough and kube-proxy translate only the destination, so the receiver's peer is the client's own socket; the
     * embedded runtime's relays open new sockets, and put {@code peer} on record for the receiver to take as its peer.
     */
    default Interception relayingFor(InetSocketAddress peer) {
        return this;
    }

    /** The peer a relay put on record for its connection {@code source} → {@code destination}, taken off the record. */
    default Optional<InetSocketAddress> relayedPeer(InetSocketAddress source, InetSocketAddress destination) {
        return Optional.empty();
    }

    Interception NONE = new Interception() {
        @Override
        public Optional<InetSocketAddress> redirect(InetSocketAddress destination, Optional<InetSocketAddress> source) {
            return Optional.empty();
        }

        @Override
        public void connected(InetSocketAddress localAddress, InetSocketAddress redirectedTo, InetSocketAddress original) {}
    };
}
