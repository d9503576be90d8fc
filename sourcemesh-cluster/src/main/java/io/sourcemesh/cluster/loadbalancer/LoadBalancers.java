package io.sourcemesh.cluster.loadbalancer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.LoadBalancerSourceRanges;
import io.sourcemesh.api.resource.ProxyProtocolAnnotations;
import io.sourcemesh.cluster.kubeproxy.ClusterNode;
import io.sourcemesh.cluster.kubeproxy.ServiceSpecs;
import io.sourcemesh.cluster.network.AddressPlan;
import io.sourcemesh.cluster.store.ObjectStore;
import io.sourcemesh.cluster.store.StoreException;
import io.sourcemesh.l4.transport.Transport;
import io.sourcemesh.l4.UpstreamConnector;
import java.net.InetAddress;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The cloud controller manager's service controller: a {@link CloudLoadBalancer} per LoadBalancer
 * Service on its own 127.100.0.x address, written to status.loadBalancer.ingress[0].ip (and kept
 * there across restarts); nodes are probed every second, and at once when the Service or the
 * ready endpoints change, so traffic follows the gateway pods.
 */
public final class LoadBalancers implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(LoadBalancers.class.getName());
    static final long PROBE_INTERVAL_MILLIS = 1000;

    private final ObjectStore store;
    private final Transport transport;
    private final UpstreamConnector connector;
    private final AddressPlan addresses;
    private final List<ClusterNode> nodes;
    private final Map<String, CloudLoadBalancer> balancers = new ConcurrentHashMap<>();
    private final Map<String, Object> seen = new HashMap<>();
    private final ScheduledExecutorService prober = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "sourcemesh-slb-healthcheck");
        t.setDaemon(true);
        return t;
    });

    private LoadBalancers(ObjectStore store, Transport transport, UpstreamConnector connector, AddressPlan addresses,
            List<ClusterNode> nodes) {
        this.store = store;
        this.transport = transport;
        this.connector = connector;
        this.addresses = addresses;
        this.nodes = List.copyOf(nodes);
    }

    public static LoadBalancers start(ObjectStore store, Transport transport, UpstreamConnector connector, AddressPlan addresses,
            List<ClusterNode> nodes) {
        LoadBalancers lbs = new LoadBalancers(store, transport, connector, addresses, nodes);
        lbs.prober.scheduleWithFixedDelay(lbs::probeAll, PROBE_INTERVAL_MILLIS, PROBE_INTERVAL_MILLIS, TimeUnit.MILLISECONDS);
        return lbs;
    }

    /**
     * Brings the load balancers in line with {@code services}; {@code endpoints} is anything that
     * changes when ready endpoints move (a change re-probes at once).
     */
    public void sync(List<KubeObject> services, Object endpoints) {
        Map<String, KubeObject> wanted = new LinkedHashMap<>();
        for (KubeObject svc : services) {
            if (ServiceSpecs.loadBalancer(svc) && !ServiceSpecs.nodePorts(svc).isEmpty() && ServiceSpecs.nodePortsAllocated(svc)) {
                wanted.put(key(svc), svc);
            }
        }
        for (String k : List.copyOf(balancers.keySet())) {
            if (!wanted.containsKey(k)) {
                balancers.remove(k).close();
                seen.remove(k);
            }
        }
        for (KubeObject svc : services) {
            if (!ServiceSpecs.loadBalancer(svc) && svc.status().has("loadBalancer")
                    && !svc.status().path("loadBalancer").isEmpty()) {
                writeIngress(svc, null); // no longer a LoadBalancer: the cloud releases the address
            }
        }
        Set<InetAddress> taken = new HashSet<>();
        balancers.values().forEach(lb -> taken.add(lb.ip()));
        for (KubeObject svc : services) {
            ingressIp(svc).ifPresent(taken::add);
        }
        for (Map.Entry<String, KubeObject> e : wanted.entrySet()) {
            KubeObject svc = e.getValue();
            CloudLoadBalancer.Backends backends = new CloudLoadBalancer.Backends(nodes, ServiceSpecs.nodePorts(svc), check(svc),
                    ProxyProtocolAnnotations.of(svc.node()), LoadBalancerSourceRanges.of(svc.node()));
            CloudLoadBalancer lb = balancers.get(e.getKey());
            List<Object> fingerprint = List.of(svc.uid(), backends, endpoints);
            if (lb == null) {
                InetAddress ip = ingressIp(svc).orElseGet(() -> freeAddress(taken));
                try {
                    lb = CloudLoadBalancer.start(transport, connector, ip, backends);
                } catch (Exception ex) {
                    LOG.log(Level.WARNING, "cannot provision a load balancer for " + e.getKey(), ex);
                    continue;
                }
                balancers.put(e.getKey(), lb);
            } else if (!fingerprint.equals(seen.get(e.getKey()))) {
                lb.update(backends);
            }
            seen.put(e.getKey(), fingerprint);
            if (!ingressIp(svc).equals(Optional.of(lb.ip()))) {
                writeIngress(svc, lb.ip());
            }
        }
    }

    private InetAddress freeAddress(Set<InetAddress> taken) {
        InetAddress ip;
        do {
            ip = addresses.allocateLoadBalancer();
        } while (!taken.add(ip));
        return ip;
    }

    /** Local: kube-proxy's health-check port; Cluster: a TCP connect to the first node port. */
    public static HealthCheck check(KubeObject svc) {
        int hc = ServiceSpecs.healthCheckNodePort(svc);
        if (ServiceSpecs.local(svc) && hc > 0) {
            return new HealthCheck.Http(hc, "/healthz");
        }
        return new HealthCheck.Tcp(ServiceSpecs.nodePorts(svc).values().iterator().next());
    }

    private static Optional<InetAddress> ingressIp(KubeObject svc) {
        String ip = svc.status().path("loadBalancer").path("ingress").path(0).path("ip").asText("");
        return ip.isEmpty() ? Optional.empty() : Optional.of(AddressPlan.ip(ip));
    }

    private void writeIngress(KubeObject svc, InetAddress ip) {
        writeIngress(store, svc, ip == null ? null : ip.getHostAddress());
    }

    /** The cloud's answer in the Service's status: its load balancer's address, or none ({@code ip} null). */
    public static void writeIngress(ObjectStore store, KubeObject svc, String ip) {
        ObjectNode status = svc.status().isObject() ? (ObjectNode) svc.status().deepCopy() : JsonNodeFactory.instance.objectNode();
        ObjectNode lb = status.putObject("loadBalancer");
        if (ip != null) {
            lb.putArray("ingress").addObject().put("ip", ip).put("ipMode", "VIP");
        }
        try {
            store.updateStatus(svc.withStatus(status));
        } catch (StoreException e) {
            // changed meanwhile: the watch brings the next pass
        }
    }

    private void probeAll() {
        for (CloudLoadBalancer lb : balancers.values()) {
            try {
                lb.check();
            } catch (RuntimeException e) {
                LOG.log(Level.FINE, "health check", e);
            }
        }
    }

    public Optional<InetAddress> address(String namespace, String name) {
        return Optional.ofNullable(balancers.get(namespace + "/" + name)).map(CloudLoadBalancer::ip);
    }

    /** The node addresses the load balancer of a Service sends to now. */
    public Set<InetAddress> healthyNodes(String namespace, String name) {
        return Optional.ofNullable(balancers.get(namespace + "/" + name)).map(CloudLoadBalancer::healthyNodes).orElse(Set.of());
    }

    private static String key(KubeObject svc) {
        return svc.namespace() + "/" + svc.name();
    }

    @Override
    public void close() {
        prober.shutdownNow();
        balancers.values().forEach(CloudLoadBalancer::close);
        balancers.clear();
    }
}
