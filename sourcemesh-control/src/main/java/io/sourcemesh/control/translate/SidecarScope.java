package io.sourcemesh.control.translate;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.control.model.IstioConfig;
import io.sourcemesh.control.model.MeshModel;
import io.sourcemesh.control.model.Pod;
import io.sourcemesh.control.model.ProxyIdentity;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The Sidecar resource that applies to one proxy (Istio's SidecarScope): the one whose
 * workloadSelector matches the pod in its namespace, else its namespace's selector-less one, else the
 * root namespace's. Its egress listeners ({@link SidecarEgress}) decide which services the proxy sees on which ports,
 * and which VirtualServices shape them there; outboundTrafficPolicy REGISTRY_ONLY blocks the
 * rest (502 for HTTP, BlackHoleCluster for TCP). Without a Sidecar every service is visible on every port and unknown
 * destinations pass through (ALLOW_ANY, Istio's default).
 */
final class SidecarScope {
    /** In the Sidecar's order: those with a port, then the catch-all, if any. */
    private final List<SidecarEgress> egress;
    private final boolean registryOnly;
    /** outboundTrafficPolicy.egressProxy's cluster under ALLOW_ANY, else null. */
    private final String egressProxy;
    /** The Sidecar's ingress listeners: when there are any, the proxy's only inbound ports (Istio's HasIngressListener). */
    private final List<SidecarIngress> ingress;
    /** Istio's name for a port no service targets: {@code <sidecar name>.<namespace>} (findOrCreateServiceTarget). */
    private final String ingressHost;
    /** The Sidecar's inboundConnectionPool, null without one; {@code where} names the Sidecar in warnings. */
    private final JsonNode inboundConnectionPool;
    private final String where;

    private SidecarScope(List<SidecarEgress> egress, boolean registryOnly, String egressProxy, List<SidecarIngress> ingress,
            String ingressHost, JsonNode inboundConnectionPool, String where) {
        this.ingress = ingress;
        this.inboundConnectionPool = inboundConnectionPool;
        this.where = where;
        this.ingressHost = ingressHost;
        this.egressProxy = egressProxy;
        this.egress = egress;
        this.registryOnly = registryOnly;
    }

    static SidecarScope of(MeshModel model, ProxyIdentity proxy, List<TranslationWarning> warnings) {
        Optional<IstioConfig> sidecar = select(model, proxy);
        String domain = model.meshConfig().domain();
        List<String> serviceExportTo = model.meshConfig().exportTo().service();
        if (sidecar.isEmpty()) {
            return new SidecarScope(List.of(SidecarEgress.everything(proxy.namespace(), domain, serviceExportTo)), false,
                    null, List.of(), "", null, "");
        }
        JsonNode spec = sidecar.get().spec();
        String where = "Sidecar " + sidecar.get().key();
        List<SidecarEgress> egress = SidecarEgress.of(spec, where, proxy.namespace(), domain, serviceExportTo, warnings);
        List<SidecarIngress> ingress = SidecarIngress.of(spec, where, warnings);
        JsonNode policy = spec.path("outboundTrafficPolicy");
        // Without the field the mesh's default (ALLOW_ANY) holds; written without a mode it is the proto's default,
        // REGISTRY_ONLY (Istio's ConvertToSidecarScope takes the Sidecar's policy as written).
        boolean registryOnly = policy.isObject() && !policy.path("mode").asText("REGISTRY_ONLY").equals("ALLOW_ANY");
        String egressProxy = registryOnly || !policy.path("egressProxy").isObject() ? null
                : Names.outboundCluster(policy.path("egressProxy").path("port").path("number").asInt(0),
                        policy.path("egressProxy").path("subset").asText(""), policy.path("egressProxy").path("host").asText(""));
        return new SidecarScope(egress, registryOnly, egressProxy, ingress,
                sidecar.get().name() + "." + sidecar.get().namespace(),
                spec.path("inboundConnectionPool").isObject() ? spec.path("inboundConnectionPool") : null, where);
    }

    /**
     * Istio's getSidecarScope over initSidecarScopes' order: oldest first (configCompareByCreationTime), those with a
     * workloadSelector (empty labels select every workload) before those without; the root namespace's last.
     */
    private static Optional<IstioConfig> select(MeshModel model, ProxyIdentity proxy) {
        Optional<Pod> pod = model.pod(proxy.namespace(), proxy.podName());
        Map<String, String> labels = pod.map(Pod::labels).orElse(proxy.labels());
        List<IstioConfig> byAge = model.sidecars().stream().sorted(IstioConfig.OLDEST_FIRST).toList();
        Optional<IstioConfig> bySelector = byAge.stream()
                .filter(s -> s.namespace().equals(proxy.namespace()) && hasSelector(s))
                .filter(s -> labels.entrySet().containsAll(
                        Clusters.strings(s.spec().path("workloadSelector").path("labels")).entrySet()))
                .findFirst();
        if (bySelector.isPresent()) {
            return bySelector;
        }
        Optional<IstioConfig> namespaceWide = byAge.stream()
                .filter(s -> s.namespace().equals(proxy.namespace()) && !hasSelector(s)).findFirst();
        if (namespaceWide.isPresent()) {
            return namespaceWide;
        }
        return byAge.stream()
                .filter(s -> s.namespace().equals(model.meshConfig().rootNamespace()) && !hasSelector(s))
                .findFirst();
    }

    /** A workloadSelector set, as Go's proto decoding has it: an object, even one without labels. */
    private static boolean hasSelector(IstioConfig sidecar) {
        return sidecar.spec().path("workloadSelector").isObject();
    }

    List<SidecarIngress> ingress() {
        return ingress;
    }

    String ingressHost() {
        return ingressHost;
    }

    /**
     * The connection pool of the inbound cluster of {@code port} (Istio's InboundConnectionPoolForPort, which
     * buildInboundCluster puts over the DestinationRule's): the ingress listener's of that port, else the Sidecar's
     * inboundConnectionPool, else null (Istio's inbound defaults, {@link TrafficPolicies#connectionPool} without a pool).
     */
    JsonNode inboundConnectionPool(int port) {
        for (SidecarIngress in : ingress) {
            if (in.port() == port && in.connectionPool() != null) {
                return in.connectionPool();
            }
        }
        return inboundConnectionPool;
    }

    /** The Sidecar as warnings name it ("Sidecar ns/name"), "" without one. */
    String where() {
        return where;
    }

    boolean registryOnly() {
        return registryOnly;
    }

    /**
     * Where traffic to an unknown destination goes: BlackHoleCluster under REGISTRY_ONLY; under ALLOW_ANY the
     * PassthroughCluster, or the cluster of outboundTrafficPolicy.egressProxy (Istio's GetDestinationCluster: its host as
     * written, port and subset — httproute.go's allow_any route and listener_builder.go's catch-all tcp_proxy alike).
     */
    String fallthrough() {
        if (registryOnly) {
            return Names.BLACKHOLE_CLUSTER;
        }
        return egressProxy == null ? Names.PASSTHROUGH_CLUSTER : egressProxy;
    }

    /** The egress listeners, in order. */
    List<SidecarEgress> egress() {
        return egress;
    }

    /**
     * The egress listener whose services and VirtualServices make the route config of {@code port}: the first with that
     * port, else the catch-all (Istio's GetEgressListenerForRDS); none when neither exists.
     */
    Optional<SidecarEgress> forPort(int port) {
        return egress.stream().filter(e -> e.port() == port || e.catchAll()).findFirst();
    }

    /** Whether some egress listener imports the VirtualService {@code vs} whose hosts, as FQDNs, are {@code vsHosts}. */
    boolean imports(IstioConfig vs, List<String> vsHosts) {
        return egress.stream().anyMatch(e -> e.imports(vs, vsHosts));
    }
}
