package io.sourcemesh.cluster.mesh;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.api.support.InvalidObjects;
import io.sourcemesh.control.envoyfilter.EnvoyFilterPatcher;
import io.sourcemesh.control.envoyfilter.PatchFailure;
import io.sourcemesh.control.envoyfilter.PatchResult;
import io.sourcemesh.control.model.MeshConfig;
import io.sourcemesh.control.model.MeshModel;
import io.sourcemesh.control.model.ProxyIdentity;
import io.sourcemesh.control.model.ProxyType;
import io.sourcemesh.control.translate.ProxyResources;
import io.sourcemesh.control.translate.PolicyTargets;
import io.sourcemesh.control.translate.TranslationWarning;
import io.sourcemesh.control.translate.Translator;
import io.sourcemesh.control.xds.XdsServer;
import io.sourcemesh.control.xds.XdsStatus;
import io.sourcemesh.proxy.xds.TypeUrls;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The control plane's loop body: the store's objects become a {@link MeshModel}; each running
 * proxy gets its translation with the EnvoyFilters applied, published over ADS when it changed.
 * What went wrong is returned by EnvoyFilter and by resource, so it can be shown where users look.
 */
public final class MeshPusher {
    /** The kinds the translation reads; a change to any of them is pushed. */
    public static final List<ResourceKind> MESH_KINDS = List.of(
            ResourceKind.SERVICE, ResourceKind.POD,
            ResourceKind.SECRET, ResourceKind.GATEWAY,
            ResourceKind.VIRTUAL_SERVICE, ResourceKind.DESTINATION_RULE,
            ResourceKind.ENVOY_FILTER, ResourceKind.AUTHORIZATION_POLICY,
            ResourceKind.SIDECAR, ResourceKind.SERVICE_ENTRY, ResourceKind.WORKLOAD_ENTRY, ResourceKind.PEER_AUTHENTICATION,
            ResourceKind.REQUEST_AUTHENTICATION, ResourceKind.NODE, ResourceKind.TELEMETRY);

    private final XdsServer xds;
    private final Translator translator;
    private final Map<String, String> published = new ConcurrentHashMap<>();
    private volatile MeshConfig lastMeshConfig = MeshConfig.defaults();
    private final Map<String, String> names = new ConcurrentHashMap<>();
    /**
     * Whether each Istio object's spec ("kind/namespace/name@uid@generation": a status write changes no generation) is
     * valid: each is validated, and an invalid one logged, once.
     */
    private final Map<String, Boolean> validity = new ConcurrentHashMap<>();

    /** A proxy to configure: its ADS node id and who it is. */
    public record Target(String nodeId, ProxyIdentity identity) {}

    /**
     * Failed patches by EnvoyFilter ("namespace/name"), translation warnings by resource, and which
     * proxies (node ids) each EnvoyFilter and Gateway ("namespace/name") and each security policy ("Kind
     * namespace/name", {@link PolicyTargets}) was pushed to.
     */
    public record Outcome(Map<String, List<PatchFailure>> patchFailures, List<TranslationWarning> warnings,
            Map<String, ProxyResources> resources, Map<String, List<String>> policyProxies,
            Map<String, List<String>> envoyFilterProxies, Map<String, List<String>> gatewayProxies) {}

    public MeshPusher(XdsServer xds, Translator translator) {
        this.xds = xds;
        this.translator = translator;
    }

    /**
     * Waits until every proxy answered its latest push for listeners and clusters (ACK or NACK),
     * so a CLI change has reached the data plane when the command returns. False on timeout.
     */
    public boolean awaitAnswered(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!answered()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(10);
        }
        return true;
    }

    /** True when every proxy answered its latest push for listeners and clusters (ACK or NACK). */
    public boolean answered() {
        for (Map.Entry<String, String> e : Map.copyOf(published).entrySet()) {
            for (String type : List.of(TypeUrls.CLUSTER, TypeUrls.LISTENER)) {
                if (!answered(e.getKey(), type, e.getValue())) {
                    return false;
                }
            }
        }
        return true;
    }

    private boolean answered(String nodeId, String type, String version) {
        return xds.status(nodeId, type).map(s -> switch (s) {
            case XdsStatus.Ack a -> a.version().equals(version);
            case XdsStatus.Nack n -> n.rejectedVersion().equals(version);
        }).orElse(false) || !version.equals(published.get(nodeId));
    }

    /**
     * A push with the mesh config istiod would read from {@code objects} (ConfigMap istio-system/istio);
     * one that does not parse — the API server refuses those, so only an old snapshot could hold one —
     * leaves the last good mesh config in force, and the warnings say so.
     */
    public Outcome push(Collection<KubeObject> objects, Collection<Target> proxies) {
        List<ObjectNode> nodes = new ArrayList<>();
        objects.forEach(o -> nodes.add(o.node()));
        TranslationWarning refused = null;
        try {
            lastMeshConfig = MeshConfig.from(nodes);
        } catch (IllegalArgumentException e) {
            refused = new TranslationWarning("ConfigMap istio-system/istio", e.getMessage() + "; the last good mesh config serves");
            System.getLogger(MeshPusher.class.getName()).log(System.Logger.Level.WARNING, refused.toString());
        }
        Outcome out = push(objects, proxies, lastMeshConfig);
        if (refused == null) {
            return out;
        }
        List<TranslationWarning> warnings = new ArrayList<>(out.warnings());
        warnings.add(refused);
        return new Outcome(out.patchFailures(), warnings, out.resources(), out.policyProxies(),
                out.envoyFilterProxies(), out.gatewayProxies());
    }

    public Outcome push(Collection<KubeObject> objects, Collection<Target> proxies, MeshConfig meshConfig) {
        List<ObjectNode> nodes = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (KubeObject o : objects) {
            if (valid(o, seen)) {
                nodes.add(o.node());
            }
        }
        validity.keySet().retainAll(seen);
        MeshModel model = MeshModel.of(nodes, meshConfig);
        Map<String, List<PatchFailure>> failures = new TreeMap<>();
        Map<String, TranslationWarning> warnings = new LinkedHashMap<>();
        Map<String, ProxyResources> resources = new LinkedHashMap<>();
        Map<String, List<String>> policyProxies = new TreeMap<>();
        Map<String, List<String>> envoyFilterProxies = new TreeMap<>();
        Map<String, List<String>> gatewayProxies = new TreeMap<>();
        for (Target t : proxies) {
            names.put(t.nodeId(), t.identity().podName() + "." + t.identity().namespace());
            for (String policy : PolicyTargets.inForce(model, t.identity())) {
                policyProxies.computeIfAbsent(policy, k -> new ArrayList<>()).add(t.nodeId());
            }
            ProxyResources translated = translator.translate(model, t.identity());
            translated.warnings().forEach(w -> warnings.putIfAbsent(w.toString(), w));
            PatchResult patched = EnvoyFilterPatcher.apply(model, t.identity(), translated);
            patched.applied().forEach(ef -> envoyFilterProxies.computeIfAbsent(ef, k -> new ArrayList<>()).add(t.nodeId()));
            if (t.identity().type() == ProxyType.ROUTER) {
                for (var gw : model.gateways()) { // Istio's default scope: a selector matches in every namespace
                    Map<String, String> sel = labels(gw.spec().path("selector"));
                    if (!sel.isEmpty() && t.identity().labels().entrySet().containsAll(sel.entrySet())) {
                        gatewayProxies.computeIfAbsent(gw.key(), k -> new ArrayList<>()).add(t.nodeId());
                    }
                }
            }
            for (PatchFailure f : patched.failures()) {
                List<PatchFailure> list = failures.computeIfAbsent(f.envoyFilter(), k -> new ArrayList<>());
                if (!list.contains(f)) {
                    list.add(f);
                }
            }
            // Routes travel inline in LDS: a listener that names a new RDS route waits for an RDS
            // response java-control-plane's cache does not send when only the names changed.
            ProxyResources r = patched.resources().withInlineRoutes();
            resources.put(t.nodeId(), r);
            if (!r.version().equals(published.get(t.nodeId()))) {
                xds.publish(t.nodeId(), r.version(), r.listeners(), r.clusters(), r.routes(), List.of());
                published.put(t.nodeId(), r.version());
            }
        }
        published.keySet().retainAll(resources.keySet());
        names.keySet().retainAll(resources.keySet());
        return new Outcome(failures, List.copyOf(warnings.values()), resources, policyProxies, envoyFilterProxies, gatewayProxies);
    }

    /**
     * False for an Istio object the validation refuses now (stored before a rule tightened), which the push leaves
     * out as istiod leaves such config out of what it serves; its status says so ({@code SupportStatus}), and the
     * log once per version. An AuthorizationPolicy stays in force ({@link InvalidObjects#leftOut}).
     */
    private boolean valid(KubeObject o, Set<String> seen) {
        ResourceKind kind = o.resourceKind().orElse(null);
        if (kind == null || !InvalidObjects.istio(kind) || !InvalidObjects.leftOut(kind)) {
            return true;
        }
        if (o.generation() == 0) {
            return InvalidObjects.errors(o).isEmpty(); // not from a store: no generation to remember it by
        }
        String version = o.kind() + "/" + o.namespace() + "/" + o.name() + "@" + o.uid() + "@" + o.generation();
        seen.add(version);
        Boolean known = validity.get(version);
        if (known != null) {
            return known;
        }
        Optional<String> invalid = InvalidObjects.summary(o);
        invalid.ifPresent(line -> System.getLogger(MeshPusher.class.getName()).log(System.Logger.Level.WARNING, line));
        validity.put(version, invalid.isEmpty());
        return invalid.isEmpty();
    }

    /** The proxy's display name, as istioctl shows it: {@code pod.namespace}. */
    public String name(String nodeId) {
        return names.getOrDefault(nodeId, nodeId);
    }

    /** The proxies configured by the last push, by node id. */
    public List<String> proxies() {
        return published.keySet().stream().sorted(Comparator.comparing(this::name)).toList();
    }

    /** The version last published to the proxy, if any. */
    public Optional<String> publishedVersion(String nodeId) {
        return Optional.ofNullable(published.get(nodeId));
    }

    /** What the proxy said about its latest push: ACKed by listeners and clusters, NACKed by either, or pending. */
    public ProxyAnswer answer(String nodeId) {
        String version = published.get(nodeId);
        String name = name(nodeId);
        if (version == null) {
            return ProxyAnswer.pending(name);
        }
        boolean acked = true;
        for (String type : List.of(TypeUrls.CLUSTER, TypeUrls.LISTENER)) {
            var status = xds.status(nodeId, type);
            if (status.isPresent() && status.get() instanceof XdsStatus.Nack n
                    && n.rejectedVersion().equals(version)) {
                return new ProxyAnswer(name, ProxyAnswer.State.NACKED,
                        TypeUrls.shortName(type) + " " + version + ": " + n.message());
            }
            acked &= status.isPresent() && status.get() instanceof XdsStatus.Ack a
                    && a.version().equals(version);
        }
        return acked ? ProxyAnswer.acked(name) : ProxyAnswer.pending(name);
    }

    private static Map<String, String> labels(JsonNode node) {
        Map<String, String> m = new LinkedHashMap<>();
        node.properties().forEach(e -> m.put(e.getKey(), e.getValue().asText()));
        return m;
    }

    /** The control plane's xDS server, for proxy-status. */
    public XdsServer xds() {
        return xds;
    }
}
