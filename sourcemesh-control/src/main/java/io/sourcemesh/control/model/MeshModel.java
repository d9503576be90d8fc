package io.sourcemesh.control.model;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.mesh.GatewayTopology;
import io.sourcemesh.api.mesh.ProxyConfigs;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * An immutable snapshot of the cluster's mesh-relevant objects, built from the JSON trees a Kubernetes
 * API server returns. Unknown kinds are ignored; lists are sorted by namespace/name so output is stable.
 */
public record MeshModel(List<Service> services, List<Pod> pods, List<IstioConfig> gateways,
        List<IstioConfig> virtualServices, List<IstioConfig> destinationRules, List<IstioConfig> envoyFilters,
        List<Secret> secrets, List<IstioConfig> authorizationPolicies, MeshConfig meshConfig, List<IstioConfig> sidecars,
        List<RegistryConflict> registryConflicts, List<IstioConfig> peerAuthentications,
        List<IstioConfig> requestAuthentications, List<IstioConfig> telemetries) {

    /** A ServiceEntry host left out of the registry because another service has that host first. */
    public record RegistryConflict(String entry, String host, String keptBy) {}

    public MeshModel(List<Service> services, List<Pod> pods, List<IstioConfig> gateways, List<IstioConfig> virtualServices,
            List<IstioConfig> destinationRules, List<IstioConfig> envoyFilters, List<Secret> secrets,
            List<IstioConfig> authorizationPolicies, MeshConfig meshConfig, List<IstioConfig> sidecars,
            List<RegistryConflict> registryConflicts, List<IstioConfig> peerAuthentications,
            List<IstioConfig> requestAuthentications) {
        this(services, pods, gateways, virtualServices, destinationRules, envoyFilters, secrets, authorizationPolicies, meshConfig,
                sidecars, registryConflicts, peerAuthentications, requestAuthentications, List.of());
    }

    public MeshModel(List<Service> services, List<Pod> pods, List<IstioConfig> gateways, List<IstioConfig> virtualServices,
            List<IstioConfig> destinationRules, List<IstioConfig> envoyFilters, List<Secret> secrets,
            List<IstioConfig> authorizationPolicies, MeshConfig meshConfig, List<IstioConfig> sidecars,
            List<RegistryConflict> registryConflicts, List<IstioConfig> peerAuthentications) {
        this(services, pods, gateways, virtualServices, destinationRules, envoyFilters, secrets, authorizationPolicies, meshConfig,
                sidecars, registryConflicts, peerAuthentications, List.of());
    }

    public MeshModel(List<Service> services, List<Pod> pods, List<IstioConfig> gateways, List<IstioConfig> virtualServices,
            List<IstioConfig> destinationRules, List<IstioConfig> envoyFilters, List<Secret> secrets,
            List<IstioConfig> authorizationPolicies, MeshConfig meshConfig, List<IstioConfig> sidecars) {
        this(services, pods, gateways, virtualServices, destinationRules, envoyFilters, secrets, authorizationPolicies, meshConfig,
                sidecars, List.of(), List.of());
    }

    public MeshModel(List<Service> services, List<Pod> pods, List<IstioConfig> gateways, List<IstioConfig> virtualServices,
            List<IstioConfig> destinationRules, List<IstioConfig> envoyFilters, List<Secret> secrets, MeshConfig meshConfig) {
        this(services, pods, gateways, virtualServices, destinationRules, envoyFilters, secrets, List.of(), meshConfig, List.of());
    }

    public MeshModel(List<Service> services, List<Pod> pods, List<IstioConfig> gateways, List<IstioConfig> virtualServices,
            List<IstioConfig> destinationRules, List<IstioConfig> envoyFilters, List<Secret> secrets,
            List<IstioConfig> authorizationPolicies, MeshConfig meshConfig) {
        this(services, pods, gateways, virtualServices, destinationRules, envoyFilters, secrets, authorizationPolicies, meshConfig,
                List.of());
    }

    public MeshModel {
        peerAuthentications = List.copyOf(peerAuthentications);
        requestAuthentications = List.copyOf(requestAuthentications);
        telemetries = List.copyOf(telemetries);
        registryConflicts = List.copyOf(registryConflicts);
        sidecars = List.copyOf(sidecars);
        services = List.copyOf(services);
        pods = List.copyOf(pods);
        gateways = List.copyOf(gateways);
        virtualServices = List.copyOf(virtualServices);
        destinationRules = List.copyOf(destinationRules);
        envoyFilters = List.copyOf(envoyFilters);
        secrets = List.copyOf(secrets);
        authorizationPolicies = List.copyOf(authorizationPolicies);
    }

    public static MeshModel of(Collection<ObjectNode> objects) {
        return of(objects, MeshConfig.defaults());
    }

    public static MeshModel of(Collection<ObjectNode> objects, MeshConfig meshConfig) {
        List<Service> services = new ArrayList<>();
        List<Pod> pods = new ArrayList<>();
        List<IstioConfig> gateways = new ArrayList<>();
        List<IstioConfig> virtualServices = new ArrayList<>();
        List<IstioConfig> destinationRules = new ArrayList<>();
        List<IstioConfig> envoyFilters = new ArrayList<>();
        List<Secret> secrets = new ArrayList<>();
        List<IstioConfig> authorizationPolicies = new ArrayList<>();
        List<IstioConfig> sidecars = new ArrayList<>();
        List<ObjectNode> serviceEntries = new ArrayList<>();
        List<WorkloadEntry> workloadEntries = new ArrayList<>();
        List<IstioConfig> peerAuthentications = new ArrayList<>();
        List<IstioConfig> requestAuthentications = new ArrayList<>();
        Map<String, Map<String, String>> nodeLabels = new HashMap<>();
        List<IstioConfig> telemetries = new ArrayList<>();
        for (ObjectNode o : objects) {
            String kind = Nodes.text(o, "kind");
            boolean istio = Nodes.text(o, "apiVersion").startsWith("networking.istio.io/");
            switch (kind) {
                case "Service" -> services.add(Service.of(o));
                case "Pod" -> pods.add(Pod.of(o));
                case "Node" -> nodeLabels.put(Nodes.text(o, "metadata", "name"), Nodes.strings(o.path("metadata").path("labels")));
                case "Secret" -> secrets.add(Secret.of(o));
                case "Gateway" -> { if (istio) gateways.add(IstioConfig.of(o)); }
                case "VirtualService" -> virtualServices.add(IstioConfig.of(o));
                case "DestinationRule" -> destinationRules.add(IstioConfig.of(o));
                case "EnvoyFilter" -> envoyFilters.add(IstioConfig.of(o));
                case "AuthorizationPolicy" -> {
                    if (Nodes.text(o, "apiVersion").startsWith("security.istio.io/")) {
                        authorizationPolicies.add(IstioConfig.of(o));
                    }
                }
                case "PeerAuthentication" -> {
                    if (Nodes.text(o, "apiVersion").startsWith("security.istio.io/")) {
                        peerAuthentications.add(IstioConfig.of(o));
                    }
                }
                case "RequestAuthentication" -> {
                    if (Nodes.text(o, "apiVersion").startsWith("security.istio.io/")) {
                        requestAuthentications.add(IstioConfig.of(o));
                    }
                }
                case "Telemetry" -> {
                    if (Nodes.text(o, "apiVersion").startsWith("telemetry.istio.io/")) {
                        telemetries.add(IstioConfig.of(o));
                    }
                }
                case "Sidecar" -> { if (istio) sidecars.add(IstioConfig.of(o)); }
                case "ServiceEntry" -> { if (istio) serviceEntries.add(o); }
                case "WorkloadEntry" -> { if (istio) WorkloadEntry.of(o).ifPresent(workloadEntries::add); }
                default -> { }
            }
        }
        pods.replaceAll(p -> nodeLabels.containsKey(p.nodeName()) ? p.onNode(nodeLabels.get(p.nodeName())) : p);
        List<RegistryConflict> conflicts = new ArrayList<>();
        workloadEntries.sort(Comparator.comparing(WorkloadEntry::namespace).thenComparing(WorkloadEntry::name));
        services.replaceAll(s -> s.selecting(workloadEntries));
        addEntries(services, serviceEntries, workloadEntries, meshConfig.domain(), conflicts);
        Comparator<IstioConfig> byKey = Comparator.comparing(IstioConfig::key);
        services.sort(Comparator.comparing(Service::namespace).thenComparing(Service::name));
        pods.sort(Comparator.comparing(Pod::namespace).thenComparing(Pod::name));
        gateways.sort(byKey);
        virtualServices.sort(byKey);
        destinationRules.sort(byKey);
        envoyFilters.sort(byKey);
        authorizationPolicies.sort(byKey);
        secrets.sort(Comparator.comparing(Secret::namespace).thenComparing(Secret::name));
        sidecars.sort(byKey);
        peerAuthentications.sort(byKey);
        requestAuthentications.sort(byKey);
        telemetries.sort(byKey);
        return new MeshModel(services, pods, gateways, virtualServices, destinationRules, envoyFilters, secrets,
                authorizationPolicies, meshConfig, sidecars, conflicts, peerAuthentications, requestAuthentications, telemetries);
    }

    /**
     * The ServiceEntries' hosts, oldest entry first, each host once: a host a Kubernetes Service or an older entry has
     * is left out as a conflict, since two clusters or virtual hosts of one name would have the proxy refuse the whole
     * push. (Istio's SidecarScope keeps one service per host too, preferring the proxy's namespace and merging the ports
     * of entries in one namespace; SourceMesh keeps the oldest and says so.)
     */
    private static void addEntries(List<Service> services, List<ObjectNode> entries, List<WorkloadEntry> workloads, String domain,
            List<RegistryConflict> conflicts) {
        Map<String, String> owners = new HashMap<>();
        // Keyed in lower case: the proxy matches hosts ignoring case, and refuses a route config two of whose virtual
        // hosts share a domain so (Envoy's "Only unique values for domains"); Istio would send both and be NACKed.
        services.forEach(s -> owners.put(s.fqdn(domain).toLowerCase(Locale.ROOT), "Service " + s.namespace() + "/" + s.name()));
        // IstioConfig.OLDEST_FIRST's order: creation time, then name, then namespace
        entries.sort(Comparator.comparing((ObjectNode e) -> Nodes.instant(e))
                .thenComparing(e -> Nodes.text(e, "metadata", "name")).thenComparing(MeshModel::namespaceOf));
        for (ObjectNode entry : entries) {
            String key = "ServiceEntry " + namespaceOf(entry) + "/" + Nodes.text(entry, "metadata", "name");
            for (Service s : ServiceEntries.of(entry, workloads)) {
                String owner = owners.putIfAbsent(s.fqdn(domain).toLowerCase(Locale.ROOT), key);
                if (owner == null) {
                    services.add(s);
                } else {
                    conflicts.add(new RegistryConflict(key, s.fqdn(domain), owner));
                }
            }
        }
    }

    static String namespaceOf(ObjectNode node) {
        String ns = Nodes.text(node, "metadata", "namespace");
        return ns.isEmpty() ? "default" : ns;
    }

    /** This model with {@code replacement} as its VirtualServices (the delegates merged into their roots). */
    public MeshModel withVirtualServices(List<IstioConfig> replacement) {
        return new MeshModel(services, pods, gateways, replacement, destinationRules, envoyFilters, secrets,
                authorizationPolicies, meshConfig, sidecars, registryConflicts, peerAuthentications, requestAuthentications,
                telemetries);
    }

    /** This model with {@code replacement} as its DestinationRules (those one proxy applies, one per service). */
    public MeshModel withDestinationRules(List<IstioConfig> replacement) {
        return new MeshModel(services, pods, gateways, virtualServices, replacement, envoyFilters, secrets,
                authorizationPolicies, meshConfig, sidecars, registryConflicts, peerAuthentications, requestAuthentications,
                telemetries);
    }

    public Optional<Pod> pod(String namespace, String name) {
        return pods.stream().filter(p -> p.namespace().equals(namespace) && p.name().equals(name)).findFirst();
    }

    public Optional<Service> service(String namespace, String name) {
        return services.stream().filter(s -> s.namespace().equals(namespace) && s.name().equals(name)).findFirst();
    }

    public Optional<Secret> secret(String namespace, String name) {
        return secrets.stream().filter(s -> s.namespace().equals(namespace) && s.name().equals(name)).findFirst();
    }

    /**
     * The gateway topology a proxy runs with: its pod's {@code proxy.istio.io/config} annotation over
     * meshConfig.defaultConfig, field by field (Istio's ApplyProxyConfig). An annotation that does not
     * parse (the API server refuses those) counts as unset, and {@code problems} gets why.
     */
    public GatewayTopology gatewayTopology(ProxyIdentity proxy, Consumer<String> problems) {
        GatewayTopology mesh = meshConfig.gatewayTopology();
        Optional<Pod> pod = pod(proxy.namespace(), proxy.podName());
        String annotation = pod.map(p -> p.annotations().get(ProxyConfigs.ANNOTATION)).orElse(null);
        if (annotation == null) {
            return mesh;
        }
        ProxyConfigs.Parsed parsed = ProxyConfigs.proxyConfig(annotation, "metadata.annotations[" + ProxyConfigs.ANNOTATION + "]");
        if (!parsed.ok()) {
            parsed.errors().forEach(e -> problems.accept(e.message()));
            return mesh;
        }
        return parsed.topology().over(mesh);
    }

    /** The Services whose selector picks this pod (the pod's "service targets"). */
    public List<Service> servicesOf(Pod pod) {
        return services.stream().filter(s -> s.selects(pod)).toList();
    }

    /** Ready pods behind a Service (every one with an address if it publishes not-ready ones), the endpoints Istio pushes by EDS. */
    public List<Pod> endpointsOf(Service service) {
        return pods.stream().filter(p -> (p.ready() || service.publishNotReadyAddresses()) && !p.ip().isEmpty()
                && service.selects(p)).toList();
    }

    /**
     * Resolves a host as written in Istio config (short "httpbin", "httpbin.default", or an FQDN) relative
     * to the namespace of the config that names it, as Istio's ResolveShortnameToFQDN does.
     */
    public String fqdn(String host, String namespace) {
        String domain = meshConfig.domain();
        if (host.startsWith("*") || host.endsWith("." + domain) || host.equals(domain)) {
            return host;
        }
        if (!host.contains(".")) {
            return host + "." + namespace + ".svc." + domain;
        }
        String[] parts = host.split("\\.");
        if (parts.length == 2 && services.stream().anyMatch(s -> s.name().equals(parts[0])
                && s.namespace().equals(parts[1]))) {
            return host + ".svc." + domain;
        }
        return host;
    }

    /** The Service whose FQDN is this host, if it is one of ours. */
    public Optional<Service> serviceByFqdn(String fqdn) {
        return services.stream().filter(s -> s.fqdn(meshConfig.domain()).equals(fqdn)).findFirst();
    }
}
