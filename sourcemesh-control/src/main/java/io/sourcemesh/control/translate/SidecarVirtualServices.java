package io.sourcemesh.control.translate;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.control.model.IstioConfig;
import io.sourcemesh.control.model.MeshModel;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.BiPredicate;

/**
 * The mesh-bound VirtualServices one sidecar sees, in the order Istio gives them to its listeners, and which of them may
 * shape a service. Visibility and order are Istio's virtual-service index (pilot/pkg/model/push_context.go
 * initVirtualServices, pilot/pkg/model/virtualservice.go SelectVirtualServices): by {@link ExportTo}, the private ones
 * first, then those exported to the proxy's namespace by name, then the public ones; each group oldest first, then by
 * name and namespace (configCompareByCreationTime).
 * A service is claimed by every VirtualService naming it exactly, and by a wildcard one only when that is the most
 * specific host naming it (pilot/pkg/model/sidecar.go computeWildcardHostVirtualServiceIndex; route.go
 * separateVSHostsAndServices): an exact host beats a wildcard, a longer wildcard a shorter one, the first in order a
 * later one with the same host.
 */
final class SidecarVirtualServices {
    private final MeshModel model;
    private final List<IstioConfig> ordered;
    /** Each one's hosts as FQDNs, read once: every service of every port asks for them. */
    private final Map<IstioConfig, List<String>> hosts;

    private SidecarVirtualServices(MeshModel model, List<IstioConfig> ordered, Map<IstioConfig, List<String>> hosts) {
        this.model = model;
        this.ordered = ordered;
        this.hosts = hosts;
    }

    /**
     * The mesh's VirtualServices a sidecar in {@code proxyNamespace} sees, in Istio's order: those its exportTo shows
     * the namespace and {@code imports} takes, given their hosts as FQDNs (one egress listener's hosts,
     * {@link SidecarEgress#imports}, or any listener's, {@link SidecarScope#imports}).
     */
    static SidecarVirtualServices of(MeshModel model, String proxyNamespace, BiPredicate<IstioConfig, List<String>> imports) {
        List<IstioConfig> mesh = ExportTo.ordered(
                model.virtualServices().stream().filter(SidecarVirtualServices::boundToMesh).toList(), proxyNamespace,
                model.meshConfig().exportTo().virtualService());
        Map<IstioConfig, List<String>> hosts = new HashMap<>();
        List<IstioConfig> ordered = new ArrayList<>();
        for (IstioConfig vs : mesh) {
            // Short names in the VirtualService's namespace, as Istio's ResolveShortnameToFQDN; lower case.
            List<String> fqdns = Clusters.list(vs.spec().path("hosts")).stream()
                    .map(h -> model.fqdn(h.asText(), vs.namespace()).toLowerCase(Locale.ROOT)).toList();
            if (imports.test(vs, fqdns)) {
                ordered.add(vs);
                hosts.put(vs, fqdns);
            }
        }
        return new SidecarVirtualServices(model, List.copyOf(ordered), hosts);
    }

    /** All of them, in order. */
    List<IstioConfig> all() {
        return ordered;
    }

    /**
     * The VirtualServices that may shape the service {@code fqdn}, in order: those naming it exactly, and the one whose
     * wildcard host is the most specific match for it when no host names it exactly.
     */
    List<IstioConfig> claiming(String fqdn) {
        Optional<IstioConfig> mostSpecific = mostSpecific(fqdn);
        return ordered.stream().filter(vs -> hosts(vs).contains(fqdn)
                || mostSpecific.filter(vs::equals).isPresent() && hosts(vs).stream().anyMatch(
                        h -> h.startsWith("*") && HostNames.covers(h, fqdn))).toList();
    }

    /**
     * The later VirtualServices with the same wildcard host as the one claiming {@code fqdn} by a wildcard: Istio's index
     * keeps the first per host, so they never shape it.
     */
    List<IstioConfig> shadowedByWildcard(String fqdn) {
        Optional<IstioConfig> first = mostSpecific(fqdn);
        if (first.isEmpty() || hosts(first.get()).contains(fqdn)) {
            return List.of();
        }
        String host = hosts(first.get()).stream().filter(h -> h.startsWith("*") && HostNames.covers(h, fqdn))
                .max(Comparator.comparingInt(String::length)).orElseThrow();
        return ordered.stream().filter(vs -> !vs.equals(first.get()) && hosts(vs).contains(host)
                && hosts(vs).stream().noneMatch(fqdn::equals)).toList();
    }

    /**
     * Names the hosts of http VirtualServices that match no service the sidecars route to (one with a cluster IP).
     * Istio's sidecar serves such a host on its port-80 route config only (route.go separateVSHostsAndServices,
     * nonServiceRegistryHosts); SourceMesh builds no virtual host for it, and says so.
     */
    void warnHostsWithoutService(List<TranslationWarning> warnings) {
        String domain = model.meshConfig().domain();
        List<String> routed = model.services().stream()
                .filter(svc -> !svc.clusterIp().isEmpty() && !svc.clusterIp().equals("None"))
                .map(svc -> svc.fqdn(domain)).toList();
        for (IstioConfig vs : ordered) {
            if (Clusters.list(vs.spec().path("http")).isEmpty()) {
                continue; // tcp and tls routes match by the service's port and SNI, not by a virtual host
            }
            for (String h : hosts(vs)) {
                if (routed.stream().noneMatch(fqdn -> HostNames.covers(h, fqdn))) {
                    warnings.add(new TranslationWarning("VirtualService " + vs.key(), "host " + h + " names no service in "
                            + "the registry; the sidecars build no route for it (Istio's serve it on port 80 only)"));
                }
            }
        }
    }

    /**
     * The services the VirtualServices send to, as FQDNs, each with the destination ports named (0: a destination
     * without a port, so every port): Istio's virtualServiceDestinationsFilteredBySourceNamespace (push_context.go), the
     * http routes' destinations, mirror and mirrors, the tcp and tls routes' destinations, leaving out an http route
     * whose matches name only other source namespaces than {@code proxyNamespace}.
     */
    Map<String, Set<Integer>> destinations(String proxyNamespace) {
        Map<String, Set<Integer>> out = new HashMap<>();
        for (IstioConfig vs : ordered) {
            for (JsonNode http : Clusters.list(vs.spec().path("http"))) {
                if (!forSourceNamespace(http, proxyNamespace)) {
                    continue;
                }
                for (JsonNode r : Clusters.list(http.path("route"))) {
                    addDestination(out, vs, r.path("destination"));
                }
                if (http.has("mirror")) {
                    addDestination(out, vs, http.path("mirror"));
                }
                for (JsonNode m : Clusters.list(http.path("mirrors"))) {
                    addDestination(out, vs, m.path("destination"));
                }
            }
            for (String l4 : List.of("tcp", "tls")) {
                for (JsonNode route : Clusters.list(vs.spec().path(l4))) {
                    for (JsonNode r : Clusters.list(route.path("route"))) {
                        addDestination(out, vs, r.path("destination"));
                    }
                }
            }
        }
        return out;
    }

    /** Istio's namespaceMatched: no match names a sourceNamespace, or one names the proxy's. */
    private static boolean forSourceNamespace(JsonNode http, String proxyNamespace) {
        boolean named = false;
        for (JsonNode m : Clusters.list(http.path("match"))) {
            String ns = m.path("sourceNamespace").asText("");
            if (ns.equals(proxyNamespace)) {
                return true;
            }
            named |= !ns.isEmpty();
        }
        return !named;
    }

    private void addDestination(Map<String, Set<Integer>> out, IstioConfig vs, JsonNode destination) {
        String host = destination.path("host").asText("");
        if (!host.isEmpty()) {
            out.computeIfAbsent(model.fqdn(host, vs.namespace()), h -> new HashSet<>())
                    .add(destination.path("port").path("number").asInt(0));
        }
    }

    /** Istio's MostSpecificHostMatch over the index of the first VirtualService per host. */
    private Optional<IstioConfig> mostSpecific(String fqdn) {
        IstioConfig best = null;
        String bestHost = null;
        for (IstioConfig vs : ordered) { // every one, http routes or not, as Istio's index
            for (String h : hosts(vs)) {
                if (!h.startsWith("*")) {
                    if (h.equals(fqdn)) {
                        return Optional.of(vs); // the first VirtualService naming it exactly
                    }
                } else if (HostNames.covers(h, fqdn) && (bestHost == null || h.length() > bestHost.length())) {
                    best = vs;
                    bestHost = h;
                }
            }
        }
        return Optional.ofNullable(best);
    }

    /** The VirtualService's hosts as FQDNs, lower case. */
    List<String> hosts(IstioConfig vs) {
        return hosts.get(vs);
    }

    static boolean boundToMesh(IstioConfig vs) {
        List<String> gws = Clusters.list(vs.spec().path("gateways")).stream().map(JsonNode::asText).toList();
        return gws.isEmpty() || gws.contains("mesh");
    }
}
