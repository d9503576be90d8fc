package io.sourcemesh.control.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.ServiceEntryRules;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A ServiceEntry as the services it adds to the mesh's registry, as Istio's convertServices and convertEndpoints
 * (pilot/pkg/serviceregistry/serviceentry/conversion.go): one service per host, with the entry's ports and its
 * {@code endpoints}. Only what SourceMesh translates is read ({@code api.resource.ServiceEntryRules.translated} and
 * {@code portTranslated}: resolution STATIC, NONE, and DNS or DNS_ROUND_ROBIN whose names the proxy can resolve; ports of a known protocol
 * but UDP and HTTP_PROXY); the rest gets nothing here, and apply and the entry's status say so
 * ({@code api.resource.ServiceEntryRules}), so no part is half applied unseen.
 */
public final class ServiceEntries {
    /** Istio's constants.UnspecifiedIP: the address of a host whose entry names none. */
    public static final String UNSPECIFIED_IP = "0.0.0.0";

    private ServiceEntries() {}

    /**
     * The entry's services; {@code workloads}: the mesh's WorkloadEntries, those its workloadSelector selects becoming
     * its endpoints (Istio's services(): the selected workload instances, ordered by namespace and name).
     */
    static List<Service> of(ObjectNode entry, List<WorkloadEntry> workloads) {
        JsonNode spec = entry.path("spec");
        if (!ServiceEntryRules.translated(spec)) {
            return List.of();
        }
        String resolution = Nodes.text(spec, "resolution").isEmpty() ? "NONE" : Nodes.text(spec, "resolution"); // the proto's default
        List<ServicePort> ports = new ArrayList<>();
        for (JsonNode p : Nodes.list(spec.path("ports"))) {
            // The entry's protocol is the port's (protocol.Parse); as appProtocol it decides isHttp like a Service's.
            ServicePort port = new ServicePort(Nodes.text(p, "name"), p.path("number").asInt(),
                    p.path("targetPort").asInt(0) > 0 ? String.valueOf(p.path("targetPort").asInt()) : "",
                    Nodes.text(p, "protocol").isEmpty() ? "tcp" : Nodes.text(p, "protocol").toLowerCase(Locale.ROOT), "TCP");
            if (ServiceEntryRules.portTranslated(spec, p)) {
                ports.add(port);
            }
        }
        if (ports.isEmpty()) {
            return List.of();
        }
        List<WorkloadEndpoint> endpoints = new ArrayList<>();
        for (JsonNode e : Nodes.list(spec.path("endpoints"))) {
            String address = Nodes.text(e, "address");
            if (address.isEmpty() || address.startsWith("unix://")) {
                continue; // no unix sockets in the proxy; the entry's status names them
            }
            Map<String, Integer> own = new LinkedHashMap<>();
            e.path("ports").properties().forEach(p -> own.put(p.getKey(), p.getValue().asInt()));
            endpoints.add(WorkloadEndpoint.of(address, own, Nodes.strings(e.path("labels")), e.path("weight").asInt(0),
                    Nodes.text(e, "serviceAccount"), Nodes.text(e, "locality")));
        }
        List<String> addresses = ServiceEntryRules.addresses(spec);
        String namespace = MeshModel.namespaceOf(entry);
        String config = "ServiceEntry " + namespace + "/" + Nodes.text(entry, "metadata", "name");
        boolean meshInternal = Nodes.text(spec, "location").equals("MESH_INTERNAL");
        Map<String, String> selector = spec.path("workloadSelector").isObject()
                ? Nodes.strings(spec.path("workloadSelector").path("labels")) : null;
        if (selector != null) {
            workloads.stream().filter(w -> w.selectedBy(selector, namespace)).map(WorkloadEntry::endpoint).forEach(endpoints::add);
        }
        Set<String> exportTo = new HashSet<>();
        Nodes.textList(spec.path("exportTo")).forEach(e -> exportTo.add(e.equals(".") ? namespace : e));
        List<Service> out = new ArrayList<>();
        for (String host : Nodes.textList(spec.path("hosts"))) {
            // A DNS entry without endpoints or selector resolves the host itself (convertServiceEntryToInstances'
            // hostnameToServiceInstance).
            boolean dns = resolution.equals("DNS") || resolution.equals("DNS_ROUND_ROBIN");
            List<WorkloadEndpoint> own = endpoints.isEmpty() && selector == null && dns
                    ? List.of(new WorkloadEndpoint(host, Map.of(), Map.of(), 0, "", Locality.UNKNOWN)) : endpoints;
            out.add(Service.entry(host, namespace, addresses.isEmpty() ? UNSPECIFIED_IP : addresses.get(0), ports,
                    new Service.Entry(host, addresses, own, resolution, config, Nodes.instant(entry), meshInternal,
                            Nodes.textList(spec.path("subjectAltNames")), selector), exportTo));
        }
        return out;
    }
}
