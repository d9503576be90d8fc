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
     * The client's own address where a relay connected in its place (the embedded runtime's service VIPs open a new
     * connection to the sidecar): on a node, REDIRECT keeps the client's socket, so the sidecar's peer is the client's
     * address and port. Asked once, after {@link #lookup} found the connection.
     */
    default Optional<InetSocketAddress> relayedPeer(Channel accepted) {
        return Optional.empty();
    }

    OriginalDestinations KERNEL = Transport::originalDestination;
}
