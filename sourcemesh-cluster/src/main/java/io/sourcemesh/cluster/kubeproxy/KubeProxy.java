package io.sourcemesh.cluster.kubeproxy;

import io.sourcemesh.l4.Addresses;
import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.cluster.network.L4Forwarder;
import io.sourcemesh.l4.transport.Transport;
import io.sourcemesh.l4.SourceBinding;
import io.sourcemesh.l4.UpstreamConnector;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.logging.Logger;

/**
 * kube-proxy on every node, for NodePort and LoadBalancer services: a forwarder on
 * nodeIP:nodePort per service port and node. Under externalTrafficPolicy Cluster a connection goes
 * to any ready endpoint, from the node's own address (the MASQUERADE that hides the client); under
 * Local only to endpoints on this node, from the client's address, and a node without one drops it.
 * The policy is read per connection, so a patched Service takes effect at once.
 */
public final class KubeProxy implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(KubeProxy.class.getName());

    private final Transport transport;
    private final UpstreamConnector connector;
    private final List<ClusterNode> nodes;
    private final Supplier<List<Endpoint>> endpoints;
    private final Map<Key, Forwarding> forwarders = new HashMap<>();
    private final Map<Key, Running> healthChecks = new HashMap<>();
    private final ClientIpAffinity affinity;

    private record Key(String node, int port) {}

    /** What one node port serves: the Service as last seen, and its port entry. */
    private record Rule(KubeObject service, JsonNode port) {}

    private record Forwarding(L4Forwarder forwarder, AtomicReference<Rule> rule) {}

    private record Running(HealthCheckServer server, AtomicReference<KubeObject> current) {}

    private KubeProxy(Transport transport, UpstreamConnector connector, List<ClusterNode> nodes, Supplier<List<Endpoint>> endpoints,
            ClientIpAffinity affinity) {
        this.transport = transport;
        this.affinity = affinity;
        this.connector = connector;
        this.nodes = List.copyOf(nodes);
        this.endpoints = endpoints;
    }

    /**
     * @param connector how a forwarded connection is made (the runtime's interception applies to it)
     * @param endpoints the ready pods, read per connection
     * @param affinity the runtime's sessionAffinity table, shared with its cluster IPs (one KUBE-SVC chain per service port)
     */
    public static KubeProxy create(Transport transport, UpstreamConnector connector, List<ClusterNode> nodes,
            Supplier<List<Endpoint>> endpoints, ClientIpAffinity affinity) {
        return new KubeProxy(transport, connector, nodes, endpoints, affinity);
    }

    /** Brings the node ports and health-check ports in line with {@code services}. */
    public void sync(List<KubeObject> services) {
        Map<Key, Rule> wanted = new HashMap<>();
        Map<Key, KubeObject> wantedChecks = new HashMap<>();
        for (KubeObject svc : services) {
            if (!ServiceSpecs.exposedOnNodes(svc)) {
                continue;
            }
            for (JsonNode port : svc.spec().path("ports")) {
                int nodePort = port.path("nodePort").asInt(0);
                if (nodePort > 0 && ServiceSpecs.tcp(port)) {
                    nodes.forEach(n -> wanted.put(new Key(n.name(), nodePort), new Rule(svc, port)));
                }
            }
            int hc = ServiceSpecs.healthCheckNodePort(svc);
            if (hc > 0 && ServiceSpecs.loadBalancer(svc) && ServiceSpecs.local(svc)) {
                nodes.forEach(n -> wantedChecks.put(new Key(n.name(), hc), svc));
            }
        }
        forwarders.entrySet().removeIf(e -> {
            Rule r = wanted.get(e.getKey());
            boolean gone = r == null || !sameService(r.service(), e.getValue().rule().get().service());
            if (gone) {
                e.getValue().forwarder().close();
            }
            return gone;
        });
        healthChecks.entrySet().removeIf(e -> {
            KubeObject svc = wantedChecks.get(e.getKey());
            boolean gone = svc == null || !svc.uid().equals(e.getValue().current().get().uid());
            if (gone) {
                e.getValue().server().close();
            }
            return gone;
        });
        for (Map.Entry<Key, Rule> e : wanted.entrySet()) {
            Forwarding f = forwarders.get(e.getKey());
            if (f != null) {
                f.rule().set(e.getValue());
                continue;
            }
            ClusterNode node = node(e.getKey().node());
            AtomicReference<Rule> rule = new AtomicReference<>(e.getValue());
            InetSocketAddress bind = new InetSocketAddress(node.ip(), e.getKey().port());
            try {
                forwarders.put(e.getKey(), new Forwarding(L4Forwarder.start(transport, bind, client -> route(node, rule.get(), bind, client)), rule));
            } catch (Exception ex) { // bind failures are (sneaky) IOExceptions
                LOG.warning("kube-proxy cannot serve " + bind + ": " + ex.getMessage());
            }
        }
        for (Map.Entry<Key, KubeObject> e : wantedChecks.entrySet()) {
            Running r = healthChecks.get(e.getKey());
            if (r != null) {
                r.current().set(e.getValue());
                continue;
            }
            ClusterNode node = node(e.getKey().node());
            AtomicReference<KubeObject> current = new AtomicReference<>(e.getValue());
            InetSocketAddress bind = new InetSocketAddress(node.ip(), e.getKey().port());
            try {
                HealthCheckServer server = HealthCheckServer.start(transport, bind, e.getValue().namespace(), e.getValue().name(),
                        () -> localEndpoints(current.get(), node.name()).size());
                healthChecks.put(e.getKey(), new Running(server, current));
            } catch (Exception ex) {
                LOG.warning("kube-proxy cannot serve health checks on " + bind + ": " + ex.getMessage());
            }
        }
    }

    private static boolean sameService(KubeObject a, KubeObject b) {
        return a.uid().equals(b.uid());
    }

    private ClusterNode node(String name) {
        return nodes.stream().filter(n -> n.name().equals(name)).findFirst().orElseThrow();
    }

    /**
     * One connection to {@code nodePort} (nodeIP:nodePort), decided as kube-proxy's KUBE-EXT chain would. The rules
     * DNAT, so under Local the pod's peer is the client's socket, port included (the load balancer's client where it
     * relayed one); under Cluster they masquerade to the node.
     */
    Optional<L4Forwarder.Decision> route(ClusterNode node, Rule rule, InetSocketAddress nodePort, InetSocketAddress client) {
        InetSocketAddress peer = connector.relayedPeer(client, nodePort).orElse(client);
        boolean local = ServiceSpecs.local(rule.service());
        List<Endpoint> candidates = local ? localEndpoints(rule.service(), node.name()) : endpoints(rule.service());
        if (candidates.isEmpty()) {
            return Optional.empty(); // KUBE-MARK-DROP
        }
        InetAddress clientIp = Addresses.unmapped(client.getAddress());
        Endpoint target = affinity.pick(rule.service(), rule.port(), clientIp, candidates, Endpoint::ip);
        InetAddress source = local ? clientIp : node.ip();
        return Optional.of(new L4Forwarder.Decision(
                new InetSocketAddress(target.ip(), ServiceSpecs.targetPort(rule.port(), target.pod())),
                SourceBinding.fixed(new InetSocketAddress(source, 0)), local ? connector.relayingFor(peer) : connector));
    }

    /** Ready endpoints of a service, on any node. */
    public List<Endpoint> endpoints(KubeObject svc) {
        List<Endpoint> out = new ArrayList<>();
        for (Endpoint e : endpoints.get()) {
            if (ServiceSpecs.selects(svc, e.pod())) {
                out.add(e);
            }
        }
        return out;
    }

    /** Ready endpoints of a service on one node: what the health check counts. */
    public List<Endpoint> localEndpoints(KubeObject svc, String node) {
        return endpoints(svc).stream().filter(e -> e.node().equals(node)).toList();
    }

    @Override
    public void close() {
        forwarders.values().forEach(f -> f.forwarder().close());
        forwarders.clear();
        healthChecks.values().forEach(r -> r.server().close());
        healthChecks.clear();
    }
}
