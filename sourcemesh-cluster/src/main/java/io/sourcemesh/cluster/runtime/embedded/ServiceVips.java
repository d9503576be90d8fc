package io.sourcemesh.cluster.runtime.embedded;

import io.sourcemesh.l4.Addresses;
import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.kubeproxy.ClientIpAffinity;
import io.sourcemesh.cluster.kubeproxy.ServiceSpecs;
import io.sourcemesh.cluster.network.AddressPlan;
import io.sourcemesh.cluster.network.Conntrack;
import io.sourcemesh.cluster.network.EmbeddedInterception;
import io.sourcemesh.cluster.network.L4Forwarder;
import io.sourcemesh.cluster.store.ObjectStore;
import io.sourcemesh.l4.transport.Transport;
import io.sourcemesh.l4.embedded.Interception;
import io.sourcemesh.l4.SourceBinding;
import io.sourcemesh.l4.UpstreamConnector;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.logging.Logger;
import java.util.stream.Collectors;

/**
 * The embedded runtime's service VIPs: a listener per ClusterIP and TCP port doing kube-proxy's
 * job, and the outbound capture of injected pods (what istio-iptables' OUTPUT REDIRECT does).
 */
final class ServiceVips implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ServiceVips.class.getName());

    private final ObjectStore store;
    private final Transport transport;
    private final Conntrack conntrack;
    private final Predicate<InetAddress> intercepted;
    private final Function<InetAddress, Optional<EmbeddedPod>> podAt;
    private final Supplier<List<EmbeddedPod>> pods;
    private final Map<String, L4Forwarder> vips = new HashMap<>();
    private final ClientIpAffinity affinity;
    /** The VIPs served, read by the sidecars' interception on their event loops. */
    private volatile Set<InetAddress> served = Set.of();

    ServiceVips(ObjectStore store, Transport transport, Conntrack conntrack, Predicate<InetAddress> intercepted,
            Function<InetAddress, Optional<EmbeddedPod>> podAt, Supplier<List<EmbeddedPod>> pods, ClientIpAffinity affinity) {
        this.store = store;
        this.affinity = affinity;
        this.transport = transport;
        this.conntrack = conntrack;
        this.intercepted = intercepted;
        this.podAt = podAt;
        this.pods = pods;
    }

    /** Whether {@code ip} is the VIP of a service this runtime serves. */
    boolean serves(InetAddress ip) {
        return served.contains(ip);
    }

    /** A listener for every TCP port of every service with a ClusterIP, none for what is gone. */
    void sync(List<KubeObject> services) {
        Map<String, InetSocketAddress> wanted = new HashMap<>();
        for (KubeObject svc : services) {
            String ip = svc.spec().path("clusterIP").asText("");
            if (ip.isEmpty() || ip.equals("None")) {
                continue;
            }
            for (JsonNode port : svc.spec().path("ports")) {
                if (!port.path("protocol").asText("TCP").equals("TCP")) {
                    continue;
                }
                InetSocketAddress vip = new InetSocketAddress(AddressPlan.ip(ip), port.path("port").asInt());
                wanted.put(svc.namespace() + "/" + svc.name() + "/" + vip, vip);
            }
        }
        served = wanted.values().stream().map(InetSocketAddress::getAddress).collect(Collectors.toUnmodifiableSet());
        for (String k : List.copyOf(vips.keySet())) {
            if (!wanted.containsKey(k)) {
                vips.remove(k).close();
            }
        }
        for (Map.Entry<String, InetSocketAddress> e : wanted.entrySet()) {
            if (!vips.containsKey(e.getKey())) {
                String[] parts = e.getKey().split("/", 3);
                InetSocketAddress vip = e.getValue();
                try {
                    vips.put(e.getKey(), L4Forwarder.start(transport, vip, client -> route(parts[0], parts[1], vip, client)));
                } catch (Exception ex) { // Netty rethrows bind errors (IOExceptions) unchecked
                    LOG.warning("cannot serve " + vip + " for service " + parts[1] + ": " + ex.getMessage());
                }
            }
        }
    }

    /**
     * A connection to a service VIP. From an injected pod it goes to that pod's sidecar
     * (virtualOutbound, 15001) with the VIP as original destination — what istio-iptables' OUTPUT
     * REDIRECT does. Otherwise kube-proxy's job: a ready endpoint, the client's address kept. Under
     * internalTrafficPolicy Local only an endpoint on the client pod's node (kube-proxy's KUBE-SVL chain); none there, or
     * a client that is no pod of a node, and the connection is dropped.
     */
    private Optional<L4Forwarder.Decision> route(String namespace, String service, InetSocketAddress vip, InetSocketAddress client) {
        InetAddress clientIp = Addresses.unmapped(client.getAddress());
        SourceBinding fromClient = SourceBinding.fixed(new InetSocketAddress(clientIp, 0));
        EmbeddedPod source = podAt.apply(clientIp).orElse(null);
        if (source != null && source.intercepted() && !conntrack.takeProxyOwn(client, vip)) {
            InetSocketAddress outbound = new InetSocketAddress(source.address(), 15001);
            Interception capture = new Interception() {
                @Override
                public Optional<InetSocketAddress> redirect(InetSocketAddress destination, Optional<InetSocketAddress> source) {
                    return Optional.of(outbound);
                }

                @Override
                public void connected(InetSocketAddress local, InetSocketAddress redirectedTo, InetSocketAddress original) {
                    conntrack.recordRelayed(local, redirectedTo, original, client);
                }

                @Override
                public void abandoned(InetSocketAddress local, InetSocketAddress redirectedTo) {
                    conntrack.forget(local, redirectedTo);
                }
            };
            return Optional.of(new L4Forwarder.Decision(vip, fromClient, new UpstreamConnector(transport, capture, Optional.empty())));
        }
        Optional<KubeObject> svc = store.get(ResourceKind.SERVICE, namespace, service);
        if (svc.isEmpty()) {
            return Optional.empty();
        }
        JsonNode port = null;
        for (JsonNode p : svc.get().spec().path("ports")) {
            if (p.path("port").asInt() == vip.getPort()) {
                port = p;
            }
        }
        List<EmbeddedPod> endpoints = new ArrayList<>();
        boolean local = ServiceSpecs.internalLocal(svc.get());
        String clientNode = source == null ? null : source.node();
        for (EmbeddedPod p : pods.get()) {
            if (ServiceSpecs.endpoint(svc.get(), p.pod(), p.ready()) && (!local || p.node().equals(clientNode))) {
                endpoints.add(p);
            }
        }
        if (endpoints.isEmpty() || port == null) {
            return Optional.empty();
        }
        EmbeddedPod target = affinity.pick(svc.get(), port, clientIp, endpoints, EmbeddedPod::address);
        int targetPort = ServiceSpecs.targetPort(port, target.pod());
        EmbeddedInterception redirect = new EmbeddedInterception(conntrack, intercepted, source == null ? null : source.address());
        return Optional.of(new L4Forwarder.Decision(new InetSocketAddress(target.address(), targetPort), fromClient,
                new UpstreamConnector(transport, redirect, Optional.empty())));
    }

    @Override
    public void close() {
        vips.values().forEach(L4Forwarder::close);
        vips.clear();
    }
}
