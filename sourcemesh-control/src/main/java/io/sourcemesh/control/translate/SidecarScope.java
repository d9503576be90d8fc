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
 * root namespace's. Its egress hosts ("namespace/host", namespace "*", "." or "~", host "*" or
 * "*.suffix") decide which services the proxy sees; outboundTrafficPolicy REGISTRY_ONLY blocks the
 * rest (502 for HTTP, BlackHoleCluster for TCP). They also decide which VirtualServices the proxy imports
 * ({@link #imports}), for its http and tcp routes alike. Without a Sidecar every service is visible and
 * unknown destinations pass through (ALLOW_ANY, Istio's default).
 */
final class SidecarScope {
    private record EgressHost(String namespace, String host) {}

    private final List<EgressHost> hosts;
    private final boolean registryOnly;
    private final String proxyNamespace;
    private final String domain;

    private SidecarScope(List<EgressHost> hosts, boolean registryOnly, String proxyNamespace, String domain) {
        this.hosts = hosts;
        this.registryOnly = registryOnly;
        this.proxyNamespace = proxyNamespace;
        this.domain = domain;
    }

    static SidecarScope of(MeshModel model, ProxyIdentity proxy, List<TranslationWarning> warnings) {
        Optional<IstioConfig> sidecar = select(model, proxy);
        String domain = model.meshConfig().domain();
        if (sidecar.isEmpty()) {
            return new SidecarScope(null, false, proxy.namespace(), domain);
        }
        JsonNode spec = sidecar.get().spec();
        String where = "Sidecar " + sidecar.get().key();
        List<EgressHost> hosts = null;
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
                    hosts.add(slash < 0 ? new EgressHost("*", text)
                            : new EgressHost(text.substring(0, slash), text.substring(slash + 1)));
                }
            }
        }
        for (String f : List.of("ingress", "inboundConnectionPool")) {
            if (spec.has(f)) {
                warnings.add(new TranslationWarning(where, f + " is not supported; ignored"));
            }
        }
        JsonNode policy = spec.path("outboundTrafficPolicy");
        if (policy.has("egressProxy")) {
            warnings.add(new TranslationWarning(where, "outboundTrafficPolicy.egressProxy is not supported; ignored"));
        }
        boolean registryOnly = policy.path("mode").asText("ALLOW_ANY").equals("REGISTRY_ONLY");
        return new SidecarScope(hosts, registryOnly, proxy.namespace(), domain);
    }

    private static Optional<IstioConfig> select(MeshModel model, ProxyIdentity proxy) {
        Optional<Pod> pod = model.pod(proxy.namespace(), proxy.podName());
        Map<String, String> labels = pod.map(Pod::labels).orElse(proxy.labels());
        Optional<IstioConfig> bySelector = model.sidecars().stream()
                .filter(s -> s.namespace().equals(proxy.namespace()))
                .filter(s -> {
                    Map<String, String> sel = Clusters.strings(s.spec().path("workloadSelector").path("labels"));
                    return !sel.isEmpty() && labels.entrySet().containsAll(sel.entrySet());
                })
                .findFirst();
        if (bySelector.isPresent()) {
            return bySelector;
        }
        Optional<IstioConfig> namespaceWide = model.sidecars().stream()
                .filter(s -> s.namespace().equals(proxy.namespace()) && !s.spec().has("workloadSelector")).findFirst();
        if (namespaceWide.isPresent()) {
            return namespaceWide;
        }
        return model.sidecars().stream()
                .filter(s -> s.namespace().equals(model.meshConfig().rootNamespace()) && !s.spec().has("workloadSelector"))
                .findFirst();
    }

    boolean registryOnly() {
        return registryOnly;
    }

    boolean visible(Service svc) {
        if (hosts == null) {
            return true;
        }
        String fqdn = svc.fqdn(domain);
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
            if (inNamespace(h, vs.namespace()) && vsHosts.stream().anyMatch(v -> HostNames.matches(v, h.host()))) {
                return true;
            }
        }
        return false;
    }

    /** An egress host's namespace: {@code *} any, {@code .} the proxy's, {@code ~} none, else that one. */
    private boolean inNamespace(EgressHost h, String namespace) {
        return switch (h.namespace()) {
            case "*" -> true;
            case "." -> namespace.equals(proxyNamespace);
            case "~" -> false;
            default -> namespace.equals(h.namespace());
        };
    }
}
