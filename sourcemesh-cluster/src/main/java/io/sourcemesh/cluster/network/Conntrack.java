package io.sourcemesh.cluster.network;

import io.sourcemesh.l4.Addresses;
import io.netty.channel.Channel;
import io.sourcemesh.l4.embedded.OriginalDestinations;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The embedded runtime's stand-in for the kernel's connection tracking: when a connection is
 * redirected (to a sidecar's 15006 or 15001), its original destination is recorded under the
 * connection's source address, and the sidecar's original_dst looks it up there — as
 * SO_ORIGINAL_DST reads it from conntrack on a real node.
 */
public final class Conntrack implements OriginalDestinations {
    private final Map<Key, InetSocketAddress> entries = new ConcurrentHashMap<>();
    /**
     * The clients of relayed connections (a service VIP's capture, the load balancer's and kube-proxy's relays), by the
     * same key: what the receiver's peer would be where the kernel only translates destinations.
     */
    private final Map<Key, InetSocketAddress> relayedFor = new ConcurrentHashMap<>();

    private record Key(InetSocketAddress source, InetSocketAddress redirectedTo) {}

    public void record(InetSocketAddress source, InetSocketAddress redirectedTo, InetSocketAddress original) {
        Key key = new Key(normalize(source), normalize(redirectedTo));
        entries.put(key, original);
    }

    /** As {@link #record}, for a connection a relay opened for {@code client}: the sidecar takes the client as its peer. */
    public void recordRelayed(InetSocketAddress source, InetSocketAddress redirectedTo, InetSocketAddress original,
            InetSocketAddress client) {
        Key key = new Key(normalize(source), normalize(redirectedTo));
        relayedFor.put(key, normalize(client));
        entries.put(key, original);
    }

    /**
     * A relay's own connection to {@code destination} for {@code client}, not redirected: only the peer is on record, for
     * the receiver (a gateway, another relay) to take.
     */
    public void recordPeer(InetSocketAddress source, InetSocketAddress destination, InetSocketAddress client) {
        relayedFor.put(new Key(normalize(source), normalize(destination)), normalize(client));
    }

    /** The peer on record for {@code source} → {@code destination}, taken off the record (ports are reused). */
    public Optional<InetSocketAddress> takePeer(InetSocketAddress source, InetSocketAddress destination) {
        if (relayedFor.isEmpty()) {
            return Optional.empty();
        }
        return Optional.ofNullable(relayedFor.remove(new Key(normalize(source), normalize(destination))));
    }

    /** A relayed connection closed: its peer goes if the receiver never took it (an app without a sidecar). */
    public void forgetPeer(InetSocketAddress source, InetSocketAddress destination, InetSocketAddress client) {
        relayedFor.remove(new Key(normalize(source), normalize(destination)), normalize(client));
    }

    /** A recorded connection that never connected: nobody will look it up. */
    public void forget(InetSocketAddress source, InetSocketAddress redirectedTo) {
        Key key = new Key(normalize(source), normalize(redirectedTo));
        entries.remove(key);
        relayedFor.remove(key);
    }

    /**
     * Whether {@code source} → {@code vip} is a sidecar's own connection, put on record before it connected (the
     * proxy's uid-1337 exemption from outbound capture); taken off the record, as a lookup does.
     */
    public boolean takeProxyOwn(InetSocketAddress source, InetSocketAddress vip) {
        return entries.remove(new Key(normalize(source), normalize(vip))) != null;
    }

    @Override
    public Optional<InetSocketAddress> lookup(Channel accepted) {
        Key key = new Key(normalize((InetSocketAddress) accepted.remoteAddress()), normalize((InetSocketAddress) accepted.localAddress()));
        // One lookup per connection: the entry is not needed afterwards (ports are reused).
        return Optional.ofNullable(entries.remove(key));
    }

    @Override
    public Optional<InetSocketAddress> relayedPeer(Channel accepted) {
        return takePeer((InetSocketAddress) accepted.remoteAddress(), (InetSocketAddress) accepted.localAddress());
    }

    public int size() {
        return entries.size() + relayedFor.size();
    }

    private static InetSocketAddress normalize(InetSocketAddress a) {
        return new InetSocketAddress(Addresses.unmapped(a.getAddress()), a.getPort());
    }
}
