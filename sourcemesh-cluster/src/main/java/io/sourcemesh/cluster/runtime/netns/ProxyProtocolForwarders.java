package io.sourcemesh.cluster.runtime.netns;

import io.sourcemesh.l4.Addresses;
import io.sourcemesh.api.resource.ProxyProtocolAnnotations;
import io.sourcemesh.cluster.loadbalancer.ProxyProtocolHeader;
import io.sourcemesh.cluster.netns.NetnsThreads;
import io.sourcemesh.cluster.network.L4Forwarder;
import io.sourcemesh.l4.transport.Transport;
import io.sourcemesh.l4.SourceBinding;
import io.sourcemesh.l4.UpstreamConnector;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The lb namespace's data path for Services whose load balancer prepends PROXY protocol: iptables'
 * DNAT cannot add bytes, so each such frontend (address and port) is a userspace L4 forwarder bound
 * inside the lb namespace that connects to a healthy node's node port from the lb's own address and
 * writes the header (the internet client as source, the frontend as destination) first. Its event
 * loop is a thread that entered the lb namespace, so the node-side sockets are made there too.
 */
final class ProxyProtocolForwarders implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ProxyProtocolForwarders.class.getName());

    /** One frontend as the forwarder reads it per connection: where to send, and which header. */
    record Target(List<String> healthyNodes, int nodePort, ProxyProtocolAnnotations.Version version) {}

    private final String netns;
    private final Transport transport;
    private final UpstreamConnector connector;
    private final Map<InetSocketAddress, L4Forwarder> forwarders = new HashMap<>();

    private ProxyProtocolForwarders(String netns, Transport transport) {
        this.netns = netns;
        this.transport = transport;
        this.connector = new UpstreamConnector(transport);
    }

    /** A forwarder set whose event loop lives in {@code netns} (the first task starts its thread from there). */
    static ProxyProtocolForwarders in(String netns) {
        Transport transport = NetnsThreads.call(netns, () -> {
            Transport t = Transport.create(1);
            t.group().submit(() -> { }).syncUninterruptibly();
            return t;
        });
        return new ProxyProtocolForwarders(netns, transport);
    }

    /**
     * Listens on exactly {@code frontends}; {@code targets} is asked per connection (so health and
     * version changes apply at once, without rebinding). A frontend it cannot bind is logged.
     */
    synchronized void sync(Set<InetSocketAddress> frontends, Function<InetSocketAddress, Optional<Target>> targets) {
        forwarders.entrySet().removeIf(e -> {
            boolean gone = !frontends.contains(e.getKey());
            if (gone) {
                e.getValue().close();
            }
            return gone;
        });
        for (InetSocketAddress frontend : frontends) {
            if (forwarders.containsKey(frontend)) {
                continue;
            }
            try {
                forwarders.put(frontend, NetnsThreads.call(netns, () -> L4Forwarder.start(transport, frontend,
                        client -> targets.apply(frontend).flatMap(t -> decide(frontend, client, t)))));
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "load balancer: cannot listen on " + frontend + " in " + netns, e);
            }
        }
    }

    synchronized Set<InetSocketAddress> frontends() {
        return Set.copyOf(forwarders.keySet());
    }

    private Optional<L4Forwarder.Decision> decide(InetSocketAddress frontend, InetSocketAddress client, Target t) {
        if (t.healthyNodes().isEmpty()) {
            return Optional.empty(); // no healthy node: the client's connection is closed, as the DNAT path resets it
        }
        String node = t.healthyNodes().get(ThreadLocalRandom.current().nextInt(t.healthyNodes().size()));
        InetAddress clientIp = Addresses.unmapped(client.getAddress());
        byte[] header = ProxyProtocolHeader.of(t.version(), new InetSocketAddress(clientIp, client.getPort()), frontend);
        return Optional.of(new L4Forwarder.Decision(new InetSocketAddress(node, t.nodePort()), SourceBinding.NONE, connector, header));
    }

    @Override
    public synchronized void close() {
        forwarders.values().forEach(f -> {
            try {
                f.close();
            } catch (RuntimeException e) {
                LOG.fine("closing a load balancer forwarder: " + e.getMessage());
            }
        });
        forwarders.clear();
        transport.close();
    }
}
