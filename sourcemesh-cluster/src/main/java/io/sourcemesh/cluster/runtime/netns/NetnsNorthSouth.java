package io.sourcemesh.cluster.runtime.netns;

import io.sourcemesh.api.resource.Cidr;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.LoadBalancerSourceRanges;
import io.sourcemesh.api.resource.ProxyProtocolAnnotations;
import io.sourcemesh.cluster.kubeproxy.HealthCheckServer;
import io.sourcemesh.cluster.kubeproxy.ServiceSpecs;
import io.sourcemesh.cluster.loadbalancer.HealthCheck;
import io.sourcemesh.cluster.loadbalancer.LoadBalancers;
import io.sourcemesh.cluster.netns.LoadBalancerRules;
import io.sourcemesh.cluster.netns.NetnsThreads;
import io.sourcemesh.cluster.netns.Shell;
import io.sourcemesh.cluster.netns.Topology;
import io.sourcemesh.cluster.network.AddressPlan;
import io.sourcemesh.cluster.store.ObjectStore;
import io.sourcemesh.l4.transport.Transport;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * North-south on network namespaces, after kube-proxy's rules are in the nodes: kube-proxy's
 * health-check servers (healthCheckNodePort, bound inside each node namespace) and the cloud
 * controller's load balancers — an address per LoadBalancer Service on the lb namespace's public
 * side, {@link LoadBalancerRules} DNATing to the nodes that pass health checks, probed every second
 * from the lb namespace itself (a thread of ours inside it, {@link NetnsThreads}). A Service with
 * Alibaba's proxy-protocol annotation gets no DNAT: {@link ProxyProtocolForwarders} serve its
 * frontends in userspace, prepending the PROXY header.
 */
final class NetnsNorthSouth implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(NetnsNorthSouth.class.getName());
    static final long PROBE_INTERVAL_MILLIS = 1000;
    /** Load balancer addresses: 198.18.0.100–254 on the lb's public side (the lb itself is .1, the client .5). */
    private static final String VIP_PREFIX = "198.18.0.";
    private static final int FIRST_VIP = 100;

    /** What one LoadBalancer Service needs from the cloud: its address, port → node port, and how nodes are probed. */
    private record Balancer(String service, String ip, Map<Integer, Integer> nodePorts, HealthCheck check,
            Optional<ProxyProtocolAnnotations.Version> proxyProtocol, List<Cidr> sourceRanges) {
    }

    private final ObjectStore store;
    private final Topology topology;
    private final Transport transport = Transport.create(1);
    /** Frontends of Services with PROXY protocol: userspace, in the lb namespace (DNAT cannot prepend bytes). */
    private final ProxyProtocolForwarders proxyProtocol;
    private final Map<String, HealthCheckServer> healthServers = new LinkedHashMap<>();
    /** "namespace/name@node" → ready local endpoints, read by the health-check servers. */
    private final Map<String, Integer> localEndpoints = new ConcurrentHashMap<>();
    private final Map<String, Balancer> balancers = new ConcurrentHashMap<>();
    /** service → node address → last probe result. */
    private final Map<String, Map<String, Boolean>> health = new ConcurrentHashMap<>();
    private final ScheduledExecutorService prober;
    private final Set<String> vips = new HashSet<>();
    private String appliedRules = "";

    NetnsNorthSouth(ObjectStore store, Topology topology) {
        this.store = store;
        this.topology = topology;
        this.proxyProtocol = ProxyProtocolForwarders.in(topology.lb());
        this.prober = Executors.newSingleThreadScheduledExecutor(NetnsThreads.factory(topology.lb(), "sourcemesh-lb-healthcheck"));
        prober.scheduleWithFixedDelay(this::probeAll, PROBE_INTERVAL_MILLIS, PROBE_INTERVAL_MILLIS, TimeUnit.MILLISECONDS);
        applyRules();
    }

    /**
     * Brings health-check servers and load balancers in line with {@code services} (node ports
     * already allocated); {@code ready} are the ready pods, for the local endpoint counts.
     */
    void sync(List<KubeObject> services, List<NetnsPod> ready) {
        syncHealthServers(services, ready);
        syncBalancers(services);
    }

    private void syncHealthServers(List<KubeObject> services, List<NetnsPod> ready) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        Map<String, KubeObject> wanted = new LinkedHashMap<>();
        for (KubeObject svc : services) {
            int port = ServiceSpecs.healthCheckNodePort(svc);
            if (!ServiceSpecs.loadBalancer(svc) || !ServiceSpecs.local(svc) || port <= 0) {
                continue;
            }
            for (Topology.Node node : topology.nodes()) {
                String countKey = svc.namespace() + "/" + svc.name() + "@" + node.name();
                counts.put(countKey, (int) ready.stream()
                        .filter(p -> p.node().equals(node.name()) && ServiceSpecs.selects(svc, p.pod())).count());
                wanted.put(countKey + ":" + port, svc);
            }
        }
        localEndpoints.putAll(counts);
        localEndpoints.keySet().retainAll(counts.keySet());
        for (String k : List.copyOf(healthServers.keySet())) {
            if (!wanted.containsKey(k)) {
                healthServers.remove(k).close();
            }
        }
        for (Map.Entry<String, KubeObject> e : wanted.entrySet()) {
            if (healthServers.containsKey(e.getKey())) {
                continue;
            }
            KubeObject svc = e.getValue();
            String countKey = e.getKey().substring(0, e.getKey().lastIndexOf(':'));
            Topology.Node node = topology.node(countKey.substring(countKey.indexOf('@') + 1));
            int port = ServiceSpecs.healthCheckNodePort(svc);
            try {
                // kube-proxy listens on every node address; the socket stays in the node's namespace.
                healthServers.put(e.getKey(), NetnsThreads.call(node.netns(), () -> HealthCheckServer.start(transport,
                        new InetSocketAddress(InetAddress.getByName("0.0.0.0"), port), svc.namespace(), svc.name(),
                        () -> localEndpoints.getOrDefault(countKey, 0))));
            } catch (RuntimeException ex) {
                LOG.log(Level.WARNING, "kube-proxy on " + node.name() + ": cannot serve health checks of " + svc.name() + " on " + port, ex);
            }
        }
    }

    private void syncBalancers(List<KubeObject> services) {
        Map<String, KubeObject> wanted = new LinkedHashMap<>();
        for (KubeObject svc : services) {
            if (ServiceSpecs.loadBalancer(svc) && !ServiceSpecs.nodePorts(svc).isEmpty() && ServiceSpecs.nodePortsAllocated(svc)) {
                wanted.put(key(svc), svc);
            } else if (svc.status().path("loadBalancer").has("ingress")) {
                writeIngress(svc, null); // no longer a LoadBalancer: the cloud releases the address
            }
        }
        boolean changed = balancers.keySet().retainAll(wanted.keySet());
        health.keySet().retainAll(wanted.keySet());
        Set<String> taken = new HashSet<>();
        wanted.values().forEach(svc -> ingressIp(svc).ifPresent(taken::add));
        for (KubeObject svc : wanted.values()) {
            String ip = Optional.ofNullable(balancers.get(key(svc))).map(Balancer::ip).or(() -> ingressIp(svc))
                    .orElseGet(() -> freeVip(taken));
            if (ip == null) {
                LOG.warning("no load balancer addresses left for " + key(svc));
                continue;
            }
            Balancer next = new Balancer(key(svc), ip, ServiceSpecs.nodePorts(svc), LoadBalancers.check(svc),
                    ProxyProtocolAnnotations.of(svc.node()), LoadBalancerSourceRanges.of(svc.node()));
            Balancer previous = balancers.put(key(svc), next);
            if (!next.equals(previous)) {
                changed = true;
                // New ports or a new policy: what passed before says nothing now.
                health.remove(key(svc));
            }
            if (!ingressIp(svc).equals(Optional.of(ip))) {
                writeIngress(svc, ip);
            }
        }
        syncVips();
        syncProxyProtocol();
        if (changed) {
            // Until the new check has run, a changed balancer sends nowhere (the lb resets at once): under
            // the old check's results it would keep sending to nodes that now drop (Cluster → Local).
            // The probe follows at once, so this lasts milliseconds.
            try {
                applyRules();
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "load balancer rules", e);
            }
            prober.execute(this::probeAll);
        }
    }

    /** A forwarder per frontend of each balancer that prepends PROXY protocol (after its address exists). */
    private void syncProxyProtocol() {
        Set<InetSocketAddress> frontends = new HashSet<>();
        for (Balancer b : balancers.values()) {
            if (b.proxyProtocol().isPresent()) {
                b.nodePorts().keySet().forEach(port -> frontends.add(new InetSocketAddress(ip(b.ip()), port)));
            }
        }
        proxyProtocol.sync(frontends, this::proxyProtocolTarget);
    }

    private Optional<ProxyProtocolForwarders.Target> proxyProtocolTarget(InetSocketAddress frontend) {
        for (Balancer b : balancers.values()) {
            Integer nodePort = b.nodePorts().get(frontend.getPort());
            if (b.proxyProtocol().isPresent() && nodePort != null && ip(b.ip()).equals(frontend.getAddress())) {
                return Optional.of(new ProxyProtocolForwarders.Target(List.copyOf(healthyNodes(b.service())), nodePort,
                        b.proxyProtocol().get()));
            }
        }
        return Optional.empty();
    }

    private static InetAddress ip(String literal) {
        return AddressPlan.ip(literal);
    }

    private String freeVip(Set<String> taken) {
        for (int i = FIRST_VIP; i <= 254; i++) {
            if (taken.add(VIP_PREFIX + i)) {
                return VIP_PREFIX + i;
            }
        }
        return null;
    }

    /** The lb answers ARP for each balancer's address on its public side. */
    private synchronized void syncVips() {
        Set<String> wanted = new HashSet<>();
        balancers.values().forEach(b -> wanted.add(b.ip()));
        List<String> cmds = new ArrayList<>();
        for (String ip : wanted) {
            if (!vips.contains(ip)) {
                cmds.add("addr replace " + ip + "/32 dev eth1");
            }
        }
        for (String ip : vips) {
            if (!wanted.contains(ip)) {
                cmds.add("addr del " + ip + "/32 dev eth1");
            }
        }
        if (!cmds.isEmpty()) {
            Shell.run(List.of("ip", "-n", topology.lb(), "-batch", "-"), String.join("\n", cmds) + "\n").orThrow();
            vips.clear();
            vips.addAll(wanted);
        }
    }

    /** On the prober thread, inside the lb namespace: every node of every balancer, then the rules. */
    private void probeAll() {
        try {
            InetAddress from = InetAddress.getByName(Topology.LB_LAN_IP);
            for (Balancer b : List.copyOf(balancers.values())) {
                Map<String, Boolean> results = new LinkedHashMap<>();
                for (Topology.Node node : topology.nodes()) {
                    results.put(node.ip(), b.check().probe(from, InetAddress.getByName(node.ip())));
                }
                if (balancers.get(b.service()) == b) {
                    health.put(b.service(), results);
                }
            }
            applyRules();
        } catch (UnknownHostException | RuntimeException e) {
            LOG.log(Level.WARNING, "load balancer health check", e);
        }
    }

    private synchronized void applyRules() {
        List<LoadBalancerRules.Frontend> frontends = new ArrayList<>();
        for (Balancer b : balancers.values()) {
            List<String> healthy = health.getOrDefault(b.service(), Map.of()).entrySet().stream().filter(Map.Entry::getValue)
                    .map(Map.Entry::getKey).toList();
            // A PROXY protocol frontend is served by a forwarder in userspace: its firewall, no DNAT.
            b.nodePorts().forEach((port, nodePort) -> frontends.add(new LoadBalancerRules.Frontend(b.service(), b.ip(), port, nodePort,
                    healthy, b.sourceRanges(), b.proxyProtocol().isPresent())));
        }
        LoadBalancerRules rules = LoadBalancerRules.of(frontends);
        String batch = rules.restoreBatch();
        if (!batch.equals(appliedRules)) {
            rules.applyIn(topology.lb());
            appliedRules = batch;
        }
    }

    /** The node addresses a Service's load balancer sends to now (its last probes). */
    Set<String> healthyNodes(String namespace, String name) {
        return healthyNodes(namespace + "/" + name);
    }

    private Set<String> healthyNodes(String service) {
        Set<String> out = new TreeSet<>();
        health.getOrDefault(service, Map.of()).forEach((ip, ok) -> {
            if (ok) {
                out.add(ip);
            }
        });
        return out;
    }

    Optional<String> address(String namespace, String name) {
        return Optional.ofNullable(balancers.get(namespace + "/" + name)).map(Balancer::ip);
    }

    private static Optional<String> ingressIp(KubeObject svc) {
        String ip = svc.status().path("loadBalancer").path("ingress").path(0).path("ip").asText("");
        return ip.startsWith(VIP_PREFIX) ? Optional.of(ip) : Optional.empty();
    }

    private void writeIngress(KubeObject svc, String ip) {
        LoadBalancers.writeIngress(store, svc, ip);
    }

    private static String key(KubeObject svc) {
        return svc.namespace() + "/" + svc.name();
    }

    /** Stops probing and serving; the rules and addresses go with the namespaces. */
    @Override
    public void close() {
        prober.shutdownNow();
        proxyProtocol.close();
        healthServers.values().forEach(s -> {
            try {
                s.close();
            } catch (RuntimeException e) {
                LOG.fine("closing a health-check server: " + e.getMessage());
            }
        });
        healthServers.clear();
        transport.close();
    }
}
