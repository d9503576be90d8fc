package io.sourcemesh.cluster.core;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.mesh.ProxyConfigs;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.daemon.ClusterApi;
import io.sourcemesh.cluster.ingress.GatewayInstall;
import io.sourcemesh.cluster.ingress.GatewayStatus;
import io.sourcemesh.cluster.mesh.AuthorizationPolicyStatus;
import io.sourcemesh.cluster.mesh.EnvoyFilterReports;
import io.sourcemesh.cluster.mesh.MeshPusher;
import io.sourcemesh.cluster.store.ObjectStore;
import io.sourcemesh.control.model.Pod;
import io.sourcemesh.control.model.ProxyIdentity;
import io.sourcemesh.control.translate.Translator;
import io.sourcemesh.control.xds.XdsServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The control plane's half of a cluster: translate the mesh objects, push them to every proxy
 * over ADS, and show what became of the push on the EnvoyFilters, Gateways and
 * AuthorizationPolicies (rewritten as the proxies' answers come in).
 */
final class MeshPush {
    private final ObjectStore store;
    private final MeshPusher pusher;
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

    /** Translates the store's mesh objects and publishes them to {@code proxies} (published before a new sidecar starts, so its first request finds its config). */
    MeshPusher.Outcome push(Map<RunningPod, String> proxies) {
        List<KubeObject> objects = new ArrayList<>();
        for (ResourceKind kind : MeshPusher.MESH_KINDS) {
            objects.addAll(store.list(kind, null));
        }
        // meshConfig, as istiod reads it: meshConfig.defaultConfig.gatewayTopology reaches the gateways.
        store.get(ResourceKind.CONFIG_MAP, ProxyConfigs.MESH_NAMESPACE, ProxyConfigs.MESH_CONFIGMAP).ifPresent(objects::add);
        List<MeshPusher.Target> targets = new ArrayList<>();
        proxies.forEach((p, nodeId) -> targets.add(new MeshPusher.Target(nodeId, identity(p))));
        MeshPusher.Outcome outcome = pusher.push(objects, targets);
        AuthorizationPolicyStatus.write(store, outcome.authorizationTargets());
        return outcome;
    }

    /** Records a push and writes its status; false when a write lost a race (reconcile again). */
    boolean report(MeshPusher.Outcome outcome) {
        this.lastOutcome = outcome;
        return writeStatus();
    }

    /** Writes the last push's EnvoyFilter and Gateway status with the answers known now; false when a write lost a race. */
    boolean writeStatus() {
        MeshPusher.Outcome o = lastOutcome;
        if (o == null) {
            return true;
        }
        GatewayStatus.write(store, o, pusher);
        return EnvoyFilterReports.writeStatus(store, EnvoyFilterReports.Push.of(o, pusher));
    }

    /** The EnvoyFilters among {@code applied} the proxies refused in the last push. */
    List<String> applyWarnings(List<KubeObject> applied) {
        MeshPusher.Outcome o = lastOutcome;
        return o == null ? List.of() : EnvoyFilterReports.applyWarnings(applied, EnvoyFilterReports.Push.of(o, pusher));
    }

    /** istioctl proxy-status: every proxy of the last push and where it stands per xDS type. */
    List<ClusterApi.ProxyStatus> proxyStatus() {
        return lastOutcome == null ? List.of() : ProxyStatusTable.of(pusher);
    }

    /** Waits until every proxy answered the last push, at most {@code timeout}. */
    void awaitAnswered(Duration timeout) throws InterruptedException {
        pusher.awaitAnswered(timeout);
    }
}
