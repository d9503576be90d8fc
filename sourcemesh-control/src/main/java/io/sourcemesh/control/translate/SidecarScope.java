package io.sourcemesh.control.translate;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.control.model.IstioConfig;
import io.sourcemesh.control.model.MeshModel;
import io.sourcemesh.control.model.Pod;
import io.sourcemesh.control.model.ProxyIdentity;
import io.sourcemesh.control.model.Service;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The Sidecar resource that applies to one proxy (Istio's SidecarScope): the one whose
 * workloadSelector matches the pod in its namespace, else its namespace's selector-less one, else the
 * root namespace's. Its egress hosts ("namespace/host", namespace "*", "." or a name, host "*" or
 * "*.suffix") decide which services the proxy sees, less those a "~"-prefixed one excludes ("~ns/host";
 * "~/host" in every namespace; Istio's exclusions, which also make "~/*" the "no namespace" it was before them);
 * outboundTrafficPolicy REGISTRY_ONLY blocks the
 * rest (502 for HTTP, BlackHoleCluster for TCP). They also decide which VirtualServices the proxy imports
 * ({@link #imports}), for its http and tcp routes alike. Without a Sidecar every service is visible and
 * unknown destinations pass through (ALLOW_ANY, Istio's default).
 */
final class SidecarScope {
    private record EgressHost(String namespace, String host) {}

    private final List<EgressHost> hosts;
    private final List<EgressHost> excluded;
    private final boolean registryOnly;
    private final String proxyNamespace;
    private final String domain;
    /** meshConfig.defaultServiceExportTo: the exportTo of a service without one. */
    private final List<String> serviceExportTo;
    /** outboundTrafficPolicy.egressProxy's cluster under ALLOW_ANY, else null. */
    private final String egressProxy;
    /** The Sidecar's ingress listeners: when there are any, the proxy's only inbound ports (Istio's HasIngressListener). */
    private final List<SidecarIngress> ingress;
    /** Istio's name for a port no service targets: {@code <sidecar name>.<namespace>} (findOrCreateServiceTarget). */
    private final String ingressHost;
    /** The Sidecar's inboundConnectionPool, null without one; {@code where} names the Sidecar in warnings. */
    private final JsonNode inboundConnectionPool;
    private final String where;

    private SidecarScope(List<EgressHost> hosts, List<EgressHost> excluded, boolean registryOnly, String proxyNamespace,
            String domain, List<String> serviceExportTo, String egressProxy, List<SidecarIngress> ingress, String ingressHost,
            JsonNode inboundConnectionPool, String where) {
        this.ingress = ingress;
        this.inboundConnectionPool = inboundConnectionPool;
        this.where = where;
        this.ingressHost = ingressHost;
        this.serviceExportTo = serviceExportTo;
        this.egressProxy = egressProxy;
        this.hosts = hosts;
        this.excluded = excluded;
        this.registryOnly = registryOnly;
        this.proxyNamespace = proxyNamespace;
        this.domain = domain;
    }

    static SidecarScope of(MeshModel model, ProxyIdentity proxy, List<TranslationWarning> warnings) {
        Optional<IstioConfig> sidecar = select(model, proxy);
        String domain = model.meshConfig().domain();
        List<String> serviceExportTo = model.meshConfig().exportTo().service();
        if (sidecar.isEmpty()) {
            return new SidecarScope(null, List.of(), false, proxy.namespace(), domain, serviceExportTo, null, List.of(), "",
                    null, "");
        }
        JsonNode spec = sidecar.get().spec();
        String where = "Sidecar " + sidecar.get().key();
        List<EgressHost> hosts = null;
        List<EgressHost> excluded = new ArrayList<>();
        List<JsonNode> egress = Clusters.list(spec.path("egress"));
        if (!egress.isEmpty()) {
            hosts = new ArrayList<>();
            for (JsonNode e : egress) {
                for (String f : List.of("port", "bind", "captureMode")) {
                    if (e.has(f)) {
                        warnings.add(new TranslationWarning(where, "egress." + f + " is not supported; ignored"));
                    }
                }
                for (JsonNode h : Clusters.list(e.path("hosts"))) {
                    String text = h.asText();
                    int slash = text.indexOf('/');
                    String ns = slash < 0 ? "*" : text.substring(0, slash);
                    String host = text.substring(slash + 1);
                    if (ns.startsWith("~")) {
                        // Istio's excludePrefix (sidecar.go convertIstioListenerToWrapper): "~" alone is every namespace
                        excluded.add(new EgressHost(ns.length() == 1 ? "*" : ns.substring(1), host));
                    } else {
                        hosts.add(new EgressHost(ns, host));
                    }
                }
            }
        }
        List<SidecarIngress> ingress = SidecarIngress.of(spec, where, warnings);
        JsonNode policy = spec.path("outboundTrafficPolicy");
        // Without the field the mesh's default (ALLOW_ANY) holds; written without a mode it is the proto's default,
        // REGISTRY_ONLY (Istio's ConvertToSidecarScope takes the Sidecar's policy as written).
        boolean registryOnly = policy.isObject() && !policy.path("mode").asText("REGISTRY_ONLY").equals("ALLOW_ANY");
        String egressProxy = registryOnly || !policy.path("egressProxy").isObject() ? null
                : Names.outboundCluster(policy.path("egressProxy").path("port").path("number").asInt(0),
                        policy.path("egressProxy").path("subset").asText(""), policy.path("egressProxy").path("host").asText(""));
        return new SidecarScope(hosts, List.copyOf(excluded), registryOnly, proxy.namespace(), domain, serviceExportTo,
                egressProxy, ingress, sidecar.get().name() + "." + sidecar.get().namespace(),
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

    boolean visible(Service svc) {
        if (!svc.exportedTo(proxyNamespace, serviceExportTo)) {
            return false; // its exportTo (or the mesh's default): not in this namespace's registry at all
        }
        if (hosts == null) {
            return true;
        }
        String fqdn = svc.fqdn(domain);
        if (excluded(svc.namespace(), fqdn)) {
            return false; // hostClassification.Excluded, checked before any import (selectServices)
        }
        for (EgressHost h : hosts) {
            if (inNamespace(h, svc.namespace()) && HostNames.covers(h.host(), fqdn)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether the egress hosts import the VirtualService {@code vs} whose hosts, as FQDNs, are {@code vsHosts}: Istio's
     * SelectVirtualServices (pilot/pkg/model/virtualservice.go, with sidecar.go hostClassification.VSMatches) takes one
     * when an egress host of its namespace, or of {@code *}, matches one of its hosts either way (host.Name.Matches), so
     * {@code ./*} imports every VirtualService of the proxy's namespace, and a wildcard egress host one for {@code *}.
     */
    boolean imports(IstioConfig vs, List<String> vsHosts) {
        if (hosts == null) {
            return true;
        }
        for (EgressHost h : hosts) {
            if (inNamespace(h, vs.namespace()) && vsHosts.stream()
                    .anyMatch(v -> HostNames.matches(v, h.host()) && !excluded(vs.namespace(), v))) {
                return true; // an excluded host does not import it, another of its hosts may (SelectVirtualServices)
            }
        }
        return false;
    }

    /** Whether a {@code ~} entry of {@code namespace}, or of every namespace, covers {@code host} (host.Name.SubsetOf). */
    private boolean excluded(String namespace, String host) {
        for (EgressHost h : excluded) {
            if (inNamespace(h, namespace) && HostNames.subsetOf(host, h.host())) {
                return true;
            }
        }
        return false;
    }

    /** An egress host's namespace: {@code *} any, {@code .} the proxy's, else that one. */
    private boolean inNamespace(EgressHost h, String namespace) {
        return switch (h.namespace()) {
            case "*" -> true;
            case "." -> namespace.equals(proxyNamespace);
            default -> namespace.equals(h.namespace());
        };
    }
}
