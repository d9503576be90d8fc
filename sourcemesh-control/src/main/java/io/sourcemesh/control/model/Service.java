package io.sourcemesh.control.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A service of the mesh's registry as far as the mesh needs it: a Kubernetes Service, or one host of a ServiceEntry
 * ({@code entry} set; {@link ServiceEntries}), which Istio's registry holds as the same model.Service. {@code exportTo}:
 * the namespaces it is exported to as written (a ServiceEntry's exportTo, a Service's networking.istio.io/exportTo
 * annotation), {@code .} resolved to its own; empty: the mesh's defaultServiceExportTo. {@code workloads}: the
 * WorkloadEntries a Kubernetes Service's selector selects ({@link #selecting}), endpoints of the mesh's view only.
 * {@code nodeLocal}: spec.internalTrafficPolicy Local, Istio's Attributes.NodeLocal (kube/controller conversion): a
 * proxy's endpoints of it are only those on the proxy's own node. {@code trafficDistribution}: Istio's
 * Attributes.TrafficDistribution ({@link #trafficDistribution}), the locality preference without a DestinationRule's.
 * {@code publishNotReadyAddresses}: its selected pods are endpoints whether ready or not (Istio's
 * Attributes.PublishNotReadyAddresses: sent healthy).
 */
public record Service(String name, String namespace, String clusterIp, String type,
        String externalTrafficPolicy, Map<String, String> selector, List<ServicePort> ports, Entry entry, Set<String> exportTo,
        List<WorkloadEntry> workloads, boolean nodeLocal, String trafficDistribution, boolean publishNotReadyAddresses) {
    /** Istio's annotation.NetworkingExportTo: a Kubernetes Service's exportTo, comma-separated. */
    public static final String EXPORT_TO_ANNOTATION = "networking.istio.io/exportTo";
    /** Istio's annotation.NetworkingTrafficDistribution: spec.trafficDistribution for clusters older than the field. */
    public static final String TRAFFIC_DISTRIBUTION_ANNOTATION = "networking.istio.io/traffic-distribution";
    /** Istio's model.TrafficDistribution values ("" is Any: no preference). */
    public static final String PREFER_SAME_ZONE = "PreferSameZone";
    public static final String PREFER_SAME_NODE = "PreferSameNode";

    public Service {
        exportTo = Set.copyOf(exportTo);
        workloads = List.copyOf(workloads);
    }

    /**
     * What a ServiceEntry's host has that a Kubernetes Service has not: its name, addresses (IPs and CIDR ranges),
     * endpoints and resolution (STATIC, DNS — the names of its endpoints are the proxy's to resolve — or NONE: the
     * client's destination); the entry it comes from ({@code ServiceEntry ns/name}, created then), which Istio's listener
     * conflicts are resolved by (oldest first) and the translation's warnings name; whether it is MESH_INTERNAL (auto
     * mTLS reaches it, Istio's MeshExternal false); its subjectAltNames (Istio's ServiceAccounts of the service); and its
     * workloadSelector's labels, null without one (the pods of its namespace it selects are endpoints too).
     */
    public record Entry(String host, List<String> addresses, List<WorkloadEndpoint> endpoints, String resolution,
            String config, Instant created, boolean meshInternal, List<String> subjectAltNames, Map<String, String> selector) {
        public Entry {
            addresses = List.copyOf(addresses);
            endpoints = List.copyOf(endpoints);
            subjectAltNames = List.copyOf(subjectAltNames);
            selector = selector == null ? null : Map.copyOf(selector);
        }

        /** Whether {@code pod} is one of the entry's endpoints by its workloadSelector (Istio: same namespace, labels). */
        public boolean selects(Pod pod, String namespace) {
            return selector != null && pod.namespace().equals(namespace) && pod.labels().entrySet().containsAll(selector.entrySet());
        }
    }

    public Service(String name, String namespace, String clusterIp, String type, String externalTrafficPolicy,
            Map<String, String> selector, List<ServicePort> ports) {
        this(name, namespace, clusterIp, type, externalTrafficPolicy, selector, ports, null, Set.of(), List.of(), false, "",
                false);
    }

    /** One host of a ServiceEntry: named by the host, selecting no pod (its endpoints are the entry's). */
    static Service entry(String host, String namespace, String address, List<ServicePort> ports, Entry entry,
            Set<String> exportTo) {
        return new Service(host, namespace, address, "ServiceEntry", "Cluster", Map.of(), List.copyOf(ports), entry, exportTo,
                List.of(), false, "", false);
    }

    /**
     * This service at another of its addresses (a ServiceEntry's: Istio's convertServices makes one per address; a CIDR
     * range listens on 0.0.0.0 with a chain matching the range).
     */
    public Service at(String address) {
        return new Service(name, namespace, address, type, externalTrafficPolicy, selector, ports, entry, exportTo, workloads,
                nodeLocal, trafficDistribution, publishNotReadyAddresses);
    }

    /**
     * Whether proxies of {@code namespace} see this service, as Istio's service index (push_context.go serviceExportTo,
     * IsServiceVisible): its exportTo, or without one the mesh's {@code meshDefault} (defaultServiceExportTo, as written);
     * {@code *} every namespace, {@code ~} alone none, {@code .} its own, else the namespaces named.
     */
    public boolean exportedTo(String namespace, List<String> meshDefault) {
        Set<String> set = exportTo;
        if (set.isEmpty()) {
            set = new HashSet<>();
            for (String e : meshDefault) {
                set.add(e.equals(".") ? this.namespace : e);
            }
        }
        return set.contains("*") || set.contains(namespace);
    }

    /** Whether this is a ServiceEntry's host rather than a Kubernetes Service. */
    public boolean fromEntry() {
        return entry != null;
    }

    public static Service of(ObjectNode node) {
        JsonNode spec = node.path("spec");
        List<ServicePort> ports = Nodes.list(spec.path("ports")).stream()
                .map(p -> new ServicePort(Nodes.text(p, "name"), p.path("port").asInt(),
                        Nodes.text(p, "targetPort"), Nodes.text(p, "appProtocol"),
                        Nodes.text(p, "protocol").isEmpty() ? "TCP" : Nodes.text(p, "protocol")))
                .toList();
        String type = Nodes.text(spec, "type");
        String etp = Nodes.text(spec, "externalTrafficPolicy");
        String namespace = MeshModel.namespaceOf(node);
        Set<String> exportTo = new HashSet<>();
        for (String e : Nodes.text(node, "metadata", "annotations", EXPORT_TO_ANNOTATION).split(",")) {
            if (!e.isBlank()) {
                exportTo.add(e.strip().equals(".") ? namespace : e.strip()); // conversion.go: split on commas, trimmed
            }
        }
        return new Service(Nodes.text(node, "metadata", "name"), namespace,
                Nodes.text(spec, "clusterIP"), type.isEmpty() ? "ClusterIP" : type,
                etp.isEmpty() ? "Cluster" : etp, Nodes.strings(spec.path("selector")), ports, null, exportTo, List.of(),
                Nodes.text(spec, "internalTrafficPolicy").equals("Local"),
                trafficDistribution(Nodes.text(spec, "trafficDistribution"),
                        Nodes.text(node, "metadata", "annotations", TRAFFIC_DISTRIBUTION_ANNOTATION)),
                spec.path("publishNotReadyAddresses").asBoolean(false));
    }

    /**
     * Istio's GetTrafficDistribution: spec.trafficDistribution PreferClose or PreferSameZone, or PreferSameNode; else the
     * annotation's, case-insensitive; else none ("").
     */
    static String trafficDistribution(String spec, String annotation) {
        switch (spec) {
            case "PreferClose", PREFER_SAME_ZONE -> {
                return PREFER_SAME_ZONE;
            }
            case PREFER_SAME_NODE -> {
                return PREFER_SAME_NODE;
            }
            default -> { }
        }
        return switch (annotation.toLowerCase(java.util.Locale.ROOT)) {
            case "preferclose", "prefersamezone" -> PREFER_SAME_ZONE;
            case "prefersamenode" -> PREFER_SAME_NODE;
            default -> "";
        };
    }

    /** The Kubernetes Service's cluster-local name; a ServiceEntry's host as written (Istio's Hostname). */
    public String fqdn(String domain) {
        if (entry != null) {
            return entry.host();
        }
        return name + "." + namespace + ".svc." + domain;
    }

    /** A selector-less Service selects nothing, as in Kubernetes. */
    public boolean selects(Pod pod) {
        return !selector.isEmpty() && pod.namespace().equals(namespace)
                && pod.labels().entrySet().containsAll(selector.entrySet());
    }

    /**
     * This Kubernetes Service with the WorkloadEntries of {@code all} its selector selects, as Istio's Kubernetes registry
     * (kube/controller/controller.go serviceInstancesFromWorkloadInstances, on by PILOT_ENABLE_K8S_SELECT_WORKLOAD_ENTRIES'
     * default): only a Service the client load-balances (not headless, not ExternalName) with a selector, and only entries
     * of its namespace whose labels hold the selector's. Kubernetes' own Endpoints keep only pods; these are the mesh's.
     */
    public Service selecting(List<WorkloadEntry> all) {
        if (entry != null || selector.isEmpty() || clusterIp.equals("None") || type.equals("ExternalName")) {
            return this;
        }
        List<WorkloadEntry> selected = all.stream().filter(w -> w.selectedBy(selector, namespace)).toList();
        return selected.isEmpty() ? this
                : new Service(name, namespace, clusterIp, type, externalTrafficPolicy, selector, ports, entry, exportTo, selected,
                        nodeLocal, trafficDistribution, publishNotReadyAddresses);
    }

    public Optional<ServicePort> port(int number) {
        return ports.stream().filter(p -> p.port() == number).findFirst();
    }
}
