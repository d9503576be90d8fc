package io.sourcemesh.cluster;

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
import io.sourcemesh.cluster.exec.PodExec;
import io.sourcemesh.cluster.ingress.GatewayInstall;
import io.sourcemesh.cluster.ingress.NorthSouth;
import io.sourcemesh.cluster.kubeproxy.Endpoint;
import io.sourcemesh.cluster.kubeproxy.ServiceSpecs;
import io.sourcemesh.cluster.kubelet.ContainerLog;
import io.sourcemesh.cluster.kubelet.KubeletEnv;
import io.sourcemesh.cluster.kubelet.PodRuntime;
import io.sourcemesh.cluster.mesh.MeshPusher;
import io.sourcemesh.cluster.network.AddressPlan;
import io.sourcemesh.cluster.network.Conntrack;
import io.sourcemesh.cluster.network.EmbeddedInterception;
import io.sourcemesh.cluster.network.L4Forwarder;
import io.sourcemesh.cluster.store.ObjectStore;
import io.sourcemesh.cluster.store.StoreException;
import io.sourcemesh.cluster.store.Watch;
import io.sourcemesh.control.model.Pod;
import io.sourcemesh.control.model.ProxyIdentity;
import io.sourcemesh.control.translate.Translator;
import io.sourcemesh.control.xds.XdsServer;
import io.sourcemesh.proxy.transport.Transport;
import io.sourcemesh.proxy.upstream.Interception;
import io.sourcemesh.proxy.upstream.SourceBinding;
import io.sourcemesh.proxy.upstream.UpstreamConnector;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A Kubernetes-shaped cluster in one process, on loopback: the object store (the API server),
 * the workload controllers, a kubelet per node running pods with their built-in apps and
 * in-process sidecars, service VIPs with the runtime's interception, and the control plane that
 * translates the mesh and pushes it over ADS. Everything reconciles on one thread, level-triggered,
 * whenever the store changes.
 */
public final class LocalCluster extends StoreBackedCluster implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(LocalCluster.class.getName());
    static final String DOMAIN = "cluster.local";

    private final Home home;
    private volatile int apiPort;
    private final Transport transport;
    private final Conntrack conntrack = new Conntrack();
    private final AddressPlan addresses;
    private final XdsServer xds;
    private final MeshPusher pusher;
    private final Workloads workloads;
    private final List<String> nodeNames = new ArrayList<>();
    private final Map<String, PodRuntime> pods = new ConcurrentHashMap<>();
    private final Map<InetAddress, PodRuntime> podsByIp = new ConcurrentHashMap<>();
    private final Map<String, L4Forwarder> vips = new HashMap<>();
    private final Map<String, String> podFailures = new HashMap<>();
    private final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "sourcemesh-reconcile");
        t.setDaemon(true);
        return t;
    });
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final Watch watch;
    private volatile boolean closed;
    private final NorthSouth northSouth; // north-south

    private LocalCluster(Home home, int nodes, int apiPort, int addressBlock) {
        super(new ObjectStore(home.stateDir()));
        this.home = home;
        this.addresses = new AddressPlan(addressBlock);
        this.apiPort = apiPort;
        this.transport = Transport.create(Math.max(2, Runtime.getRuntime().availableProcessors()));
        this.xds = XdsServer.start(new InetSocketAddress("127.0.0.1", 0));
        Translator translator = Translator.withGatewayTargetPorts(GatewayInstall.TARGET_PORTS); // north-south
        this.pusher = new MeshPusher(xds, translator);
        xds.addStatusListener((node, type, status) -> requestReconcile()); // statuses follow the proxies' answers
        this.workloads = new Workloads(store, new Admission(store, () -> List.copyOf(nodeNames)));
        for (int i = 0; i < nodes; i++) {
            nodeNames.add("sourcemesh-node-" + (i + 1));
        }
        this.northSouth = NorthSouth.start(store, transport, new UpstreamConnector(transport, // north-south
                new EmbeddedInterception(conntrack, this::injected, null), Optional.empty()), addresses,
                NorthSouth.nodes(nodeNames, addresses), this::endpoints);
        this.watch = store.watch(event -> requestReconcile());
    }

    /** Starts the cluster with {@code nodes} nodes, bringing back what the state directory holds. */
    public static LocalCluster start(Home home, int nodes, int apiPort) {
        return start(home, nodes, apiPort, AddressPlan.configuredBlock());
    }

    /** As {@link #start(Home, int, int)}, on the addresses of {@code addressBlock} (see {@link AddressPlan}). */
    public static LocalCluster start(Home home, int nodes, int apiPort, int addressBlock) {
        LocalCluster c = new LocalCluster(home, nodes, apiPort, addressBlock);
        try {
            c.loop.submit(() -> {
                c.registerNodes();
                c.resetPodStatus();
                GatewayInstall.ensure(c.store); // north-south
            }).get();
            c.requestReconcile();
            return c;
        } catch (InterruptedException | ExecutionException e) {
            c.close();
            throw new IllegalStateException("cluster did not start: " + e.getMessage(), e);
        }
    }

    /** Records the port the API server got, for {@code status}. */
    public void servingOn(int port) {
        this.apiPort = port;
    }


    public AddressPlan addresses() {
        return addresses;
    }

    public List<String> nodeNames() {
        return List.copyOf(nodeNames);
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

    /** Runs one reconcile on the loop now and waits for it, and for the proxies to answer the push. */
    @Override
    protected void reconcileNow() {
        try {
            loop.submit(this::reconcileSafely).get(60, TimeUnit.SECONDS);
            pusher.awaitAnswered(Duration.ofSeconds(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            throw new IllegalStateException("reconcile failed: " + e.getMessage(), e);
        }
    }

    private void reconcileSafely() {
        if (closed) {
            return;
        }
        try {
            reconcile();
        } catch (Exception e) { // including IOExceptions Netty rethrows unchecked
            LOG.log(Level.WARNING, "reconcile failed", e);
            loop.schedule(this::requestReconcile, 500, TimeUnit.MILLISECONDS);
        }
    }

    private void registerNodes() {
        for (int i = 0; i < nodeNames.size(); i++) {
            registerNode(nodeNames.get(i), addresses.nodeAddress(i).getHostAddress(), null, "embedded");
        }
    }

    private void reconcile() {
        assignClusterIps();
        workloads.reconcile();
        runPods();
        serveVips();
        northSouth.reconcile(); // north-south
        pushMesh();
    }

    private void assignClusterIps() {
        for (KubeObject svc : store.list(ResourceKind.SERVICE, null)) {
            String ip = svc.spec().path("clusterIP").asText("");
            if (!ip.isEmpty() && !ip.equals("None")) {
                addresses.reserveService(AddressPlan.ip(ip));
            }
        }
        for (KubeObject svc : store.list(ResourceKind.SERVICE, null)) {
            if (svc.spec().path("clusterIP").asText("").isEmpty()) {
                ObjectNode spec = (ObjectNode) svc.spec().deepCopy();
                String ip = addresses.allocateService().getHostAddress();
                spec.put("clusterIP", ip);
                spec.putArray("clusterIPs").add(ip);
                spec.put("type", spec.path("type").asText("ClusterIP"));
                try {
                    store.update(svc.withSpec(spec));
                } catch (StoreException e) {
                    requestReconcile();
                }
            }
        }
    }

    /** The kubelets: start what the store schedules, stop what it no longer has, report status. */
    private void runPods() {
        Map<String, KubeObject> wanted = new LinkedHashMap<>();
        for (KubeObject p : store.list(ResourceKind.POD, null)) {
            wanted.put(key(p.namespace(), p.name()), p);
        }
        for (String k : List.copyOf(pods.keySet())) {
            KubeObject p = wanted.get(k);
            if (p == null || !p.uid().equals(pods.get(k).pod().uid())) {
                stopPod(k);
            }
        }
        podFailures.keySet().retainAll(wanted.keySet());
        boolean waiting = false;
        for (Map.Entry<String, KubeObject> e : wanted.entrySet()) {
            KubeObject p = e.getValue();
            String nodeName = p.spec().path("nodeName").asText("");
            int nodeIndex = nodeNames.indexOf(nodeName);
            if (nodeIndex < 0) {
                continue; // not scheduled on one of our nodes
            }
            PodRuntime running = pods.get(e.getKey());
            if (running == null && !podFailures.containsKey(e.getKey())) {
                InetAddress ip = addresses.allocatePod(nodeIndex);
                try {
                    running = PodRuntime.start(p, ip, nodeName, kubeletEnv(), isGateway(p));
                    pods.put(e.getKey(), running);
                    podsByIp.put(ip, running);
                } catch (Exception ex) { // bind failures arrive as unchecked IOExceptions
                    addresses.releasePod(ip);
                    podFailures.put(e.getKey(), ex.getMessage());
                    updatePodStatus(p, failedStatus(p, "ErrImagePull", ex.getMessage()));
                    continue;
                }
            }
            if (running != null) {
                ObjectNode status = running.status(addresses.nodeAddress(nodeIndex).getHostAddress());
                boolean ready = running.sidecar() == null || running.sidecar().configured();
                if (!ready) {
                    waiting = true;
                    markNotReady(status);
                }
                updatePodStatus(p, status);
            }
        }
        if (waiting) {
            loop.schedule(this::requestReconcile, 100, TimeUnit.MILLISECONDS);
        }
    }

    private static void markNotReady(ObjectNode status) {
        for (JsonNode c : status.path("conditions")) {
            if (c.path("type").asText().equals("Ready") || c.path("type").asText().equals("ContainersReady")) {
                ((ObjectNode) c).put("status", "False");
            }
        }
        for (JsonNode c : status.path("containerStatuses")) {
            if (c.path("name").asText().equals(PodRuntime.PROXY_CONTAINER)) {
                ((ObjectNode) c).put("ready", false);
            }
        }
    }

    private void updatePodStatus(KubeObject p, ObjectNode status) {
        ObjectNode merged = (ObjectNode) status.deepCopy();
        if (p.status().has("startTime") && merged.has("startTime")) {
            merged.set("startTime", p.status().get("startTime"));
        }
        if (!merged.equals(p.status())) {
            try {
                store.updateStatus(p.withStatus(merged));
            } catch (StoreException e) {
                requestReconcile();
            }
        }
    }

    private void stopPod(String key) {
        PodRuntime p = pods.remove(key);
        if (p != null) {
            podsByIp.remove(p.ip());
            p.close();
            addresses.releasePod(p.ip());
        }
    }

    private static boolean isGateway(KubeObject pod) {
        return pod.labels().containsKey("istio") && pod.labels().get("istio").endsWith("gateway");
    }

    private KubeletEnv kubeletEnv() {
        return new KubeletEnv(transport, conntrack, this::injected, xds.address(), home.logsDir());
    }

    /** Whether an address belongs to a pod whose sidecar captures its inbound traffic. */
    boolean injected(InetAddress ip) {
        PodRuntime p = podsByIp.get(ip);
        return p != null && p.injected() && !isGateway(p.pod());
    }

    /** Ready pods with their node, for kube-proxy and the load balancer. north-south */
    private List<Endpoint> endpoints() {
        return pods.values().stream().filter(p -> p.sidecar() == null || p.sidecar().configured())
                .map(p -> new Endpoint(p.pod(), p.ip(), p.node())).toList();
    }

    /** The north-south components (node ports, load balancers), for tests and the CLI. */
    public NorthSouth northSouth() {
        return northSouth;
    }

    // ---- service VIPs: kube-proxy's ClusterIP, and outbound capture for injected pods ----------

    private void serveVips() {
        Map<String, InetSocketAddress> wanted = new HashMap<>();
        for (KubeObject svc : store.list(ResourceKind.SERVICE, null)) {
            String ip = svc.spec().path("clusterIP").asText("");
            if (ip.isEmpty() || ip.equals("None")) {
                continue;
            }
            for (JsonNode port : svc.spec().path("ports")) {
                if (!port.path("protocol").asText("TCP").equals("TCP")) {
                    continue;
                }
                InetSocketAddress vip = new InetSocketAddress(AddressPlan.ip(ip), port.path("port").asInt());
                wanted.put(svc.namespace() + "/" + svc.name() + "/" + vip, vip);
            }
        }
        for (String k : List.copyOf(vips.keySet())) {
            if (!wanted.containsKey(k)) {
                vips.remove(k).close();
            }
        }
        for (Map.Entry<String, InetSocketAddress> e : wanted.entrySet()) {
            if (!vips.containsKey(e.getKey())) {
                String[] parts = e.getKey().split("/", 3);
                InetSocketAddress vip = e.getValue();
                try {
                    vips.put(e.getKey(), L4Forwarder.start(transport, vip, client -> routeVip(parts[0], parts[1], vip, client)));
                } catch (Exception ex) { // Netty rethrows bind errors (IOExceptions) unchecked
                    LOG.warning("cannot serve " + vip + " for service " + parts[1] + ": " + ex.getMessage());
                }
            }
        }
    }

    /**
     * A connection to a service VIP. From an injected pod it goes to that pod's sidecar
     * (virtualOutbound, 15001) with the VIP as original destination — what istio-iptables' OUTPUT
     * REDIRECT does. Otherwise kube-proxy's job: a ready endpoint, the client's address kept.
     */
    private Optional<L4Forwarder.Decision> routeVip(String namespace, String service, InetSocketAddress vip, InetSocketAddress client) {
        InetAddress clientIp = io.sourcemesh.proxy.network.FilterChainSelector.unmapped(client.getAddress());
        SourceBinding fromClient = SourceBinding.fixed(new InetSocketAddress(clientIp, 0));
        PodRuntime source = podsByIp.get(clientIp);
        if (source != null && source.injected() && !isGateway(source.pod())) {
            InetSocketAddress outbound = new InetSocketAddress(source.ip(), 15001);
            Interception capture = new Interception() {
                @Override
                public Optional<InetSocketAddress> redirect(InetSocketAddress destination, SourceBinding binding) {
                    return Optional.of(outbound);
                }

                @Override
                public void connected(InetSocketAddress local, InetSocketAddress redirectedTo, InetSocketAddress original) {
                    conntrack.record(local, redirectedTo, original);
                }

                @Override
                public void abandoned(InetSocketAddress local, InetSocketAddress redirectedTo) {
                    conntrack.forget(local, redirectedTo);
                }
            };
            return Optional.of(new L4Forwarder.Decision(vip, fromClient, new UpstreamConnector(transport, capture, Optional.empty())));
        }
        Optional<KubeObject> svc = store.get(ResourceKind.SERVICE, namespace, service);
        if (svc.isEmpty()) {
            return Optional.empty();
        }
        JsonNode port = null;
        for (JsonNode p : svc.get().spec().path("ports")) {
            if (p.path("port").asInt() == vip.getPort()) {
                port = p;
            }
        }
        List<PodRuntime> endpoints = new ArrayList<>();
        for (PodRuntime p : pods.values()) {
            if (ServiceSpecs.selects(svc.get(), p.pod()) && (p.sidecar() == null || p.sidecar().configured())) {
                endpoints.add(p);
            }
        }
        if (endpoints.isEmpty() || port == null) {
            return Optional.empty();
        }
        PodRuntime target = endpoints.get(ThreadLocalRandom.current().nextInt(endpoints.size()));
        int targetPort = ServiceSpecs.targetPort(port, target.pod());
        EmbeddedInterception redirect = new EmbeddedInterception(conntrack, this::injected, source == null ? null : source.ip());
        return Optional.of(new L4Forwarder.Decision(new InetSocketAddress(target.ip(), targetPort), fromClient,
                new UpstreamConnector(transport, redirect, Optional.empty())));
    }

    // ---- the control plane ---------------------------------------------------------------------

    private void pushMesh() {
        List<KubeObject> objects = new ArrayList<>();
        for (ResourceKind kind : MeshPusher.MESH_KINDS) {
            objects.addAll(store.list(kind, null));
        }
        // meshConfig, as istiod reads it: meshConfig.defaultConfig.gatewayTopology reaches the gateways.
        store.get(ResourceKind.CONFIG_MAP, ProxyConfigs.MESH_NAMESPACE, ProxyConfigs.MESH_CONFIGMAP).ifPresent(objects::add);
        List<MeshPusher.Target> targets = new ArrayList<>();
        for (PodRuntime p : pods.values()) {
            if (p.sidecar() != null) {
                ObjectNode node = p.pod().node();
                ((ObjectNode) node.with("status")).put("podIP", p.ip().getHostAddress()).put("phase", "Running");
                Pod model = Pod.of(node);
                ProxyIdentity id = isGateway(p.pod()) ? ProxyIdentity.router(model) : ProxyIdentity.sidecar(model);
                targets.add(new MeshPusher.Target(p.sidecar().nodeId(), id));
            }
        }
        MeshPusher.Outcome outcome = pusher.push(objects, targets);
        reportPush(pusher, outcome); // EnvoyFilter and Gateway status, with the proxies' answers
        io.sourcemesh.cluster.mesh.AuthorizationPolicyStatus.write(store, outcome.authorizationTargets());
    }

    // ---- ClusterApi ----------------------------------------------------------------------------

    @Override
    public ExecResult exec(String namespace, String pod, String container, List<String> command, byte[] stdin) {
        PodRuntime p = runningPod(namespace, pod);
        if (container != null && !p.logs().containsKey(container)) {
            throw new ClusterApiException(400, "error: container " + container + " is not valid for pod " + pod);
        }
        try {
            Path work = home.path().resolve("exec");
            Files.createDirectories(work);
            return PodExec.run(p.ip(), names(namespace), work, command, stdin);
        } catch (java.io.IOException e) {
            throw new ClusterApiException(500, e.getMessage());
        }
    }

    @Override
    public io.sourcemesh.cluster.exec.ExecProcess start(String namespace, String pod, String container, List<String> command,
            io.sourcemesh.cluster.exec.ExecProcess.Mode mode) {
        PodRuntime p = runningPod(namespace, pod);
        if (container != null && !p.logs().containsKey(container)) {
            throw new ClusterApiException(400, "error: container " + container + " is not valid for pod " + pod);
        }
        try {
            Path work = home.path().resolve("exec");
            Files.createDirectories(work);
            return PodExec.start(p.ip(), names(namespace), work, command, mode);
        } catch (java.io.IOException e) {
            throw new ClusterApiException(500, e.getMessage());
        }
    }

    /** Every service name a pod in {@code namespace} can resolve, with every port, to its VIP. */
    private PodExec.NameTable names(String namespace) {
        Map<String, InetAddress> out = new LinkedHashMap<>();
        for (KubeObject svc : store.list(ResourceKind.SERVICE, null)) {
            String ip = svc.spec().path("clusterIP").asText("");
            if (ip.isEmpty() || ip.equals("None")) {
                continue;
            }
            List<String> hosts = new ArrayList<>(List.of(svc.name() + "." + svc.namespace(),
                    svc.name() + "." + svc.namespace() + ".svc", svc.name() + "." + svc.namespace() + ".svc." + DOMAIN));
            if (svc.namespace().equals(namespace)) {
                hosts.add(0, svc.name());
            }
            for (JsonNode port : svc.spec().path("ports")) {
                for (String h : hosts) {
                    out.put(h + ":" + port.path("port").asInt(), AddressPlan.ip(ip));
                }
            }
        }
        return new PodExec.NameTable(out);
    }

    private PodRuntime runningPod(String namespace, String pod) {
        PodRuntime p = pods.get(key(namespace, pod));
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
    public void logs(String namespace, String pod, String container, boolean follow, int tail, java.util.function.Consumer<String> lines) {
        PodRuntime p = runningPod(namespace, pod);
        String c = container;
        if (c == null) {
            c = p.logs().keySet().iterator().next();
        }
        ContainerLog log = p.logs().get(c);
        if (log == null) {
            throw new ClusterApiException(400, "error: container " + c + " is not valid for pod " + pod);
        }
        String uid = p.pod().uid();
        ContainerLog.read(log.file(), tail, follow, () -> !closed && pods.containsKey(key(namespace, pod))
                && pods.get(key(namespace, pod)).pod().uid().equals(uid), lines);
    }

    @Override
    public String proxyConfig(String namespace, String pod) {
        PodRuntime p = runningPod(namespace, pod);
        if (p.sidecar() == null) {
            throw new ClusterApiException(400, "error: pod " + pod + " has no istio-proxy container");
        }
        return p.sidecar().configDump();
    }

    @Override
    public String proxyAdmin(String namespace, String pod, String pathAndQuery) {
        PodRuntime p = runningPod(namespace, pod);
        if (p.sidecar() == null) {
            throw new ClusterApiException(400, "error: pod " + pod + " has no istio-proxy container");
        }
        return p.sidecar().admin("POST", pathAndQuery);
    }

    @Override
    public ClusterInfo info() {
        return new ClusterInfo("embedded", home.path().toString(), apiPort, ProcessHandle.current().pid(), nodeNames(),
                pods.size(), northSouth.gatewayAddress().map(InetAddress::getHostAddress).orElse("")); // north-south
    }

    /** Waits until every pod the store has is running and ready, or the timeout passes. */
    public boolean awaitSettled(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            Future<Boolean> f = loop.submit(this::workloadsSettled);
            try {
                if (f.get()) {
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

    @Override
    public void close() {
        closed = true;
        watch.close();
        try {
            loop.submit(() -> {
                northSouth.close(); // north-south
                pods.keySet().forEach(this::stopPodQuietly);
                vips.values().forEach(L4Forwarder::close);
                vips.clear();
            }).get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warning("stopping pods: " + e.getMessage());
        }
        loop.shutdownNow();
        xds.close();
        store.close();
        transport.close();
    }

    private void stopPodQuietly(String key) {
        try {
            stopPod(key);
        } catch (RuntimeException e) {
            LOG.fine("stopping " + key + ": " + e.getMessage());
        }
    }
}
