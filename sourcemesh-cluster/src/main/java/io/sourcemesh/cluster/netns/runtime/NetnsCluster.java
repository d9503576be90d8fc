package io.sourcemesh.cluster.netns.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.mesh.ProxyConfigs;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.controller.Admission;
import io.sourcemesh.cluster.controller.Workloads;
import io.sourcemesh.cluster.daemon.ClusterApi;
import io.sourcemesh.cluster.daemon.StoreBackedCluster;
import io.sourcemesh.cluster.daemon.ClusterApiException;
import io.sourcemesh.cluster.daemon.Home;
import io.sourcemesh.cluster.ingress.GatewayInstall;
import io.sourcemesh.cluster.kubelet.ContainerLog;
import io.sourcemesh.cluster.kubeproxy.NodePortAllocator;
import io.sourcemesh.cluster.kubeproxy.ServiceSpecs;
import io.sourcemesh.cluster.netns.KubeProxyRules;
import io.sourcemesh.cluster.netns.Topology;
import io.sourcemesh.cluster.netns.TopologySpec;
import io.sourcemesh.cluster.store.ObjectStore;
import io.sourcemesh.cluster.store.StoreException;
import io.sourcemesh.cluster.store.Watch;
import io.sourcemesh.cluster.mesh.MeshPusher;
import io.sourcemesh.control.model.Pod;
import io.sourcemesh.control.model.ProxyIdentity;
import io.sourcemesh.control.translate.Translator;
import io.sourcemesh.control.xds.XdsServer;
import io.sourcemesh.proxy.xds.TypeUrls;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The cluster on real network namespaces (root): the embedded runtime's API server, controllers and
 * translation, with kubelets that make each pod a namespace ({@link Topology#addPod}) holding
 * istio-init's iptables rules, its apps as real processes and our proxy as uid 1337; kube-proxy's
 * ClusterIP rules live in each node namespace. The control plane's {@link XdsServer} listens on a
 * unix socket; each sidecar starts once from a bootstrap whose ADS cluster is a pipe to it, and every
 * config change is a push on that stream (a pod is ready once its sidecar ACKed its first config).
 * Everything it made goes on close, also on failure.
 */
public final class NetnsCluster extends StoreBackedCluster implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(NetnsCluster.class.getName());
    static final String DOMAIN = "cluster.local";
    /** Service VIPs; nodes are 10.0.0.x and pods 172.17.x.y, so none collide. */
    private static final String VIP_PREFIX = "10.96.0.";

    private final Home home;
    private final List<String> nodeNames;
    private final Topology topology;
    private final Workloads workloads;
    private final Translator translator = Translator.withGatewayTargetPorts(GatewayInstall.TARGET_PORTS);
    private final XdsServer xds;
    private final MeshPusher pusher;
    private final Map<String, NetnsPod> pods = new ConcurrentHashMap<>();
    private final Map<String, String> podFailures = new ConcurrentHashMap<>();
    private final Map<String, String> kubeProxyApplied = new HashMap<>();
    private final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "sourcemesh-netns-reconcile");
        t.setDaemon(true);
        return t;
    });
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final Watch watch;
    private final NetnsNorthSouth northSouth;
    private final Path runtimeDir;
    private volatile int apiPort;
    private volatile boolean closed;

    private NetnsCluster(Home home, Topology topology) {
        super(new ObjectStore(home.stateDir()));
        this.home = home;
        this.topology = topology;
        this.nodeNames = topology.nodes().stream().map(Topology.Node::name).toList();
        this.workloads = new Workloads(store, new Admission(store, () -> nodeNames));
        this.runtimeDir = RuntimeDir.create(home);
        this.northSouth = new NetnsNorthSouth(store, topology);
        // A filesystem socket: the sidecars reach it from inside their pods' network namespaces.
        this.xds = XdsServer.startUnix(runtimeDir.resolve("xds.sock"));
        this.pusher = new MeshPusher(xds, translator);
        // An ACK can make a pod ready: let the kubelets report it.
        xds.addStatusListener((node, type, status) -> requestReconcile());
        this.watch = store.watch(event -> requestReconcile());
    }

    /**
     * Builds the nodes (removing leftovers of a crashed run with the same {@code prefix} first) and
     * brings back what the state directory holds. {@code prefix} starts every namespace name.
     */
    public static NetnsCluster start(Home home, String prefix, int nodes) {
        if (nodes < 1 || nodes > 200) {
            throw new IllegalArgumentException("nodes must be 1..200");
        }
        Topology.sweep(prefix);
        removePodFiles(home);
        TopologySpec spec = TopologySpec.prefix(prefix);
        for (int i = 1; i <= nodes; i++) {
            spec.node("sourcemesh-node-" + i);
        }
        Topology topology = Topology.create(spec);
        NetnsCluster c;
        try {
            c = new NetnsCluster(home, topology);
        } catch (RuntimeException e) {
            topology.close();
            throw e;
        }
        try {
            c.loop.submit(() -> {
                c.registerNodes();
                c.resetPodStatus();
                GatewayInstall.ensure(c.store);
            }).get();
            c.requestReconcile();
            return c;
        } catch (InterruptedException | ExecutionException | RuntimeException e) {
            c.close();
            throw new IllegalStateException("netns cluster did not start: " + e.getMessage(), e);
        }
    }

    /** No pod runs before the kubelets start them: the /etc files of a run that crashed go. */
    private static void removePodFiles(Home home) {
        Path etc = home.path().resolve("etc");
        if (!java.nio.file.Files.isDirectory(etc, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (var paths = java.nio.file.Files.walk(etc)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                java.nio.file.Files.deleteIfExists(p);
            }
        } catch (java.io.IOException e) {
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

    public void servingOn(int port) {
        this.apiPort = port;
    }


    /** The namespaces and addresses of this cluster's nodes, lb and client, for tests. */
    Topology topology() {
        return topology;
    }

    /** The namespaces this cluster made, for tests and `status`. */
    public List<String> namespaces() {
        return topology.namespaces();
    }

    // ---- reconciliation ------------------------------------------------------------------------

    @Override
    protected void requestReconcile() {
        if (!closed && scheduled.compareAndSet(false, true)) {
            loop.schedule(() -> {
                scheduled.set(false);
                reconcileSafely();
            }, 20, TimeUnit.MILLISECONDS);
        }
    }

    private boolean reconcileSafely() {
        if (closed) {
            return false;
        }
        try {
            return reconcile();
        } catch (Exception e) {
            LOG.log(Level.WARNING, "reconcile failed", e);
            loop.schedule(this::requestReconcile, 500, TimeUnit.MILLISECONDS);
            return true;
        }
    }

    /**
     * Reconciles until a pass changes nothing (pods and sidecars started, statuses written), at most a
     * minute, then waits until the sidecars answered the push.
     */
    @Override
    protected void reconcileNow() {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        try {
            for (int i = 0; i < 30 && System.nanoTime() < deadline; i++) {
                if (!loop.submit(this::reconcileSafely).get(60, TimeUnit.SECONDS)) {
                    break;
                }
            }
            pusher.awaitAnswered(Duration.ofSeconds(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            throw new IllegalStateException("reconcile failed: " + e.getMessage(), e);
        }
    }

    /** A kubelet's timer: a pass now (a container exited) or when a back-off ends. */
    private void wakeIn(Duration delay) {
        if (delay.isZero() || delay.isNegative()) {
            requestReconcile();
        } else if (!closed) {
            loop.schedule(this::requestReconcile, delay.toMillis() + 10, TimeUnit.MILLISECONDS);
        }
    }

    /** One level-triggered pass; true when it changed something, so another pass may have work. */
    private boolean reconcile() {
        boolean changed = assignClusterIps();
        List<KubeObject> services = NodePortAllocator.allocate(store);
        workloads.reconcile();
        changed |= runPods();
        changed |= updateStatuses();
        syncPodHosts();
        syncKubeProxy(services);
        changed |= configureSidecars();
        changed |= updateStatuses();
        List<NetnsPod> ready = pods.values().stream().filter(NetnsPod::ready).toList();
        northSouth.sync(services, ready);
        return changed;
    }

    private void registerNodes() {
        for (Topology.Node n : topology.nodes()) {
            registerNode(n.name(), n.ip(), n.podCidr(), "netns");
        }
    }

    private boolean assignClusterIps() {
        Set<String> used = new HashSet<>();
        List<KubeObject> services = store.list(ResourceKind.SERVICE, null);
        services.forEach(s -> used.add(s.spec().path("clusterIP").asText("")));
        boolean changed = false;
        int next = 10;
        for (KubeObject svc : services) {
            if (!svc.spec().path("clusterIP").asText("").isEmpty()) {
                continue;
            }
            while (used.contains(VIP_PREFIX + next)) {
                next++;
            }
            if (next > 254) {
                LOG.warning("no service addresses left for " + svc.name());
                return changed;
            }
            String ip = VIP_PREFIX + next;
            used.add(ip);
            ObjectNode spec = (ObjectNode) svc.spec().deepCopy();
            spec.put("clusterIP", ip);
            spec.putArray("clusterIPs").add(ip);
            spec.put("type", spec.path("type").asText("ClusterIP"));
            try {
                store.update(svc.withSpec(spec));
                changed = true;
            } catch (StoreException e) {
                requestReconcile();
            }
        }
        return changed;
    }

    /** The kubelets: a namespace per scheduled pod, removed when the pod is gone or replaced. */
    private boolean runPods() {
        Map<String, KubeObject> wanted = new LinkedHashMap<>();
        for (KubeObject p : store.list(ResourceKind.POD, null)) {
            wanted.put(key(p.namespace(), p.name()), p);
        }
        boolean changed = false;
        List<PodEtc.Service> services = services();
        for (String k : List.copyOf(pods.keySet())) {
            KubeObject p = wanted.get(k);
            if (p == null || !p.uid().equals(pods.get(k).pod().uid())) {
                pods.remove(k).close(topology);
                changed = true;
            }
        }
        podFailures.keySet().retainAll(wanted.keySet());
        for (Map.Entry<String, KubeObject> e : wanted.entrySet()) {
            KubeObject p = e.getValue();
            String node = p.spec().path("nodeName").asText("");
            NetnsPod running = pods.get(e.getKey());
            if (running != null) {
                changed |= running.restartExited();
                continue;
            }
            if (!nodeNames.contains(node) || podFailures.containsKey(e.getKey())) {
                continue;
            }
            try {
                pods.put(e.getKey(), NetnsPod.start(p, topology, netnsName(p), node, home.logsDir(), home.path().resolve("etc"), services,
                        this::wakeIn));
            } catch (RuntimeException ex) {
                podFailures.put(e.getKey(), ex.getMessage());
                writeStatus(p, failedStatus(p, "CreateContainerError", ex.getMessage()));
            }
            changed = true;
        }
        return changed;
    }

    private boolean updateStatuses() {
        boolean changed = false;
        for (NetnsPod running : pods.values()) {
            Optional<KubeObject> current = store.get(ResourceKind.POD, running.pod().namespace(), running.pod().name());
            if (current.isPresent() && current.get().uid().equals(running.pod().uid())) {
                changed |= writeStatus(current.get(), running.status(topology.node(running.node()).ip()));
            }
        }
        return changed;
    }

    private boolean writeStatus(KubeObject p, ObjectNode status) {
        ObjectNode merged = status.deepCopy();
        for (String stable : List.of("startTime")) {
            if (p.status().has(stable) && merged.has(stable)) {
                merged.set(stable, p.status().get(stable));
            }
        }
        // Transition times only move when the status does.
        JsonNode old = p.status().path("conditions");
        for (JsonNode c : merged.path("conditions")) {
            for (JsonNode o : old) {
                if (o.path("type").equals(c.path("type")) && o.path("status").equals(c.path("status")) && o.has("lastTransitionTime")) {
                    ((ObjectNode) c).set("lastTransitionTime", o.get("lastTransitionTime"));
                }
            }
        }
        if (merged.equals(p.status())) {
            return false;
        }
        try {
            store.updateStatus(p.withStatus(merged));
            return true;
        } catch (StoreException e) {
            requestReconcile();
            return false;
        }
    }

    /** A topology pod name ([a-z0-9-], at most 41): the pod's name, its namespace in front unless default. */
    static String netnsName(KubeObject p) {
        String base = (p.namespace().equals("default") ? "" : p.namespace() + "-") + p.name();
        base = base.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9-]", "-");
        if (base.length() > 41) {
            base = base.substring(0, 32) + "-" + String.format("%08x", p.uid().hashCode());
        }
        return base;
    }

    // ---- kube-proxy: ClusterIP and NodePort rules in every node namespace -----------------------

    private void syncKubeProxy(List<KubeObject> services) {
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
                    for (NetnsPod p : pods.values()) {
                        if (ServiceSpecs.selects(svc, p.pod()) && p.ready()) {
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
                    ports.add(sp);
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

    // ---- the control plane: translation → ADS push per sidecar ----------------------------------

    private boolean configureSidecars() {
        List<KubeObject> objects = new ArrayList<>();
        for (ResourceKind kind : MeshPusher.MESH_KINDS) {
            objects.addAll(store.list(kind, null));
        }
        // meshConfig, as istiod reads it: meshConfig.defaultConfig.gatewayTopology reaches the gateways.
        store.get(ResourceKind.CONFIG_MAP, ProxyConfigs.MESH_NAMESPACE, ProxyConfigs.MESH_CONFIGMAP).ifPresent(objects::add);
        Map<NetnsPod, String> sidecars = new LinkedHashMap<>();
        List<MeshPusher.Target> targets = new ArrayList<>();
        for (NetnsPod p : pods.values()) {
            if (!p.injected()) {
                continue;
            }
            ObjectNode node = p.pod().node();
            ((ObjectNode) node.with("status")).put("podIP", p.ip()).put("phase", "Running");
            ProxyIdentity id = p.gateway() ? ProxyIdentity.router(Pod.of(node)) : ProxyIdentity.sidecar(Pod.of(node));
            sidecars.put(p, id.nodeId(DOMAIN));
            targets.add(new MeshPusher.Target(id.nodeId(DOMAIN), id));
        }
        // Published before a new sidecar starts, so its first request finds its config.
        MeshPusher.Outcome outcome = pusher.push(objects, targets);
        io.sourcemesh.cluster.mesh.AuthorizationPolicyStatus.write(store, outcome.authorizationTargets());
        boolean changed = false;
        for (Map.Entry<NetnsPod, String> e : sidecars.entrySet()) {
            NetnsPod p = e.getKey();
            String nodeId = e.getValue();
            if (p.sidecarRunning()) {
                continue;
            }
            // A new sidecar may carry the id of one that stopped (same pod name and address): only its own ACK counts.
            xds.forgetStatus(nodeId);
            try {
                changed |= p.startSidecar(nodeId, runtimeDir, xds.socketPath().orElseThrow(), () -> configured(nodeId));
            } catch (RuntimeException ex) {
                LOG.warning("sidecar of " + p.pod().name() + ": " + ex.getMessage());
            }
        }
        reportPush(pusher, outcome);
        return changed;
    }

    /** The sidecar ACKed clusters and listeners at least once. */
    private boolean configured(String nodeId) {
        return xds.lastAck(nodeId, TypeUrls.CLUSTER).isPresent() && xds.lastAck(nodeId, TypeUrls.LISTENER).isPresent();
    }

    /** The PID of the pod's sidecar process, while it runs (tests: a config change does not restart it). */
    java.util.OptionalLong sidecarPid(String namespace, String pod) {
        NetnsPod p = pods.get(key(namespace, pod));
        return p == null ? java.util.OptionalLong.empty() : p.sidecarPid();
    }

    /** The control plane's xDS server (tests: what each sidecar ACKed or NACKed). */
    XdsServer xds() {
        return xds;
    }

    // ---- ClusterApi ----------------------------------------------------------------------------

    @Override
    public ExecResult exec(String namespace, String pod, String container, List<String> command, byte[] stdin) {
        NetnsPod p = runningPod(namespace, pod);
        if (container != null && !p.logs().containsKey(container)) {
            throw new ClusterApiException(400, "error: container " + container + " is not valid for pod " + pod);
        }
        // The pod's hosts file as of now (the reconcile loop may not have seen a new service yet).
        try {
            p.etc().write(services());
        } catch (java.io.UncheckedIOException e) {
            return new ExecResult(1, "", "error: " + e.getMessage() + "\n");
        }
        return NetnsExec.run(p.netns().netns(), pod, p.etc(), home.path().resolve("exec"), command, stdin);
    }

    @Override
    public io.sourcemesh.cluster.exec.ExecProcess start(String namespace, String pod, String container, List<String> command,
            io.sourcemesh.cluster.exec.ExecProcess.Mode mode) {
        NetnsPod p = runningPod(namespace, pod);
        if (container != null && !p.logs().containsKey(container)) {
            throw new ClusterApiException(400, "error: container " + container + " is not valid for pod " + pod);
        }
        try {
            p.etc().write(services());
        } catch (java.io.UncheckedIOException e) {
            return io.sourcemesh.cluster.exec.ExecProcess.completed(1, "", "error: " + e.getMessage() + "\n", mode.tty());
        }
        return NetnsExec.start(p.netns().netns(), pod, p.etc(), home.path().resolve("exec"), command, mode);
    }

    /** Every service with a ClusterIP: what a pod's /etc/hosts names ({@link PodEtc}). */
    private List<PodEtc.Service> services() {
        List<PodEtc.Service> out = new ArrayList<>();
        for (KubeObject svc : store.list(ResourceKind.SERVICE, null)) {
            String ip = svc.spec().path("clusterIP").asText("");
            if (!ip.isEmpty() && !ip.equals("None")) {
                out.add(new PodEtc.Service(svc.namespace(), svc.name(), ip));
            }
        }
        return out;
    }

    /** Rewrites the running pods' hosts files when a service came, went or changed its address. */
    private void syncPodHosts() {
        List<PodEtc.Service> services = services();
        for (NetnsPod p : pods.values()) {
            try {
                p.etc().write(services);
            } catch (RuntimeException e) {
                LOG.warning("hosts file of " + p.pod().name() + ": " + e.getMessage());
            }
        }
    }

    private NetnsPod runningPod(String namespace, String pod) {
        NetnsPod p = pods.get(key(namespace, pod));
        if (p == null) {
            if (store.get(ResourceKind.POD, namespace, pod).isEmpty()) {
                throw new ClusterApiException(404, "Error from server (NotFound): pods \"" + pod + "\" not found");
            }
            throw new ClusterApiException(400, "error: unable to upgrade connection: container not found (pod " + pod
                    + " is not running" + Optional.ofNullable(podFailures.get(key(namespace, pod))).map(m -> ": " + m).orElse("") + ")");
        }
        return p;
    }

    @Override
    public void logs(String namespace, String pod, String container, boolean follow, int tail, Consumer<String> lines) {
        NetnsPod p = runningPod(namespace, pod);
        String c = container == null ? p.logs().keySet().iterator().next() : container;
        Path log = p.logs().get(c);
        if (log == null) {
            throw new ClusterApiException(400, "error: container " + c + " is not valid for pod " + pod);
        }
        String uid = p.pod().uid();
        ContainerLog.read(log, tail, follow, () -> !closed && pods.containsKey(key(namespace, pod))
                && pods.get(key(namespace, pod)).pod().uid().equals(uid), lines);
    }

    @Override
    public String proxyConfig(String namespace, String pod) {
        NetnsPod p = runningPod(namespace, pod);
        if (!p.injected()) {
            throw new ClusterApiException(400, "error: pod " + pod + " has no istio-proxy container");
        }
        return p.configDump();
    }

    @Override
    public String proxyAdmin(String namespace, String pod, String pathAndQuery) {
        NetnsPod p = runningPod(namespace, pod);
        if (!p.injected()) {
            throw new ClusterApiException(400, "error: pod " + pod + " has no istio-proxy container");
        }
        return p.admin("POST", pathAndQuery);
    }

    @Override
    public ClusterInfo info() {
        return new ClusterInfo("netns", home.path().toString(), apiPort, ProcessHandle.current().pid(), nodeNames, pods.size(),
                northSouth.address(GatewayInstall.NAMESPACE, GatewayInstall.NAME).orElse(""));
    }

    /** The node addresses the load balancer of a Service sends to now, for tests and the CLI. */
    public Set<String> healthyNodes(String namespace, String name) {
        return northSouth.healthyNodes(namespace, name);
    }

    /** The namespace standing in for an internet client (198.18.0.5), routed to the load balancers. */
    public String externalClientNamespace() {
        return topology.external();
    }

    /** Waits until every pod is running and ready, every deployment rolled out and a pass changes nothing. */
    public boolean awaitSettled(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                boolean settled = loop.submit(() -> !reconcileSafely() && workloadsSettled()).get();
                if (settled) {
                    return true;
                }
            } catch (ExecutionException e) {
                throw new IllegalStateException(e.getCause());
            }
            Thread.sleep(50);
        }
        return false;
    }

    static String key(String namespace, String name) {
        return namespace + "/" + name;
    }

    /** Stops every process it started and removes every namespace it made, whatever fails on the way. */
    @Override
    public void close() {
        closed = true;
        try {
            watch.close();
            loop.submit(() -> {
                for (String k : List.copyOf(pods.keySet())) {
                    try {
                        pods.remove(k).close(topology);
                    } catch (RuntimeException e) {
                        LOG.fine("stopping " + k + ": " + e.getMessage());
                    }
                }
            }).get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warning("stopping pods: " + e.getMessage());
        } finally {
            loop.shutdownNow();
            try {
                northSouth.close();
            } catch (RuntimeException e) {
                LOG.warning("stopping the load balancers: " + e.getMessage());
            }
            try {
                topology.close();
            } finally {
                xds.close();
                store.close();
                RuntimeDir.remove(home, runtimeDir);
                // Each pod removed its own files; their parent goes too.
                try {
                    java.nio.file.Files.deleteIfExists(home.path().resolve("etc"));
                } catch (java.io.IOException e) {
                    LOG.fine("cannot remove " + home.path().resolve("etc") + ": " + e.getMessage());
                }
            }
        }
    }
}
