package io.sourcemesh.l4.embedded;

import io.netty.channel.Channel;
import io.sourcemesh.l4.transport.Transport;
import java.net.InetSocketAddress;
import java.util.Optional;

/**
 * Where original_dst learns a redirected connection's original destination. The kernel's
 * SO_ORIGINAL_DST by default; the embedded runtime, which has no iptables, supplies its own table
 * (it plays the part of conntrack for the connections it redirects).
 */
@FunctionalInterface
public interface OriginalDestinations {
    Optional<InetSocketAddress> lookup(Channel accepted);

    /**
     * The client's own address where a relay connected in its place (the embedded runtime's service VIPs, load balancer
     * and kube-proxy open new connections): on a node, REDIRECT and DNAT keep the client's socket, so the receiver's
     * peer is the client's address and port, its direct peer too. Asked once per connection, at accept.
     */
    default Optional<InetSocketAddress> relayedPeer(Channel accepted) {
        return Optional.empty();
    }

    /**
     * The kernel's SO_ORIGINAL_DST. A class, not a method reference: with a default method beside {@link #lookup}, the
     * JVM made the method reference's class at run time, outside the proxy's AOT cache (ProxyAotCacheTest).
     */
    OriginalDestinations KERNEL = new Kernel();

    /** {@link #KERNEL}'s class. */
    final class Kernel implements OriginalDestinations {
        private Kernel() {}

        @Override
        public Optional<InetSocketAddress> lookup(Channel accepted) {
            return Transport.originalDestination(accepted);
        }
    }
}
