package io.sourcemesh.control.translate;

import io.envoyproxy.envoy.config.accesslog.v3.AccessLog;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.sourcemesh.control.model.IstioConfig;
import io.sourcemesh.control.model.MeshModel;
import io.sourcemesh.control.model.Service;
import io.sourcemesh.control.model.ServicePort;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A sidecar's outbound listeners of non-HTTP ports, one per address and port, as Istio's buildSidecarOutboundListener
 * keys them (listener.go listenerMap): the services' chains ({@link SidecarTcpListener#chains}) on one key merged as
 * mergeTCPFilterChains does — a chain the proxy could not tell from an earlier one (the same SNI names and ranges) is
 * left out, named — in Istio's service order, oldest first (PushContext's sortServicesByCreationTime; Kubernetes
 * Services, which SourceMesh keeps no creation time of, before ServiceEntries). So on 0.0.0.0:443 the TLS entries
 * without addresses are a chain per host by SNI, and on 0.0.0.0 of a TCP port the oldest entry takes every connection.
 */
final class SidecarTcpListeners {
    /** One service port, in line to add its chains, with the VirtualServices of the egress listener that imports it. */
    private record Candidate(Service service, ServicePort port, RouteSource source, List<IstioConfig> virtualServices) {}

    /** The chains of one listener so far and whose each is. */
    private record Entry(String bind, int port, List<SidecarTcpListener.Chain> chains, List<Service> owners) {}

    private final List<Candidate> candidates = new ArrayList<>();

    /**
     * Adds {@code service}'s {@code port} at the service's address (a ServiceEntry's: one of them, by {@link Service#at}),
     * its routes from {@code virtualServices} (those of the Sidecar's egress listener that imports it, in the sidecar's
     * order).
     */
    void add(Service service, ServicePort port, RouteSource source, List<IstioConfig> virtualServices) {
        candidates.add(new Candidate(service, port, source, virtualServices));
    }

    /** The name of the listener {@code service}'s {@code port} is on (Istio's listenerMap key). */
    static String listenerName(Service service, ServicePort port) {
        return Names.listener(SidecarTcpListener.bind(service), port.port());
    }

    /**
     * The listeners, leaving out those an HTTP listener of the same name has ({@code httpListeners}: 0.0.0.0_port of the
     * HTTP ports): Istio would sniff the protocol on one listener there, which the proxy cannot (no http_inspector).
     */
    List<Listener> build(TranslationContext context, Set<String> httpListeners) {
        Map<String, Entry> byName = new LinkedHashMap<>();
        List<Candidate> ordered = candidates.stream().sorted(Comparator.comparing(
                (Candidate c) -> c.service().fromEntry() ? c.service().entry().created() : Instant.MIN)).toList();
        for (Candidate c : ordered) {
            String bind = SidecarTcpListener.bind(c.service());
            String name = Names.listener(bind, c.port().port());
            String resource = resource(c.service(), context);
            if (httpListeners.contains(name)) {
                context.warnings().add(new TranslationWarning(resource, "port " + c.port().port() + " of "
                        + c.service().fqdn(context.domain()) + " left out of the sidecars' listener " + name
                        + ": HTTP services listen there (Istio would sniff the protocol on one listener, which SourceMesh "
                        + "does not); give the entry an address"));
                continue;
            }
            List<SidecarTcpListener.Chain> chains = SidecarTcpListener.chains(context.model(), context.log(),
                    context.warnings(), c.service(), c.port(), c.source(), c.virtualServices());
            Entry e = byName.computeIfAbsent(name, n -> new Entry(bind, c.port().port(), new ArrayList<>(), new ArrayList<>()));
            int earlier = e.chains().size(); // a service's own chains are told apart by SidecarTcpListener already
            for (SidecarTcpListener.Chain chain : chains) {
                int taken = indexOfConflict(e.chains().subList(0, earlier), chain);
                if (taken < 0) {
                    e.chains().add(chain);
                    e.owners().add(c.service());
                    continue;
                }
                Service owner = e.owners().get(taken);
                context.warnings().add(new TranslationWarning(resource, "port " + c.port().port() + " of "
                        + c.service().fqdn(context.domain()) + " left out of the sidecars' listener " + name + ": "
                        + owner.fqdn(context.domain()) + " (" + resource(owner, context) + ") matches the same connections "
                        + "there first" + (chain.sniHosts().isEmpty() ? "" : " (SNI " + chain.sniHosts() + ")")
                        + " (Istio keeps the older service's chain; a listener conflict)"));
            }
        }
        List<Listener> out = new ArrayList<>();
        byName.values().forEach(e -> out.add(SidecarTcpListener.listener(e.bind(), e.port(), e.chains(),
                context.fallthrough(), context.log(), context.warnings())));
        return out;
    }

    private static int indexOfConflict(List<SidecarTcpListener.Chain> chains, SidecarTcpListener.Chain incoming) {
        for (int i = 0; i < chains.size(); i++) {
            if (chains.get(i).conflictsWith(incoming)) {
                return i;
            }
        }
        return -1;
    }

    /** The resource a warning names: a ServiceEntry (so apply and its status show it), else the service. */
    private static String resource(Service service, TranslationContext context) {
        return service.fromEntry() ? service.entry().config() : "service " + service.fqdn(context.domain());
    }

    /** What the listeners are built with. */
    record TranslationContext(MeshModel model, List<AccessLog> log, List<TranslationWarning> warnings, String fallthrough) {
        String domain() {
            return model.meshConfig().domain();
        }
    }
}
