package io.sourcemesh.cluster.network;

import io.sourcemesh.l4.Addresses;
import io.sourcemesh.l4.embedded.Interception;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * istio-iptables' REDIRECT rules, played in user space for one connecting party. A connection to
 * an injected pod's port goes to that pod's sidecar (podIP:15006) instead, with the original
 * destination on record in the {@link Conntrack} — unless, as the rules exempt it, it comes from
 * 127.0.0.6 (the sidecar forwarding inbound traffic to its own app), is made by the destination
 * pod's own sidecar, or targets the sidecar's own ports.
 */
public final class EmbeddedInterception implements Interception {
    /** Ports istio-iptables never redirects: the sidecar's own listeners and health/metrics ports. */
    static final Set<Integer> EXCLUDED_PORTS = Set.of(15000, 15001, 15006, 15008, 15020, 15021, 15090);
    static final InetAddress INBOUND_PASSTHROUGH = AddressPlan.ip("127.0.0.6");

    private final Conntrack conntrack;
    private final Predicate<InetAddress> injected;
    private final InetAddress self;
    private final Predicate<InetAddress> serviceVip;
    /** The client a relay connects for ({@link #relayingFor}), or null. */
    private final InetSocketAddress peer;

    /**
     * @param injected whether an address is a pod whose sidecar captures inbound traffic
     * @param self     the pod the connecting party lives in (its own traffic is not captured), or null
     */
    public EmbeddedInterception(Conntrack conntrack, Predicate<InetAddress> injected, InetAddress self) {
        this(conntrack, injected, self, ip -> false);
    }

    /**
     * A sidecar's own: {@code serviceVip} says which addresses the runtime's VIPs capture. istio-iptables exempts the
     * proxy's own traffic (uid 1337) from its OUTPUT REDIRECT; here a sidecar's connection to a VIP (PassthroughCluster
     * to a name no SNI chain matched) is put on record first, so the VIP serves it as kube-proxy would instead of
     * capturing it back into the same sidecar.
     */
    public EmbeddedInterception(Conntrack conntrack, Predicate<InetAddress> injected, InetAddress self,
            Predicate<InetAddress> serviceVip) {
        this(conntrack, injected, self, serviceVip, null);
    }

    private EmbeddedInterception(Conntrack conntrack, Predicate<InetAddress> injected, InetAddress self,
            Predicate<InetAddress> serviceVip, InetSocketAddress peer) {
        this.conntrack = conntrack;
        this.injected = injected;
        this.self = self;
        this.serviceVip = serviceVip;
        this.peer = peer;
    }

    @Override
    public Interception relayingFor(InetSocketAddress peer) {
        return new EmbeddedInterception(conntrack, injected, self, serviceVip, peer);
    }

    @Override
    public Optional<InetSocketAddress> relayedPeer(InetSocketAddress source, InetSocketAddress destination) {
        return conntrack.takePeer(source, destination);
    }

    @Override
    public Optional<InetSocketAddress> redirect(InetSocketAddress destination, Optional<InetSocketAddress> source) {
        Optional<InetSocketAddress> to = capture(destination, source);
        // A relayed connection binds before it connects even where nothing captures it, so its peer is on record first.
        return to.isEmpty() && peer != null ? Optional.of(destination) : to;
    }

    private Optional<InetSocketAddress> capture(InetSocketAddress destination, Optional<InetSocketAddress> source) {
        InetAddress ip = Addresses.unmapped(destination.getAddress());
        if (self != null && serviceVip.test(ip)) {
            return Optional.of(destination); // the same address, through connected(): the VIP sees it is the sidecar's
        }
        if (EXCLUDED_PORTS.contains(destination.getPort()) || ip.equals(self) || !injected.test(ip)) {
            return Optional.empty();
        }
        if (source.map(a -> a.getAddress().equals(INBOUND_PASSTHROUGH)).orElse(false)) {
            return Optional.empty();
        }
        return Optional.of(new InetSocketAddress(ip, 15006));
    }

    @Override
    public void connected(InetSocketAddress localAddress, InetSocketAddress redirectedTo, InetSocketAddress originalDestination) {
        if (peer == null) {
            conntrack.record(localAddress, redirectedTo, originalDestination);
        } else if (redirectedTo.equals(originalDestination)) {
            conntrack.recordPeer(localAddress, redirectedTo, peer);
        } else {
            conntrack.recordRelayed(localAddress, redirectedTo, originalDestination, peer);
        }
    }

    @Override
    public void abandoned(InetSocketAddress localAddress, InetSocketAddress redirectedTo) {
        conntrack.forget(localAddress, redirectedTo);
    }

    @Override
    public void closed(InetSocketAddress localAddress, InetSocketAddress redirectedTo) {
        if (peer != null) {
            conntrack.forgetPeer(localAddress, redirectedTo, peer);
        }
    }
}
