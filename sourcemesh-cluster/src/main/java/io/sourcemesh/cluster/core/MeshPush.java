package io.sourcemesh.cluster.core;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.mesh.ProxyConfigs;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.daemon.ClusterApi;
import io.sourcemesh.cluster.ingress.GatewayInstall;
import io.sourcemesh.cluster.ingress.GatewayStatus;
import io.sourcemesh.cluster.kubeapi.MeshInformers;
import io.sourcemesh.cluster.mesh.EnvoyFilterReports;
import io.sourcemesh.cluster.mesh.MeshPusher;
import io.sourcemesh.cluster.mesh.PushWarningStatus;
import io.sourcemesh.cluster.mesh.PushWarnings;
import io.sourcemesh.cluster.mesh.PolicyStatus;
import io.sourcemesh.cluster.mesh.StatusTarget;
import io.sourcemesh.cluster.store.ObjectStore;
import io.sourcemesh.control.model.Pod;
import io.sourcemesh.control.model.ProxyIdentity;
import io.sourcemesh.control.translate.Translator;
import io.sourcemesh.control.xds.XdsServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The control plane's half of a cluster: translate the mesh objects, push them to every proxy
 * over ADS, and show what became of the push on the EnvoyFilters, Gateways and security policies
 * (rewritten as the proxies' answers come in). Reading through informers, the
 * statuses go through the same Kubernetes API (its status subresource); otherwise into the store.
 */
final class MeshPush {
    /** The kinds the control plane reads: the mesh kinds and ConfigMaps (meshConfig). */
    static final List<ResourceKind> INFORMED = Stream.concat(MeshPusher.MESH_KINDS.stream(),
            Stream.of(ResourceKind.CONFIG_MAP)).toList();
    private static final Duration INFORMER_CATCH_UP = Duration.ofSeconds(20);

    private final ObjectStore store;
    private final MeshPusher pusher;
    /** When set, the mesh objects come from informers against the cluster's Kubernetes API. */
    private volatile MeshInformers informers;
    /** The last push: what it refused, which proxies each EnvoyFilter and Gateway went to. */
    private volatile MeshPusher.Outcome lastOutcome;

    MeshPush(ObjectStore store, XdsServer xds) {
        this.store = store;
        this.pusher = new MeshPusher(xds, Translator.withGatewayTargetPorts(GatewayInstall.TARGET_PORTS));
    }

    /** Each injected pod's proxy node id (a router's for a gateway), as istiod names it. */
    static Map<RunningPod, String> nodeIds(Collection<RunningPod> pods) {
        Map<RunningPod, String> out = new LinkedHashMap<>();
        for (RunningPod p : pods) {
            if (p.injected()) {
                out.put(p, identity(p).nodeId(Cluster.DOMAIN));
            }
        }
        return out;
    }

    private static ProxyIdentity identity(RunningPod p) {
        ObjectNode node = p.pod().node();
        ((ObjectNode) node.with("status")).put("podIP", p.ip()).put("phase", "Running");
        Pod model = Pod.of(node);
        return p.gateway() ? ProxyIdentity.router(model) : ProxyIdentity.sidecar(model);
    }

    /** From now on, reads the mesh objects through {@code informers} (the cluster's Kubernetes API) rather than from the store. */
    void readThrough(MeshInformers informers) {
        this.informers = informers;
    }

    MeshInformers informers() {
        return informers;
    }

    /** Translates the mesh objects and publishes them to {@code proxies} (published before a new sidecar starts, so its first request finds its config). */
    MeshPusher.Outcome push(Map<RunningPod, String> proxies) throws InterruptedException {
        MeshInformers in = informers;
        List<KubeObject> objects = in == null ? fromStore() : fromInformers(in);
        List<MeshPusher.Target> targets = new ArrayList<>();
        proxies.forEach((p, nodeId) -> targets.add(new MeshPusher.Target(nodeId, identity(p))));
        return pusher.push(objects, targets);
    }

    private List<KubeObject> fromStore() {
        List<KubeObject> objects = new ArrayList<>();
        for (ResourceKind kind : MeshPusher.MESH_KINDS) {
            objects.addAll(store.list(kind, null));
        }
        // meshConfig, as istiod reads it: meshConfig.defaultConfig.gatewayTopology reaches the gateways.
        store.get(ResourceKind.CONFIG_MAP, ProxyConfigs.MESH_NAMESPACE, ProxyConfigs.MESH_CONFIGMAP).ifPresent(objects::add);
        return objects;
    }

    /**
     * The same objects from the informers' caches, once they hold every write committed before this
     * push (so a write through the API still returns after the push that carries it). The store is
     * read only for that barrier: which versions the API server had served by now.
     */
    private List<KubeObject> fromInformers(MeshInformers in) throws InterruptedException {
        catchUp(in);
        List<KubeObject> objects = new ArrayList<>();
        for (ResourceKind kind : MeshPusher.MESH_KINDS) {
            objects.addAll(in.list(kind));
        }
        in.list(ResourceKind.CONFIG_MAP).stream().filter(o -> o.namespace().equals(ProxyConfigs.MESH_NAMESPACE)
                && o.name().equals(ProxyConfigs.MESH_CONFIGMAP)).forEach(objects::add);
        return objects;
    }

    /** Waits until the informers' caches hold every version the store has committed by now. */
    private void catchUp(MeshInformers in) throws InterruptedException {
        Map<ResourceKind, Map<String, Long>> expected = new LinkedHashMap<>();
        long asOf;
        synchronized (store) {
            asOf = store.resourceVersion();
            for (ResourceKind kind : INFORMED) {
                Map<String, Long> versions = new HashMap<>();
                store.list(kind, null).forEach(o -> versions.put(MeshInformers.key(o.namespace(), o.name()), Long.parseLong(o.resourceVersion())));
                expected.put(kind, versions);
            }
        }
        in.awaitAtLeast(expected, asOf, key -> {
            String[] p = key.split("/", 3);
            return store.get(ResourceKind.byKind(p[0]).orElseThrow(), p[1].isEmpty() ? null : p[1], p[2]).isPresent();
        }, INFORMER_CATCH_UP);
    }

    /** Records a push and writes its status; false when a write lost a race (reconcile again). */
    boolean report(MeshPusher.Outcome outcome) {
        this.lastOutcome = outcome;
        return writeStatus();
    }

    /**
     * Writes the last push's EnvoyFilter, Gateway and security policy status with the answers known now, and what it left out of
     * VirtualServices, DestinationRules and ServiceEntries on theirs ({@link PushWarningStatus}); false when a
     * write lost a race. Through informers, from caches caught up first, so a status this control
     * plane wrote a moment ago is not taken for one still to write.
     */
    boolean writeStatus() {
        MeshPusher.Outcome o = lastOutcome;
        if (o == null) {
            return true;
        }
        MeshInformers in = informers;
        StatusTarget target = in == null ? StatusTarget.of(store) : in;
        if (in != null) {
            try {
                catchUp(in);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        GatewayStatus.write(target, o, pusher);
        boolean policies = PolicyStatus.write(target, o.policyProxies(), pusher::answer);
        boolean pushWarnings = PushWarningStatus.write(target, o.warnings());
        return EnvoyFilterReports.writeStatus(target, EnvoyFilterReports.Push.of(o, pusher)) && policies && pushWarnings;
    }

    /**
     * The EnvoyFilters among {@code applied} the proxies refused in the last push, and what it left out of its
     * VirtualServices and DestinationRules.
     */
    List<String> applyWarnings(List<KubeObject> applied) {
        MeshPusher.Outcome o = lastOutcome;
        if (o == null) {
            return List.of();
        }
        List<String> out = new ArrayList<>(EnvoyFilterReports.applyWarnings(applied, EnvoyFilterReports.Push.of(o, pusher)));
        out.addAll(PushWarnings.applyWarnings(applied, o.warnings()));
        return out;
    }

    /** istioctl proxy-status: every proxy of the last push and where it stands per xDS type. */
    List<ClusterApi.ProxyStatus> proxyStatus() {
        return lastOutcome == null ? List.of() : ProxyStatusTable.of(pusher);
    }

    /** Waits until every proxy answered the last push, at most {@code timeout}. */
    void awaitAnswered(Duration timeout) throws InterruptedException {
        pusher.awaitAnswered(timeout);
    }

    /** True when every proxy answered the last push (ACK or NACK). */
    boolean answered() {
        return pusher.answered();
    }
}
