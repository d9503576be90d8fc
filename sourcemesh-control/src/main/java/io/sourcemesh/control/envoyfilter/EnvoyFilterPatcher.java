package io.sourcemesh.control.envoyfilter;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.control.model.IstioConfig;
import io.sourcemesh.control.model.MeshModel;
import io.sourcemesh.control.model.ProxyIdentity;
import io.sourcemesh.control.translate.ProxyResources;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Applies the EnvoyFilters that select a proxy to its translated resources, as Istio's
 * pilot/pkg/networking/core/envoyfilter does. EnvoyFilters in the root namespace apply mesh-wide, others
 * only to proxies in their namespace; workloadSelector labels must all be on the proxy, and targetRefs
 * select Gateway API gateways ({@link #attaches}). They apply in
 * Istio's order ({@link #selected}). Each EnvoyFilter is all or nothing: if any
 * of its patches is invalid or fails, none of them is applied and a PatchFailure says why.
 */
public final class EnvoyFilterPatcher {
    private static final String GATEWAY_API_GROUP = "gateway.networking.k8s.io";
    /** The label Gateway API deployments carry (Istio's label.IoK8sNetworkingGatewayGatewayName). */
    private static final String GATEWAY_NAME_LABEL = GATEWAY_API_GROUP + "/gateway-name";

    private EnvoyFilterPatcher() {}

    public static PatchResult apply(MeshModel model, ProxyIdentity proxy, ProxyResources resources) {
        List<String> applied = new ArrayList<>();
        List<PatchFailure> failures = new ArrayList<>();
        ProxyResources current = resources;
        for (IstioConfig ef : selected(model, proxy)) {
            try {
                List<ConfigPatch> patches = parse(ef);
                Workspace ws = new Workspace(current, proxy);
                for (ConfigPatch p : patches) {
                    if (!proxyConditionsMatch(p, proxy) || !ws.proxyMatches(p.context())) {
                        continue;
                    }
                    try {
                        switch (p.applyTo()) {
                            case LISTENER, LISTENER_FILTER, FILTER_CHAIN, NETWORK_FILTER, HTTP_FILTER -> ListenerPatches.apply(p, ws);
                            case ROUTE_CONFIGURATION, VIRTUAL_HOST, HTTP_ROUTE -> RoutePatches.apply(p, ws);
                            case CLUSTER -> ClusterPatches.apply(p, ws);
                        }
                    } catch (RuntimeException e) {
                        throw e instanceof PatchException pe ? pe : new PatchException(p.index(), e.getMessage(), e);
                    }
                }
                current = ws.build(current);
                applied.add(ef.key());
            } catch (PatchException e) {
                failures.add(new PatchFailure(ef.key(), e.patchIndex(), e.getMessage()));
            }
        }
        return new PatchResult(current, applied, failures);
    }

    /**
     * The EnvoyFilters for this proxy, in Istio's application order (PushContext.EnvoyFilters, pilot/pkg/model/
     * push_context.go): by priority; at one priority the root namespace's first; then oldest first; then by
     * {@code name.namespace} as one string. Not {@link IstioConfig#OLDEST_FIRST}: Istio writes this order out apart.
     */
    static List<IstioConfig> selected(MeshModel model, ProxyIdentity proxy) {
        String root = model.meshConfig().rootNamespace();
        return model.envoyFilters().stream()
                .filter(ef -> ef.namespace().equals(root) || ef.namespace().equals(proxy.namespace()))
                .filter(ef -> attaches(ef, proxy))
                .sorted(Comparator.comparingInt((IstioConfig ef) -> ef.spec().path("priority").asInt(0))
                        .thenComparing((IstioConfig ef) -> !ef.namespace().equals(root))
                        .thenComparing(IstioConfig::creationTimestamp)
                        .thenComparing((IstioConfig ef) -> ef.name() + "." + ef.namespace()))
                .toList();
    }

    /**
     * Istio's WorkloadPolicyMatcher.ShouldAttachPolicy (pilot/pkg/model/policyattachment.go). A proxy that is not a
     * Gateway API gateway (no gateway-name label) takes only EnvoyFilters without targetRefs, by workloadSelector.
     * A Gateway API gateway takes those too (ENABLE_SELECTOR_BASED_K8S_GATEWAY_POLICY, on by default), and one with
     * targetRefs naming its Gateway from the gateway's own namespace. Service, ServiceEntry and GatewayClass targets
     * attach only to waypoints, which SourceMesh has none of.
     */
    static boolean attaches(IstioConfig ef, ProxyIdentity proxy) {
        JsonNode refs = ef.spec().path("targetRefs");
        if (refs.isEmpty()) {
            Map<String, String> sel = strings(ef.spec().path("workloadSelector").path("labels"));
            return proxy.labels().entrySet().containsAll(sel.entrySet());
        }
        String gateway = proxy.labels().get(GATEWAY_NAME_LABEL);
        if (gateway == null || !ef.namespace().equals(proxy.namespace())) {
            return false;
        }
        for (JsonNode ref : refs) {
            String ns = ref.path("namespace").asText("");
            if (ref.path("group").asText("").equals(GATEWAY_API_GROUP) && ref.path("kind").asText("").equals("Gateway")
                    && ref.path("name").asText("").equals(gateway) && (ns.isEmpty() || ns.equals(proxy.namespace()))) {
                return true;
            }
        }
        return false;
    }

    /** All patches parsed up front, so one bad value refuses the whole EnvoyFilter before anything changes. */
    private static List<ConfigPatch> parse(IstioConfig ef) {
        List<ConfigPatch> out = new ArrayList<>();
        int i = 0;
        for (JsonNode n : ef.spec().path("configPatches")) {
            out.add(ConfigPatch.parse(i++, n));
        }
        // Istio applies listener-level patches before chains, chains before filters, and so on.
        out.sort(Comparator.comparing(ConfigPatch::applyTo));
        return out;
    }

    /** proxy.proxyVersion is a regex searched in ISTIO_VERSION; proxy.metadata must all be present. */
    private static boolean proxyConditionsMatch(ConfigPatch p, ProxyIdentity proxy) {
        if (p.proxyVersion() != null && !p.proxyVersion().matcher(proxy.istioVersion()).find()) {
            return false;
        }
        Map<String, String> meta = strings(p.match().path("proxy").path("metadata"));
        return meta.entrySet().stream().allMatch(e -> e.getValue().equals(proxy.metadata().get(e.getKey())));
    }

    private static Map<String, String> strings(JsonNode node) {
        Map<String, String> out = new LinkedHashMap<>();
        node.properties().forEach(e -> out.put(e.getKey(), e.getValue().asText()));
        return out;
    }
}
