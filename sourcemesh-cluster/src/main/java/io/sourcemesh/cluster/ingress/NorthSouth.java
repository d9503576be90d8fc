package io.sourcemesh.cluster.ingress;

import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.cluster.kubeproxy.ClientIpAffinity;
import io.sourcemesh.cluster.kubeproxy.ClusterNode;
import io.sourcemesh.cluster.kubeproxy.Endpoint;
import io.sourcemesh.cluster.kubeproxy.KubeProxy;
import io.sourcemesh.cluster.loadbalancer.LoadBalancers;
import io.sourcemesh.cluster.network.AddressPlan;
import io.sourcemesh.cluster.store.ObjectStore;
import io.sourcemesh.l4.transport.Transport;
import io.sourcemesh.l4.UpstreamConnector;
import java.net.InetAddress;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.IntStream;

/**
 * Everything between an external client and the ingress gateway pod, reconciled in one step after
 * the service VIPs: node ports (the API server's allocation), kube-proxy on every node, a cloud
 * load balancer per LoadBalancer Service. (The Gateways' status comes from the mesh push: {@link GatewayStatus}.)
 */
public final class NorthSouth implements AutoCloseable {
    private final Supplier<List<Endpoint>> endpoints;
    private final KubeProxy kubeProxy;
    private final LoadBalancers loadBalancers;

    private NorthSouth(Supplier<List<Endpoint>> endpoints, KubeProxy kubeProxy, LoadBalancers loadBalancers) {
        this.endpoints = endpoints;
        this.kubeProxy = kubeProxy;
        this.loadBalancers = loadBalancers;
    }

    /**
     * @param connector how node and load-balancer traffic reaches pods (with the runtime's interception)
     * @param endpoints the ready pods with their node
     * @param affinity the runtime's sessionAffinity table, which its cluster IPs use too
     */
    public static NorthSouth start(ObjectStore store, Transport transport, UpstreamConnector connector, AddressPlan addresses,
            List<ClusterNode> nodes, Supplier<List<Endpoint>> endpoints, ClientIpAffinity affinity) {
        return new NorthSouth(endpoints, KubeProxy.create(transport, connector, nodes, endpoints, affinity),
                LoadBalancers.start(store, transport, connector, addresses, nodes));
    }

    /** The nodes of the runtime, as the address plan numbers them. */
    public static List<ClusterNode> nodes(List<String> names, AddressPlan addresses) {
        return IntStream.range(0, names.size())
                .mapToObj(i -> new ClusterNode(names.get(i), addresses.nodeAddress(i))).toList();
    }

    /** Node ports and load balancers for {@code services} (node ports already allocated). */
    public void sync(List<KubeObject> services) {
        List<Endpoint> ready = endpoints.get();
        kubeProxy.sync(services);
        loadBalancers.sync(services, ready.stream().map(e -> e.pod().uid() + "@" + e.node()).sorted().toList());
    }

    /** The ingress gateway's external address, once its load balancer is up. */
    public Optional<InetAddress> gatewayAddress() {
        return loadBalancers.address(GatewayInstall.NAMESPACE, GatewayInstall.NAME);
    }

    public Set<InetAddress> healthyNodes(String namespace, String service) {
        return loadBalancers.healthyNodes(namespace, service);
    }

    @Override
    public void close() {
        loadBalancers.close();
        kubeProxy.close();
    }
}
