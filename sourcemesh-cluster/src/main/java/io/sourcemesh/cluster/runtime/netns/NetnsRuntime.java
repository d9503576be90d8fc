package io.sourcemesh.cluster.runtime.netns;

import io.sourcemesh.cluster.exec.ExecResult;
import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.network.AddressPool;
import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.core.RunningPod;
import io.sourcemesh.cluster.core.Runtime;
import io.sourcemesh.cluster.daemon.Home;
import io.sourcemesh.cluster.exec.ExecProcess;
import io.sourcemesh.cluster.ingress.GatewayInstall;
import io.sourcemesh.cluster.kubeproxy.ServiceSpecs;
import io.sourcemesh.cluster.netns.KubeProxyRules;
import io.sourcemesh.cluster.netns.Topology;
import io.sourcemesh.cluster.netns.TopologySpec;
import io.sourcemesh.cluster.store.ObjectStore;
import io.sourcemesh.control.model.Locality;
import io.sourcemesh.control.xds.XdsServer;
import io.sourcemesh.proxy.xds.TypeUrls;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.logging.Logger;

/**
 * The cluster on real network namespaces (root): kubelets that make each pod a namespace
 * ({@link Topology#addPod}) holding istio-init's iptables rules, its apps as real processes and our
 * proxy as uid 1337; kube-proxy's ClusterIP and NodePort rules live in each node namespace. The
 * control plane's {@link XdsServer} listens on a unix socket; each sidecar starts once from a
 * bootstrap whose ADS cluster is a pipe to it, and every config change is a push on that stream (a
 * pod is ready once its sidecar ACKed its first config). Everything it made goes on close, also on
 * failure.
 */
public final class NetnsRuntime implements Runtime {
    private static final Logger LOG = Logger.getLogger(NetnsRuntime.class.getName());

    private final Home home;
    private final ObjectStore store;
    private final Host host;
    private final Topology topology;
    private final List<Node> nodes;
    /** Service VIPs; nodes are 10.0.0.x and pods 172.17.x.y, so none collide. */
    private final AddressPool services = AddressPool.of("10.96.0.", 10);
    private final Path runtimeDir;
    private final XdsServer xds;
    private final NetnsNorthSouth northSouth;
    private final Map<String, String> kubeProxyApplied = new HashMap<>();

    private NetnsRuntime(Host host, Topology topology) {
        this.host = host;
        this.home = host.home();
        this.store = host.store();
        this.topology = topology;
        this.nodes = topology.nodes().stream().map(n -> new Node(n.name(), n.ip(), n.podCidr())).toList();
        this.runtimeDir = RuntimeDir.create(home);
        NetnsNorthSouth ns = null;
        try {
            ns = new NetnsNorthSouth(store, topology);
            // A filesystem socket: the sidecars reach it from inside their pods' network namespaces.
            this.xds = XdsServer.startUnix(runtimeDir.resolve("xds.sock"));
        } catch (RuntimeException e) {
            if (ns != null) {
                ns.close();
            }
            RuntimeDir.remove(home, runtimeDir);
            throw e;
        }
        this.northSouth = ns;
    }

    /**
     * A runtime of {@code nodes} nodes whose namespace names start with {@code prefix}; making it
     * removes the leftovers of a crashed run with the same prefix first.
     */
    public static Runtime.Factory factory(String prefix, int nodes) {
        if (nodes < 1 || nodes > 200) {
            throw new IllegalArgumentException("nodes must be 1..200");
        }
        return host -> {
            Topology.sweep(prefix);
            removePodFiles(host.home());
            TopologySpec spec = TopologySpec.prefix(prefix);
            for (int i = 1; i <= nodes; i++) {
                spec.node("sourcemesh-node-" + i);
            }
            Topology topology = Topology.create(spec);
            try {
                return new NetnsRuntime(host, topology);
            } catch (RuntimeException e) {
                topology.close();
                throw e;
            }
        };
    }

    /** Starts a netns cluster kept in {@code home}, bringing back what its state directory holds. */
    public static Cluster cluster(Home home, String prefix, int nodes) {
        return Cluster.start(home, factory(prefix, nodes));
    }

    /** As {@link #cluster(Home, String, int)} with the home's own prefix ({@link #prefixFor}). */
    public static Cluster cluster(Home home, int nodes) {
        return cluster(home, prefixFor(home), nodes);
    }

    /** No pod runs before the kubelets start them: the /etc files of a run that crashed go. */
    private static void removePodFiles(Home home) {
        Path etc = home.path().resolve("etc");
        if (!Files.isDirectory(etc, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (var paths = Files.walk(etc)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            LOG.warning("cannot remove the pod files of an earlier run in " + etc + ": " + e.getMessage());
        }
    }

    /**
     * The namespace prefix of the cluster kept in {@code home}: one per home, so a sweep of a crashed
     * run's leftovers never touches another home's cluster.
     */
    public static String prefixFor(Home home) {
        return String.format("sm-%04x-", home.path().toAbsolutePath().normalize().toString().hashCode() & 0xffff);
    }

    /** The namespaces and addresses of this cluster's nodes, lb and client, for tests. */
    public Topology topology() {
        return topology;
    }

    /** The namespaces this cluster made, for tests and `status`. */
    public List<String> namespaces() {
        return topology.namespaces();
    }

    /** The node addresses the load balancer of a Service sends to now, for tests and the CLI. */
    public Set<String> healthyNodes(String namespace, String name) {
        return northSouth.healthyNodes(namespace, name);
    }

    /** The namespace standing in for an internet client (198.18.0.5), routed to the load balancers. */
    public String externalClientNamespace() {
        return topology.external();
    }

    /** The PID of a running pod's sidecar process (tests: a config change does not restart it). */
    public static OptionalLong sidecarPid(Cluster cluster, String namespace, String pod) {
        return cluster.pod(namespace, pod).map(p -> ((NetnsPod) p).sidecarPid()).orElse(OptionalLong.empty());
    }

    /** A topology pod name ([a-z0-9-], at most 41): the pod's name, its namespace in front unless default. */
    static String netnsName(KubeObject p) {
        String base = (p.namespace().equals("default") ? "" : p.namespace() + "-") + p.name();
        base = base.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9-]", "-");
        if (base.length() > 41) {
            base = base.substring(0, 32) + "-" + String.format("%08x", p.uid().hashCode());
        }
        return base;
    }

    @Override
    public String name() {
        return "netns";
    }

    @Override
    public List<Node> nodes() {
        return nodes;
    }

    @Override
    public AddressPool serviceAddresses() {
        return services;
    }

    @Override
    public XdsServer controlPlane() {
        return xds;
    }

    @Override
    public RunningPod startPod(KubeObject pod, String node) {
        return NetnsPod.start(pod, topology, netnsName(pod), node, home.logsDir(), home.path().resolve("etc"), podServices(),
                host::wake, home.path().resolve("exec"));
    }

    @Override
    public String startFailureReason() {
        return "CreateContainerError";
    }

    @Override
    public void stopPod(RunningPod pod) {
        ((NetnsPod) pod).close(topology);
    }

    /** Every service with a ClusterIP: what a pod's /etc/hosts names ({@link PodEtc}). */
    private List<PodEtc.Service> podServices() {
        List<PodEtc.Service> out = new ArrayList<>();
        for (KubeObject svc : store.list(ResourceKind.SERVICE, null)) {
            String ip = svc.spec().path("clusterIP").asText("");
            if (!ip.isEmpty() && !ip.equals("None")) {
                out.add(new PodEtc.Service(svc.namespace(), svc.name(), ip));
            }
        }
        return out;
    }

    /** The pods' hosts files (a service came, went or changed its address), then kube-proxy's rules. */
    @Override
    public void syncServices(List<KubeObject> services, Collection<RunningPod> pods) {
        List<PodEtc.Service> names = podServices();
        for (RunningPod p : pods) {
            try {
                ((NetnsPod) p).etc().write(names);
            } catch (RuntimeException e) {
                LOG.warning("hosts file of " + p.pod().name() + ": " + e.getMessage());
            }
        }
        syncKubeProxy(services, pods);
    }

    /** kube-proxy: ClusterIP and NodePort rules in every node namespace. */
    private void syncKubeProxy(List<KubeObject> services, Collection<RunningPod> pods) {
        for (Topology.Node node : topology.nodes()) {
            List<KubeProxyRules.ServicePort> ports = new ArrayList<>();
            for (KubeObject svc : services) {
                String ip = svc.spec().path("clusterIP").asText("");
                if (ip.isEmpty() || ip.equals("None")) {
                    continue;
                }
                for (JsonNode port : svc.spec().path("ports")) {
                    if (!ServiceSpecs.tcp(port)) {
                        continue;
                    }
                    List<KubeProxyRules.Endpoint> endpoints = new ArrayList<>();
                    for (RunningPod p : pods) {
                        if (ServiceSpecs.endpoint(svc, p.pod(), p.ready())) {
                            endpoints.add(new KubeProxyRules.Endpoint(p.ip(), ServiceSpecs.targetPort(port, p.pod()),
                                    p.node().equals(node.name())));
                        }
                    }
                    KubeProxyRules.ServicePort sp = KubeProxyRules.ServicePort.clusterIp(svc.namespace(), svc.name(),
                            port.path("name").asText(""), ip, port.path("port").asInt(), endpoints);
                    if (ServiceSpecs.exposedOnNodes(svc) && port.path("nodePort").asInt(0) > 0) {
                        sp = sp.withNodePort(port.path("nodePort").asInt(),
                                ServiceSpecs.local(svc) ? KubeProxyRules.Policy.LOCAL : KubeProxyRules.Policy.CLUSTER);
                    }
                    ports.add(sp.withAffinity(ServiceSpecs.clientIpAffinity(svc).map(java.time.Duration::toSeconds).orElse(0L))
                            .withInternalPolicy(ServiceSpecs.internalLocal(svc) ? KubeProxyRules.Policy.LOCAL
                                    : KubeProxyRules.Policy.CLUSTER));
                }
            }
            KubeProxyRules rules = KubeProxyRules.of(ports);
            String batch = rules.restoreBatch();
            if (!batch.equals(kubeProxyApplied.get(node.name()))) {
                rules.applyIn(node.netns());
                kubeProxyApplied.put(node.name(), batch);
            }
        }
    }

    /** Each sidecar starts once its config is published, from a bootstrap whose ADS cluster is a pipe to the control plane. */
    @Override
    public boolean startSidecars(Map<RunningPod, String> nodeIds) {
        boolean changed = false;
        for (Map.Entry<RunningPod, String> e : nodeIds.entrySet()) {
            NetnsPod p = (NetnsPod) e.getKey();
            String nodeId = e.getValue();
            if (p.sidecarRunning()) {
                continue;
            }
            // A new sidecar may carry the id of one that stopped (same pod name and address): only its own ACK counts.
            xds.forgetStatus(nodeId);
            try {
                changed |= p.startSidecar(nodeId, locality(p.pod()), runtimeDir, xds.socketPath().orElseThrow(),
                        () -> configured(nodeId));
            } catch (RuntimeException ex) {
                LOG.warning("sidecar of " + p.pod().name() + ": " + ex.getMessage());
            }
        }
        return changed;
    }

    /**
     * A pod's locality as the embedded runtime's kubelet takes it (PodRuntime): its Node's topology labels, unless its own
     * istio-locality label overrides them; unknown while the Node has none.
     */
    private Locality locality(KubeObject pod) {
        String node = pod.node().path("spec").path("nodeName").asText("");
        Map<String, String> labels = node.isEmpty() ? Map.of()
                : store.get(ResourceKind.NODE, null, node).map(KubeObject::labels).orElse(Map.of());
        return io.sourcemesh.control.model.Pod.of(pod.node()).onNode(labels).locality();
    }

    /** The sidecar ACKed clusters and listeners at least once. */
    private boolean configured(String nodeId) {
        return xds.lastAck(nodeId, TypeUrls.CLUSTER).isPresent() && xds.lastAck(nodeId, TypeUrls.LISTENER).isPresent();
    }

    @Override
    public void syncNorthSouth(List<KubeObject> services, List<RunningPod> ready) {
        northSouth.sync(services, ready.stream().map(NetnsPod.class::cast).toList());
    }

    @Override
    public ExecResult exec(RunningPod pod, List<String> command, byte[] stdin) {
        NetnsPod p = (NetnsPod) pod;
        // The pod's hosts file as of now (the reconcile loop may not have seen a new service yet).
        try {
            p.etc().write(podServices());
        } catch (UncheckedIOException e) {
            return new ExecResult(1, "", "error: " + e.getMessage() + "\n");
        }
        return NetnsExec.run(p.netns().netns(), p.pod().name(), p.etc(), home.path().resolve("exec"), command, stdin);
    }

    @Override
    public ExecProcess start(RunningPod pod, List<String> command,
            ExecProcess.Mode mode) {
        NetnsPod p = (NetnsPod) pod;
        try {
            p.etc().write(podServices());
        } catch (UncheckedIOException e) {
            return ExecProcess.completed(1, "", "error: " + e.getMessage() + "\n", mode.tty());
        }
        return NetnsExec.start(p.netns().netns(), p.pod().name(), p.etc(), home.path().resolve("exec"), command, mode);
    }

    @Override
    public Optional<String> gatewayAddress() {
        return northSouth.address(GatewayInstall.NAMESPACE, GatewayInstall.NAME);
    }

    /** Removes the load balancers, every namespace and the runtime's files, whatever fails on the way. */
    @Override
    public void close() {
        try {
            northSouth.close();
        } catch (RuntimeException e) {
            LOG.warning("stopping the load balancers: " + e.getMessage());
        }
        try {
            topology.close();
        } finally {
            xds.close();
            RuntimeDir.remove(home, runtimeDir);
            // Each pod removed its own files; their parent goes too.
            try {
                Files.deleteIfExists(home.path().resolve("etc"));
            } catch (IOException e) {
                LOG.fine("cannot remove " + home.path().resolve("etc") + ": " + e.getMessage());
            }
        }
    }
}
