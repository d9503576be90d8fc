package io.sourcemesh.cluster.loadbalancer;

import io.sourcemesh.l4.Addresses;
import io.sourcemesh.api.resource.Cidr;
import io.sourcemesh.api.resource.ProxyProtocolAnnotations;
import io.sourcemesh.cluster.kubeproxy.ClusterNode;
import io.sourcemesh.cluster.network.L4Forwarder;
import io.sourcemesh.l4.transport.Transport;
import io.sourcemesh.l4.SourceBinding;
import io.sourcemesh.l4.UpstreamConnector;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.logging.Logger;

/**
 * One cloud (L4, pass-through) load balancer for one LoadBalancer Service: listeners on its own
 * address at the Service ports, each connection sent to a healthy node's nodePort from the
 * client's own address (as SLB/NLB in pass-through mode do), backends probed by {@link HealthCheck}.
 * A Service annotated for PROXY protocol gets the header ({@link ProxyProtocolHeader}) before the
 * client's first byte, so the client's address survives even a node's SNAT (externalTrafficPolicy Cluster).
 */
public final class CloudLoadBalancer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(CloudLoadBalancer.class.getName());

    private final Transport transport;
    private final UpstreamConnector connector;
    private final InetAddress ip;
    private final Map<Integer, L4Forwarder> listeners = new HashMap<>();
    /**
     * Probes in a row a healthy node fails before traffic leaves it; one success brings it back (Kubernetes' GCE
     * L4 health check: unhealthy threshold 3, healthy threshold 1). A probe that times out once on a busy machine
     * must not take the only node of an externalTrafficPolicy Local service out.
     */
    static final int UNHEALTHY_THRESHOLD = 3;

    private final Map<InetAddress, Boolean> healthy = new ConcurrentHashMap<>();
    private final Map<InetAddress, Integer> failures = new HashMap<>();
    private volatile Backends backends;

    /**
     * Where traffic may go: the nodes, the nodePort per listener port, how nodes are probed, the
     * PROXY protocol header prepended to each connection, if the Service asks for one, and the client
     * ranges let in (the Service's loadBalancerSourceRanges; none: every client).
     */
    public record Backends(List<ClusterNode> nodes, Map<Integer, Integer> nodePorts, HealthCheck check,
            Optional<ProxyProtocolAnnotations.Version> proxyProtocol, List<Cidr> sourceRanges) {
        public Backends {
            nodes = List.copyOf(nodes);
            nodePorts = Map.copyOf(nodePorts);
            sourceRanges = List.copyOf(sourceRanges);
        }

        public Backends(List<ClusterNode> nodes, Map<Integer, Integer> nodePorts, HealthCheck check,
                Optional<ProxyProtocolAnnotations.Version> proxyProtocol) {
            this(nodes, nodePorts, check, proxyProtocol, List.of());
        }

        public Backends(List<ClusterNode> nodes, Map<Integer, Integer> nodePorts, HealthCheck check) {
            this(nodes, nodePorts, check, Optional.empty());
        }

        /** Whether a client at {@code ip} may connect (as a cloud firewall built from the source ranges decides). */
        boolean admits(InetAddress ip) {
            if (sourceRanges.isEmpty()) {
                return true;
            }
            for (Cidr range : sourceRanges) {
                if (range.contains(ip)) {
                    return true;
                }
            }
            return false;
        }
    }

    private CloudLoadBalancer(Transport transport, UpstreamConnector connector, InetAddress ip, Backends backends) {
        this.transport = transport;
        this.connector = connector;
        this.ip = ip;
        this.backends = backends;
    }

    public static CloudLoadBalancer start(Transport transport, UpstreamConnector connector, InetAddress ip, Backends backends) {
        CloudLoadBalancer lb = new CloudLoadBalancer(transport, connector, ip, backends);
        lb.update(backends);
        return lb;
    }

    public InetAddress ip() {
        return ip;
    }

    public Backends backends() {
        return backends;
    }

    /**
     * New backends (a patched Service, ready endpoints moved): listeners follow the ports; probes are redone at once
     * and taken as they come, the thresholds starting over (what changed is known, not a passing glitch).
     */
    public synchronized void update(Backends next) {
        this.backends = next;
        listeners.entrySet().removeIf(e -> {
            boolean gone = !next.nodePorts().containsKey(e.getKey());
            if (gone) {
                e.getValue().close();
            }
            return gone;
        });
        for (int port : next.nodePorts().keySet()) {
            if (!listeners.containsKey(port)) {
                InetSocketAddress bind = new InetSocketAddress(ip, port);
                try {
                    listeners.put(port, L4Forwarder.start(transport, bind, client -> route(port, client)));
                } catch (Exception e) { // bind failures are (sneaky) IOExceptions
                    LOG.warning("load balancer cannot listen on " + bind + ": " + e.getMessage());
                }
            }
        }
        probe(true);
    }

    /**
     * The periodic probe of every node: one success makes a node healthy, {@link #UNHEALTHY_THRESHOLD} failures in
     * a row unhealthy. Serialized with {@link #update}, so a round that began before a change cannot write its
     * older results over the change's.
     */
    public synchronized void check() {
        probe(false);
    }

    private void probe(boolean reset) {
        Backends b = backends;
        for (ClusterNode n : b.nodes()) {
            if (b.check().probe(ip, n.ip())) {
                failures.remove(n.ip());
                healthy.put(n.ip(), true);
            } else if (reset || failures.merge(n.ip(), 1, Integer::sum) >= UNHEALTHY_THRESHOLD || !healthy.containsKey(n.ip())) {
                healthy.put(n.ip(), false);
            }
        }
        List<InetAddress> known = b.nodes().stream().map(ClusterNode::ip).toList();
        healthy.keySet().retainAll(known);
        failures.keySet().retainAll(known);
    }

    /** The nodes traffic goes to now. */
    public Set<InetAddress> healthyNodes() {
        Set<InetAddress> out = new LinkedHashSet<>();
        for (ClusterNode n : backends.nodes()) {
            if (healthy.getOrDefault(n.ip(), false)) {
                out.add(n.ip());
            }
        }
        return out;
    }

    Optional<L4Forwarder.Decision> route(int port, InetSocketAddress client) {
        Backends b = backends;
        Integer nodePort = b.nodePorts().get(port);
        InetAddress clientIp = Addresses.unmapped(client.getAddress());
        if (!b.admits(clientIp)) {
            // Outside loadBalancerSourceRanges: a cloud firewall drops the SYN; the connection this relay has
            // accepted already is closed before a byte reaches a node.
            LOG.fine(() -> "load balancer " + ip + ":" + port + " refuses " + clientIp + ": outside its source ranges");
            return Optional.empty();
        }
        List<InetAddress> up = List.copyOf(healthyNodes());
        if (nodePort == null || up.isEmpty()) {
            return Optional.empty();
        }
        InetAddress node = up.get(ThreadLocalRandom.current().nextInt(up.size()));
        // As SLB with proxy-protocol "on": the client as the header's source, this listener as its destination.
        byte[] header = b.proxyProtocol().map(v -> ProxyProtocolHeader.of(v, new InetSocketAddress(clientIp, client.getPort()),
                new InetSocketAddress(ip, port))).orElse(new byte[0]);
        // A passthrough load balancer translates the destination only: the node sees the client's socket (the relay's
        // own socket put on record with the client as its peer).
        return Optional.of(new L4Forwarder.Decision(new InetSocketAddress(node, nodePort),
                SourceBinding.fixed(new InetSocketAddress(clientIp, 0)), connector.relayingFor(client), header));
    }

    @Override
    public synchronized void close() {
        listeners.values().forEach(L4Forwarder::close);
        listeners.clear();
    }
}
