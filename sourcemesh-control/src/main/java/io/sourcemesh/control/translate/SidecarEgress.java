package io.sourcemesh.control.translate;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.control.model.IstioConfig;
import io.sourcemesh.control.model.Service;
import io.sourcemesh.control.model.ServicePort;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * One of a Sidecar's egress listeners (Istio's IstioEgressListenerWrapper, pilot/pkg/model/sidecar.go): the services and
 * VirtualServices its hosts import, and its port. A listener with a port imports a service only on that port
 * (serviceMatchingListenerPort) and speaks the port's protocol there; the one without a port, the catch-all, imports
 * every port of its services and takes the ports the others left (listener.go buildSidecarOutboundListeners). Its hosts
 * are {@code namespace/host} (namespace {@code *}, {@code .} or a name; host {@code *} or {@code *.suffix}), less those a
 * {@code ~}-prefixed one excludes ({@code ~ns/host}; {@code ~/host} in every namespace).
 */
final class SidecarEgress {
    private record Host(String namespace, String host) {}

    /** 0: none, the catch-all. */
    private final int port;
    /** The port's protocol, upper case; "" when unset (Istio sniffs there). */
    private final String protocol;
    /** null: every host (no Sidecar, or one without egress listeners). */
    private final List<Host> hosts;
    private final List<Host> excluded;
    private final String proxyNamespace;
    private final String domain;
    /** meshConfig.defaultServiceExportTo: the exportTo of a service without one. */
    private final List<String> serviceExportTo;

    private SidecarEgress(int port, String protocol, List<Host> hosts, List<Host> excluded, String proxyNamespace,
            String domain, List<String> serviceExportTo) {
        this.port = port;
        this.protocol = protocol;
        this.hosts = hosts;
        this.excluded = excluded;
        this.proxyNamespace = proxyNamespace;
        this.domain = domain;
        this.serviceExportTo = serviceExportTo;
    }

    /** Istio's default egress listener, {@code *}{@code /*}: every service exported to the proxy's namespace. */
    static SidecarEgress everything(String proxyNamespace, String domain, List<String> serviceExportTo) {
        return new SidecarEgress(0, "", null, List.of(), proxyNamespace, domain, serviceExportTo);
    }

    /**
     * A Sidecar's egress listeners in order, or {@link #everything} when it has none. Listeners Istio's validation refuses
     * (a second one for a port, a catch-all not last) and those SourceMesh cannot serve (UDP, HTTP_PROXY) are left out
     * and named in {@code warnings}, so a Sidecar stored before a refusal never serves them differently.
     */
    static List<SidecarEgress> of(JsonNode spec, String where, String proxyNamespace, String domain,
            List<String> serviceExportTo, List<TranslationWarning> warnings) {
        List<JsonNode> egress = Clusters.list(spec.path("egress"));
        if (egress.isEmpty()) {
            return List.of(everything(proxyNamespace, domain, serviceExportTo));
        }
        List<SidecarEgress> out = new ArrayList<>();
        Set<Integer> ports = new HashSet<>();
        for (int i = 0; i < egress.size(); i++) {
            JsonNode e = egress.get(i);
            String at = "egress[" + i + "]";
            for (String f : List.of("bind", "captureMode")) {
                if (e.has(f)) {
                    warnings.add(TranslationWarning.note(where, at + "." + f + " is not supported; ignored"));
                }
            }
            int number = e.path("port").path("number").asInt(0);
            String protocol = e.path("port").path("protocol").asText("").toUpperCase(Locale.ROOT);
            String problem = !e.has("port") ? (i == egress.size() - 1 ? null : "the egress listener with empty port "
                    + "should be the last listener in the list")
                    : number <= 0 || number > 65535 ? "port number " + number + " is not in 1..65535"
                    : !ports.add(number) ? "sidecar: ports on IP bound listeners must be unique"
                    : protocol.equals("UDP") ? "a UDP port has no outbound listener (as Istio)"
                    : protocol.equals("HTTP_PROXY") ? "an HTTP_PROXY listener is not supported" : null;
            if (problem != null) {
                warnings.add(new TranslationWarning(where, at + " left out: " + problem));
                continue;
            }
            if (number != 0 && protocol.isEmpty()) {
                warnings.add(TranslationWarning.note(where, at + ".port.protocol is unset: Istio sniffs the protocol on "
                        + "port " + number + ", which SourceMesh does not; each service's own port protocol decides"));
            }
            List<Host> hosts = new ArrayList<>();
            List<Host> excluded = new ArrayList<>();
            for (JsonNode h : Clusters.list(e.path("hosts"))) {
                String text = h.asText();
                int slash = text.indexOf('/');
                String ns = slash < 0 ? "*" : text.substring(0, slash);
                String host = text.substring(slash + 1);
                if (ns.startsWith("~")) {
                    // Istio's excludePrefix (sidecar.go convertIstioListenerToWrapper): "~" alone is every namespace
                    excluded.add(new Host(ns.length() == 1 ? "*" : ns.substring(1), host));
                } else {
                    hosts.add(new Host(ns, host));
                }
            }
            out.add(new SidecarEgress(number, protocol, List.copyOf(hosts), List.copyOf(excluded), proxyNamespace, domain,
                    serviceExportTo));
        }
        return List.copyOf(out);
    }

    /** Whether this is the listener without a port, which takes the ports no other listener has. */
    boolean catchAll() {
        return port == 0;
    }

    /** The listener's port; 0 for the catch-all. */
    int port() {
        return port;
    }

    /**
     * The port of {@code svc} a listener with a port imports it on, as the listener speaks it: the service's port of the
     * listener's number, with the listener's protocol as its appProtocol (so {@link ServicePort#isHttp} and its kin read
     * it; unset, the service's own), or none. The catch-all imports every port of a service as it is.
     */
    Optional<ServicePort> portOf(Service svc) {
        return svc.ports().stream().filter(sp -> sp.port() == port).findFirst()
                .map(sp -> protocol.isEmpty() ? sp : new ServicePort(sp.name(), sp.port(), sp.targetPort(),
                        protocol.toLowerCase(Locale.ROOT), sp.protocol()));
    }

    /** Whether the listener's hosts import the service (and its exportTo shows it the proxy's namespace), on any port. */
    boolean imports(Service svc) {
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
        for (Host h : hosts) {
            if (inNamespace(h, svc.namespace()) && HostNames.covers(h.host(), fqdn)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether the listener's hosts import the VirtualService {@code vs} whose hosts, as FQDNs, are {@code vsHosts}: Istio's
     * SelectVirtualServices (pilot/pkg/model/virtualservice.go, with sidecar.go hostClassification.VSMatches) takes one
     * when an egress host of its namespace, or of {@code *}, matches one of its hosts either way (host.Name.Matches), so
     * {@code ./*} imports every VirtualService of the proxy's namespace, and a wildcard egress host one for {@code *}.
     */
    boolean imports(IstioConfig vs, List<String> vsHosts) {
        if (hosts == null) {
            return true;
        }
        for (Host h : hosts) {
            if (inNamespace(h, vs.namespace()) && vsHosts.stream()
                    .anyMatch(v -> HostNames.matches(v, h.host()) && !excluded(vs.namespace(), v))) {
                return true; // an excluded host does not import it, another of its hosts may (SelectVirtualServices)
            }
        }
        return false;
    }

    /** Whether a {@code ~} entry of {@code namespace}, or of every namespace, covers {@code host} (host.Name.SubsetOf). */
    private boolean excluded(String namespace, String host) {
        for (Host h : excluded) {
            if (inNamespace(h, namespace) && HostNames.subsetOf(host, h.host())) {
                return true;
            }
        }
        return false;
    }

    /** An egress host's namespace: {@code *} any, {@code .} the proxy's, else that one. */
    private boolean inNamespace(Host h, String namespace) {
        return switch (h.namespace()) {
            case "*" -> true;
            case "." -> namespace.equals(proxyNamespace);
            default -> namespace.equals(h.namespace());
        };
    }
}
