package io.sourcemesh.api.support;

import static io.sourcemesh.api.support.FieldSupport.refused;
import static io.sourcemesh.api.support.FieldSupport.supported;
import static io.sourcemesh.api.support.FieldSupport.warned;

import io.sourcemesh.api.resource.ResourceKind;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * THE support contract: for every kind the API serves, each field path SourceMesh implements
 * (SUPPORTED), accepts without implementing (WARNED: apply warns, the status names it) or refuses
 * because ignoring it would weaken security (REFUSED). A field under no row is warned as well, so
 * nothing is accepted and silently ignored. To implement a field, change its row here to
 * {@code supported} in the same commit as its translation; {@code SUPPORT.md} is generated from this
 * table ({@code SupportDocTest}).
 */
public final class SupportTable {
    private SupportTable() {}

    private static final String NO_POD_FILES = "the kubelet mounts no files into a pod; the control plane reads the "
            + "secret volumes the istio-proxy container mounts where a Gateway, Sidecar or DestinationRule names a "
            + "certificate file";

    /** Core kinds without a status subresource. */
    private static final Set<String> NO_STATUS = Set.of("Endpoints", "ServiceAccount", "Secret", "ConfigMap");

    private static final Map<String, KindSupport> KINDS = new LinkedHashMap<>();

    static {
        core("Namespace", warned("spec.finalizers", "namespace deletion removes the contents at once"));
        core("Node", supported("spec.podCIDR", "written by the kubelet"), supported("spec.podCIDRs", "written by the kubelet"),
                supported("spec.unschedulable", "kubectl cordon: the scheduler places no new pod there unless it tolerates the "
                        + "node.kubernetes.io/unschedulable:NoSchedule taint; the pods there keep running (kubectl drain evicts them)"),
                supported("spec.taints", "NoSchedule: the scheduler places no pod there that does not tolerate the taint; "
                        + "PreferNoSchedule: another node is preferred; NoExecute: as NoSchedule, and a pod there that does not "
                        + "tolerate it is evicted (deleted; its ReplicaSet makes another), after its tolerationSeconds if it does"),
                warned("spec.providerID", null));
        core("Pod", podSpec("spec").toArray(FieldSupport[]::new));
        core("Service",
                supported("spec.type", null).warning("ExternalName"),
                supported("spec.ports", null),
                supported("spec.ports[].protocol", "TCP only; the mesh's proxies leave UDP and SCTP ports out (no sidecar "
                        + "listener or cluster, as Istio)").warning("UDP", "SCTP"),
                supported("spec.selector", "its namespace's ready pods with these labels; in the mesh's view (the "
                        + "proxies' endpoints, proxy-config endpoints) also its namespace's WorkloadEntries with them, as "
                        + "Istio (not for a headless or ExternalName Service); Kubernetes' Endpoints keep only the pods"),
                supported("spec.clusterIP", null), supported("spec.clusterIPs", null),
                supported("spec.externalTrafficPolicy", null), supported("spec.healthCheckNodePort", null),
                supported("spec.internalTrafficPolicy", "Local: a client without a sidecar reaches the cluster IP's "
                        + "endpoints on its own node only, dropped without one (kube-proxy's KUBE-SVL chain); a proxy's "
                        + "endpoints of the Service are only the pods on its own node, no WorkloadEntries (Istio's NodeLocal)"),
                supported("spec.sessionAffinity", "ClientIP: kube-proxy (the node ports, the load balancer's path and, "
                        + "for clients without a sidecar, the cluster IP) sends a client's new connections to the endpoint "
                        + "its last one went to, per service port, within the timeout; a sidecar balances its own traffic, "
                        + "as Istio's (a DestinationRule's consistentHash useSourceIp is the mesh's affinity)"),
                supported("spec.sessionAffinityConfig", "clientIP.timeoutSeconds (1–86400, default 10800): the time since "
                        + "the client's last new connection"),
                warned("spec.externalName", null), warned("spec.externalIPs", null), warned("spec.loadBalancerIP", null),
                supported("spec.loadBalancerSourceRanges", "the cloud load balancer lets in only clients of these ranges "
                        + "(else of the service.beta.kubernetes.io/load-balancer-source-ranges annotation's): the netns "
                        + "runtime's lb drops any other's connection (iptables, as a cloud firewall: the client times out), "
                        + "the embedded one closes it at once; the nodePorts stay open to all, as in Kubernetes"),
                warned("spec.loadBalancerClass", null), warned("spec.allocateLoadBalancerNodePorts", null),
                warned("spec.ipFamilies", null), warned("spec.ipFamilyPolicy", null),
                supported("spec.publishNotReadyAddresses", "every selected pod with an address is an endpoint, ready or "
                        + "not: the proxies' (Istio's, sent healthy) and the cluster IP's (kube-proxy); the node ports "
                        + "and the load balancer's path still take ready pods only"),
                supported("spec.trafficDistribution", "PreferClose and PreferSameZone: a sidecar or gateway sends to "
                        + "endpoints in its own zone first, then its region, then the rest; PreferSameNode: its own node "
                        + "first, then subzone, zone, region; as Istio, without a DestinationRule's localityLbSetting, and "
                        + "failing over as endpoints leave (no outlier detection needed); kube-proxy's path (clients "
                        + "without a sidecar) keeps no preference"));
        core("Endpoints", warned("subsets", "endpoints come from the selected pods; a selectorless Service has none"));
        core("ServiceAccount", warned("secrets", null), warned("imagePullSecrets", null),
                warned("automountServiceAccountToken", "no token is mounted"));
        core("Secret", supported("type", null), supported("data", null), supported("stringData", null),
                warned("immutable", "updates are not refused"));
        core("ConfigMap", supported("data", null), supported("binaryData", null), warned("immutable", "updates are not refused"));
        List<FieldSupport> deployment = new ArrayList<>(List.of(supported("spec.replicas", null), supported("spec.selector", null),
                supported("spec.template.metadata", null), warned("spec.strategy", "a new ReplicaSet replaces the old one "
                        + "once its pods are ready, whatever the strategy"),
                warned("spec.minReadySeconds", null), warned("spec.revisionHistoryLimit", null),
                warned("spec.progressDeadlineSeconds", null), warned("spec.paused", null)));
        deployment.addAll(podSpec("spec.template.spec"));
        core("Deployment", deployment.toArray(FieldSupport[]::new));
        List<FieldSupport> replicaSet = new ArrayList<>(List.of(supported("spec.replicas", null), supported("spec.selector", null),
                supported("spec.template.metadata", null), warned("spec.minReadySeconds", null)));
        replicaSet.addAll(podSpec("spec.template.spec"));
        core("ReplicaSet", replicaSet.toArray(FieldSupport[]::new));
        IstioSupport.rows().forEach(KINDS::put);
    }

    /** The contract of a kind; every served kind has one. */
    public static KindSupport of(ResourceKind kind) {
        KindSupport s = KINDS.get(kind.kind());
        if (s == null) {
            throw new IllegalArgumentException("no support rows for " + kind.kind());
        }
        return s;
    }

    /** The rows every object has: the envelope SourceMesh keeps as the API server does. */
    static List<FieldSupport> envelope() {
        return List.of(supported("apiVersion", null), supported("kind", null), supported("metadata", null),
                supported("status", "written by SourceMesh"));
    }

    private static void core(String kind, FieldSupport... rows) {
        List<FieldSupport> all = new ArrayList<>(envelope());
        if (NO_STATUS.contains(kind)) {
            all.removeIf(r -> r.path().equals("status"));
        }
        all.addAll(List.of(rows));
        KINDS.put(kind, new KindSupport.Fields(all));
    }

    private static List<FieldSupport> podSpec(String at) {
        String c = at + ".containers[]";
        List<FieldSupport> rows = new ArrayList<>(containerRows(at, c));
        for (String probe : List.of("readinessProbe", "livenessProbe", "startupProbe")) {
            String p = c + "." + probe;
            rows.add(refused(p + ".grpc", "SourceMesh's kubelet has no gRPC prober; use httpGet, tcpSocket or exec"));
            rows.add(warned(p + ".httpGet.host", "the probe always dials the pod's own address"));
            rows.add(warned(p + ".tcpSocket.host", "the probe always dials the pod's own address"));
            rows.add(warned(p + ".terminationGracePeriodSeconds", "a container is stopped at once"));
        }
        return rows;
    }

    private static List<FieldSupport> containerRows(String at, String c) {
        return List.of(
                supported(c + ".name", null), supported(c + ".image", "a built-in program per image"),
                supported(c + ".command", null), supported(c + ".args", null), supported(c + ".ports", null),
                supported(c + ".imagePullPolicy", "built-in images are never pulled"),
                warned(c + ".env", null), warned(c + ".envFrom", null), warned(c + ".workingDir", null),
                warned(c + ".volumeMounts", NO_POD_FILES), warned(c + ".resources", null),
                supported(c + ".readinessProbe", "run by the kubelet (httpGet, tcpSocket, exec; the API's defaults and "
                        + "thresholds): the container, the pod's Ready and ContainersReady follow it, and a pod not ready leaves "
                        + "its Services' endpoints (kube-proxy's and the proxies'); without one a container is ready once it runs "
                        + "and, if injected, its sidecar has its first config. The probe reaches the app on the pod's address "
                        + "without the sidecar's inbound capture, as Istio's rewriteAppHTTPProbers (the default) does"),
                supported(c + ".livenessProbe", "run by the kubelet after the startup probe passed: failureThreshold "
                        + "failures in a row restart the container (exit 137, lastState.terminated, restartCount, per "
                        + "restartPolicy and back-off)"),
                supported(c + ".startupProbe", "the readiness and liveness probes wait until it passed once; "
                        + "failureThreshold failures in a row restart the container"),
                warned(c + ".lifecycle", null),
                warned(c + ".securityContext", "containers run as the cluster's own user"),
                supported(at + ".nodeName", "the scheduler leaves a pod that names its node there, cordoned or tainted (as "
                        + "Kubernetes' does); it schedules the pods of ReplicaSets, a bare pod without nodeName stays Pending"),
                supported(at + ".nodeSelector", "every label, as the node has it now: a pod no node matches stays Pending "
                        + "(PodScheduled False, Unschedulable) until one does (kubectl label node)"),
                supported(at + ".tolerations", "Kubernetes' matching: operator Equal (the default) or Exists, an empty key with "
                        + "Exists tolerates every taint, an empty effect every effect; tolerationSeconds delays a NoExecute eviction"),
                supported(at + ".affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution", "the node selector "
                        + "terms (any one): matchExpressions In, NotIn, Exists, DoesNotExist, Gt, Lt on the node's labels and "
                        + "matchFields metadata.name, all of a term's; checked when the pod is scheduled, not after"),
                warned(at + ".affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution", "the scheduler ranks "
                        + "the nodes a pod fits by their untolerated PreferNoSchedule taints, then by how many pods they run"),
                warned(at + ".affinity.podAffinity", "the scheduler does not place a pod by the pods already on a node"),
                warned(at + ".affinity.podAntiAffinity", "the scheduler does not place a pod by the pods already on a node"),
                warned(at + ".initContainers", "interception is the runtime's; other init containers do not run"),
                warned(at + ".volumes", NO_POD_FILES), warned(at + ".serviceAccountName", "no workload identity without mTLS"),
                warned(at + ".terminationGracePeriodSeconds", null), warned(at + ".securityContext", null),
                supported(at + ".restartPolicy", "an exited container is started again (Always, OnFailure) after the kubelet's back-off"),
                warned(at + ".hostNetwork", null));
    }

    /** Every kind's contract, in the order of {@link ResourceKind#all()}. */
    public static Map<ResourceKind, KindSupport> all() {
        Map<ResourceKind, KindSupport> out = new LinkedHashMap<>();
        ResourceKind.all().forEach(k -> out.put(k, of(k)));
        return out;
    }
}
