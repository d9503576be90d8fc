package io.sourcemesh.api.resource;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * One kind the API serves: its group, the versions accepted for it, and the names kubectl knows it by.
 * Names, short names and scopes follow kubectl and Istio's CRDs exactly, so a user's muscle memory works.
 */
public record ResourceKind(String group, String kind, List<String> versions, String plural, String singular,
                           List<String> shortNames, boolean namespaced) {

    public ResourceKind {
        versions = List.copyOf(versions);
        shortNames = List.copyOf(shortNames);
    }

    private static final List<String> ISTIO_NETWORKING = List.of("v1", "v1beta1", "v1alpha3");
    private static final List<String> ISTIO_SECURITY = List.of("v1", "v1beta1");

    public static final ResourceKind NAMESPACE = core("Namespace", "namespaces", false, "ns");
    public static final ResourceKind NODE = core("Node", "nodes", false, "no");
    public static final ResourceKind POD = core("Pod", "pods", true, "po");
    public static final ResourceKind SERVICE = core("Service", "services", true, "svc");
    public static final ResourceKind ENDPOINTS = core("Endpoints", "endpoints", true, "ep");
    public static final ResourceKind SERVICE_ACCOUNT = core("ServiceAccount", "serviceaccounts", true, "sa");
    public static final ResourceKind SECRET = core("Secret", "secrets", true);
    public static final ResourceKind CONFIG_MAP = core("ConfigMap", "configmaps", true, "cm");
    public static final ResourceKind DEPLOYMENT = apps("Deployment", "deployments", "deploy");
    public static final ResourceKind REPLICA_SET = apps("ReplicaSet", "replicasets", "rs");
    public static final ResourceKind GATEWAY = istio("networking.istio.io", ISTIO_NETWORKING, "Gateway", "gateways", "gw");
    public static final ResourceKind VIRTUAL_SERVICE = istio("networking.istio.io", ISTIO_NETWORKING, "VirtualService", "virtualservices", "vs");
    public static final ResourceKind DESTINATION_RULE = istio("networking.istio.io", ISTIO_NETWORKING, "DestinationRule", "destinationrules", "dr");
    // Istio serves EnvoyFilter only as v1alpha3 and gives it no short name.
    public static final ResourceKind ENVOY_FILTER = istio("networking.istio.io", List.of("v1alpha3"), "EnvoyFilter", "envoyfilters");
    public static final ResourceKind SIDECAR = istio("networking.istio.io", ISTIO_NETWORKING, "Sidecar", "sidecars");
    public static final ResourceKind SERVICE_ENTRY = istio("networking.istio.io", ISTIO_NETWORKING, "ServiceEntry", "serviceentries", "se");
    public static final ResourceKind WORKLOAD_ENTRY = istio("networking.istio.io", ISTIO_NETWORKING, "WorkloadEntry", "workloadentries", "we");
    public static final ResourceKind AUTHORIZATION_POLICY = istio("security.istio.io", ISTIO_SECURITY, "AuthorizationPolicy", "authorizationpolicies", "ap");
    public static final ResourceKind PEER_AUTHENTICATION = istio("security.istio.io", ISTIO_SECURITY, "PeerAuthentication", "peerauthentications", "pa");
    public static final ResourceKind REQUEST_AUTHENTICATION = istio("security.istio.io", ISTIO_SECURITY, "RequestAuthentication",
            "requestauthentications", "ra");

    // Istio's CRD: v1 and v1alpha1, short name telemetry.
    public static final ResourceKind TELEMETRY = istio("telemetry.istio.io", List.of("v1", "v1alpha1"), "Telemetry",
            "telemetries", "telemetry");

    private static final List<ResourceKind> ALL = List.of(NAMESPACE, NODE, POD, SERVICE, ENDPOINTS, SERVICE_ACCOUNT,
            SECRET, CONFIG_MAP, DEPLOYMENT, REPLICA_SET, GATEWAY, VIRTUAL_SERVICE, DESTINATION_RULE, ENVOY_FILTER,
            SIDECAR, SERVICE_ENTRY, WORKLOAD_ENTRY, AUTHORIZATION_POLICY, PEER_AUTHENTICATION, REQUEST_AUTHENTICATION,
            TELEMETRY);

    public static List<ResourceKind> all() {
        return ALL;
    }

    /**
     * Finds a kind by any name kubectl accepts: kind, plural, singular or short name, case-insensitively,
     * optionally qualified by group as in {@code deployments.apps} or {@code gw.networking.istio.io}.
     */
    public static Optional<ResourceKind> lookup(String name) {
        String wanted = name.toLowerCase(Locale.ROOT);
        for (ResourceKind k : ALL) {
            if (k.answersTo(wanted)) {
                return Optional.of(k);
            }
        }
        int dot = wanted.indexOf('.');
        if (dot > 0) {
            String bare = wanted.substring(0, dot);
            String group = wanted.substring(dot + 1);
            for (ResourceKind k : ALL) {
                if (k.group.equals(group) && k.answersTo(bare)) {
                    return Optional.of(k);
                }
            }
        }
        return Optional.empty();
    }

    /** The kind a manifest names by {@code apiVersion} and {@code kind}, if that version is served. */
    public static Optional<ResourceKind> of(String apiVersion, String kind) {
        for (ResourceKind k : ALL) {
            if (k.kind.equals(kind) && k.servesApiVersion(apiVersion)) {
                return Optional.of(k);
            }
        }
        return Optional.empty();
    }

    /** The kind with this exact {@code kind} name, whatever the version. */
    public static Optional<ResourceKind> byKind(String kind) {
        return ALL.stream().filter(k -> k.kind.equals(kind)).findFirst();
    }

    public boolean servesApiVersion(String apiVersion) {
        int slash = apiVersion.indexOf('/');
        String g = slash < 0 ? "" : apiVersion.substring(0, slash);
        String v = slash < 0 ? apiVersion : apiVersion.substring(slash + 1);
        return g.equals(group) && versions.contains(v);
    }

    /** The preferred {@code apiVersion}, e.g. {@code apps/v1} or {@code networking.istio.io/v1}. */
    public String apiVersion() {
        return group.isEmpty() ? versions.getFirst() : group + "/" + versions.getFirst();
    }

    /** kubectl's name for objects of this kind in messages: {@code deployment.apps}, {@code service}. */
    public String qualifiedSingular() {
        return group.isEmpty() ? singular : singular + "." + group;
    }

    /** kubectl's resource name with group: {@code deployments.apps}, {@code services}. */
    public String qualifiedPlural() {
        return group.isEmpty() ? plural : plural + "." + group;
    }

    /** Built-in kinds take strategic merge patches; custom resources (Istio's) do not. */
    public boolean builtIn() {
        return group.isEmpty() || group.equals("apps");
    }

    private boolean answersTo(String lower) {
        return kind.toLowerCase(Locale.ROOT).equals(lower) || plural.equals(lower) || singular.equals(lower)
                || shortNames.contains(lower);
    }

    private static ResourceKind core(String kind, String plural, boolean namespaced, String... shortNames) {
        return new ResourceKind("", kind, List.of("v1"), plural, kind.toLowerCase(Locale.ROOT), List.of(shortNames), namespaced);
    }

    private static ResourceKind apps(String kind, String plural, String... shortNames) {
        return new ResourceKind("apps", kind, List.of("v1"), plural, kind.toLowerCase(Locale.ROOT), List.of(shortNames), true);
    }

    private static ResourceKind istio(String group, List<String> versions, String kind, String plural, String... shortNames) {
        return new ResourceKind(group, kind, versions, plural, kind.toLowerCase(Locale.ROOT), List.of(shortNames), true);
    }
}
