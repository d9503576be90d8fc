package io.sourcemesh.cluster.core;

import io.sourcemesh.cluster.exec.ExecProcess;
import io.sourcemesh.cluster.exec.ExecResult;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.controller.Admission;
import io.sourcemesh.cluster.controller.Scheduler;
import io.sourcemesh.cluster.controller.Workloads;
import io.sourcemesh.cluster.daemon.ClusterApi;
import io.sourcemesh.cluster.daemon.ClusterApiException;
import io.sourcemesh.cluster.daemon.Home;
import io.sourcemesh.cluster.daemon.StoreVerbs;
import io.sourcemesh.cluster.ingress.GatewayInstall;
import io.sourcemesh.cluster.mesh.MeshCaInstall;
import io.sourcemesh.cluster.kubeapi.MeshInformers;
import io.sourcemesh.cluster.kubelet.ContainerLog;
import io.sourcemesh.cluster.kubeproxy.NodePortAllocator;
import io.sourcemesh.cluster.mesh.MeshPusher;
import io.sourcemesh.cluster.store.ObjectStore;
import io.sourcemesh.cluster.store.Watch;
import io.sourcemesh.control.translate.JwksResolver;
import io.sourcemesh.control.xds.XdsServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A Kubernetes-shaped cluster on a {@link Runtime}: the object store (the API server), the
 * workload controllers, ClusterIP allocation, the kubelets' pod bookkeeping, the control plane
 * that translates the mesh and pushes it over ADS, and the verbs its Kubernetes API server calls
 * ({@link ClusterApi}; the object verbs are {@link StoreVerbs}'). Everything reconciles on one
 * thread, level-triggered, whenever the store changes; a write verb only stores, {@link #settle}
 * waits for the effect. Where pods run and how traffic reaches them is the runtime's.
 * <p>Near 400 lines because it is where the API's verbs meet the reconcile loop; the parts with state of
 * their own are already apart ({@link ClusterIps}, {@link Kubelets}, {@link MeshPush}).
 */
public final class Cluster implements StoreVerbs, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Cluster.class.getName());
    public static final String DOMAIN = "cluster.local";

    private final Home home;
    private final ObjectStore store;
    private final Runtime runtime;
    private final List<Runtime.Node> nodes;
    private final XdsServer xds;
    private final MeshPush mesh;
    private final AutoCloseable jwksChanges;
    private final Workloads workloads;
    private final Scheduler scheduler;
    private final Kubelets kubelets;
    private final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "sourcemesh-reconcile");
        t.setDaemon(true);
        return t;
    });
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final Watch watch;
    private volatile int apiPort;
    private volatile boolean closed;

    private Cluster(Home home, ObjectStore store, Runtime.Factory factory) {
        this.home = home;
        this.store = store;
        this.runtime = factory.create(new Runtime.Host() {
            @Override
            public Home home() {
                return home;
            }

            @Override
            public ObjectStore store() {
                return store;
            }

            @Override
            public void wake(Duration delay) {
                wakeIn(delay);
            }
        });
        try {
            this.nodes = List.copyOf(runtime.nodes());
            this.kubelets = new Kubelets(store, runtime, nodes, this::requestReconcile);
            this.xds = runtime.controlPlane();
            this.mesh = new MeshPush(store, xds);
            // An ACK can make a pod ready and changes the statuses: let the kubelets report it.
            xds.addStatusListener((node, type, status) -> requestReconcile());
            Admission admission = new Admission(store);
            store.admitPods(admission); // a bare Pod too, whoever creates it
            this.workloads = new Workloads(store, admission);
            this.scheduler = Scheduler.create(store, kubelets::nodeNames, this::wakeIn);
            this.watch = store.watch(event -> requestReconcile());
            // A jwksUri whose keys the refresher found rotated: push again, as istiod's refresher does.
            this.jwksChanges = JwksResolver.shared().onKeysChanged(this::requestReconcile);
        } catch (RuntimeException e) {
            loop.shutdownNow();
            runtime.close();
            throw e;
        }
    }

    /**
     * Starts a cluster on the runtime {@code factory} makes, bringing back what {@code home}'s state
     * directory holds: its nodes registered, every pod Pending until its kubelet started it again.
     */
    public static Cluster start(Home home, Runtime.Factory factory) {
        ObjectStore store = new ObjectStore(home.stateDir());
        Cluster c;
        try {
            c = new Cluster(home, store, factory);
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
        try {
            c.loop.submit(() -> {
                c.nodes.forEach(n -> PodStatuses.registerNode(c.store, n, c.runtime.name()));
                PodStatuses.resetAll(c.store);
                GatewayInstall.ensure(c.store); // north-south
                MeshCaInstall.ensure(c.store); // istiod's self-signed root, unless cacerts is plugged in
            }).get();
            c.requestReconcile();
            return c;
        } catch (InterruptedException | ExecutionException | RuntimeException e) {
            c.close();
            throw new IllegalStateException(c.runtime.name() + " cluster did not start: " + e.getMessage(), e);
        }
    }

    @Override
    public ObjectStore store() {
        return store;
    }

    public Runtime runtime() {
        return runtime;
    }

    /** The runtime as its own type, for what only it has (a netns cluster's namespaces, the embedded address plan). */
    public <R extends Runtime> R runtime(Class<R> type) {
        return type.cast(runtime);
    }

    /** The control plane's xDS server (tests: what each proxy ACKed or NACKed). */
    public XdsServer xds() {
        return xds;
    }

    public List<String> nodeNames() {
        return kubelets.nodeNames();
    }

    /** A pod its kubelet runs now. */
    public Optional<RunningPod> pod(String namespace, String name) {
        return kubelets.pod(namespace, name);
    }

    /** Records the port the API server got, for {@code status}. */
    public void servingOn(int port) {
        this.apiPort = port;
    }

    // ---- reconciliation ------------------------------------------------------------------------

    /** Asks for a reconcile soon (the store changed). */
    private void requestReconcile() {
        if (!closed && scheduled.compareAndSet(false, true)) {
            loop.schedule(() -> {
                scheduled.set(false);
                reconcileSafely();
            }, 20, TimeUnit.MILLISECONDS);
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

    /** One pass; true when it changed something (or failed), so another pass may have work. */
    private boolean reconcileSafely() {
        if (closed) {
            return false;
        }
        try {
            return reconcile();
        } catch (Exception e) { // including IOExceptions Netty rethrows unchecked
            LOG.log(Level.WARNING, "reconcile failed", e);
            loop.schedule(this::requestReconcile, 500, TimeUnit.MILLISECONDS);
            return true;
        }
    }

    /**
     * Reconciles until a pass changes nothing (pods and sidecars started, statuses written), at most a
     * minute, then waits until the proxies answered the push, so {@link #settle} returns with the
     * effect of the writes before it in place.
     */
    private void reconcileNow() {
        long start = System.nanoTime();
        long deadline = start + Duration.ofSeconds(60).toNanos();
        try {
            int passes = 0;
            while (passes < 30 && System.nanoTime() < deadline) {
                passes++;
                if (!loop.submit(this::reconcileSafely).get(60, TimeUnit.SECONDS)) {
                    break;
                }
            }
            mesh.awaitAnswered(Duration.ofSeconds(10));
            int n = passes;
            LOG.fine(() -> "reconciled until quiet in " + n + " passes and " + (System.nanoTime() - start) / 1_000_000
                    + " ms, the proxies answered");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            throw new IllegalStateException("reconcile failed: " + e.getMessage(), e);
        }
    }

    /** One level-triggered pass; true when it changed something. */
    private boolean reconcile() throws InterruptedException {
        boolean changed = ClusterIps.assign(store, runtime.serviceAddresses(), this::requestReconcile);
        List<KubeObject> services = NodePortAllocator.allocate(store);
        workloads.reconcile();
        changed |= scheduler.reconcile();
        changed |= kubelets.sync();
        changed |= kubelets.writeStatuses();
        runtime.syncServices(services, List.copyOf(kubelets.running()));
        runtime.syncNorthSouth(services, kubelets.running().stream().filter(RunningPod::ready).toList());
        changed |= MeshCaInstall.publishRoot(store);
        changed |= pushMesh();
        changed |= kubelets.writeStatuses();
        return changed;
    }

    /** Translation → ADS push to every proxy, then the sidecars that wait for their first config start. */
    private boolean pushMesh() throws InterruptedException {
        Map<RunningPod, String> proxies = MeshPush.nodeIds(kubelets.running());
        MeshPusher.Outcome outcome = mesh.push(proxies);
        boolean changed = runtime.startSidecars(proxies);
        if (!mesh.report(outcome)) {
            requestReconcile();
        }
        return changed;
    }

    /** Every pod the store has is ready and every Deployment rolled out, as `kubectl rollout status` judges it. */
    private boolean workloadsSettled() {
        return store.list(ResourceKind.POD, null).stream().allMatch(Workloads::ready)
                && store.list(ResourceKind.DEPLOYMENT, null).stream().allMatch(Workloads::rolledOut);
    }

    /**
     * Waits until every pod is running and ready, every deployment rolled out, a pass changes nothing
     * and every proxy answered that pass's push: a request sent next meets the endpoints of the pods
     * now ready, not those of a pod that just went away.
     */
    public boolean awaitSettled(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (loop.submit(() -> !reconcileSafely() && workloadsSettled() && mesh.answered()).get()) {
                    return true;
                }
            } catch (ExecutionException e) {
                throw new IllegalStateException(e.getCause());
            }
            Thread.sleep(50);
        }
        return false;
    }

    // ---- ClusterApi ----------------------------------------------------------------------------

    /**
     * kubectl apply: the API server's warnings for fields SourceMesh does not implement, then, once
     * the proxies answered the push, the EnvoyFilters they refused.
     */
    @Override
    public ApplyResponse apply(List<KubeObject> objects) {
        ApplyResponse stored = StoreVerbs.super.apply(objects);
        List<String> warnings = new ArrayList<>(stored.warnings());
        warnings.addAll(settle(objects));
        return new ApplyResponse(stored.results(), warnings);
    }

    /**
     * Reconciles now, waits for the proxies' answers and returns the EnvoyFilters among {@code written} they refused:
     * the one verb that waits (the writes only store; the store's watch asks for a reconcile).
     */
    @Override
    public List<String> settle(List<KubeObject> written) {
        reconcileNow();
        mesh.writeStatus(); // with the answers that came in while reconcileNow waited
        return mesh.applyWarnings(written);
    }

    @Override
    public List<ProxyStatus> proxyStatus() {
        return mesh.proxyStatus();
    }

    @Override
    public ExecResult exec(String namespace, String pod, String container, List<String> command, byte[] stdin) {
        return runtime.exec(withContainer(namespace, pod, container), command, stdin);
    }

    @Override
    public ExecProcess start(String namespace, String pod, String container, List<String> command, ExecProcess.Mode mode) {
        RunningPod p = withContainer(namespace, pod, container);
        return kubelets.track(p, runtime.start(p, command, mode));
    }

    /** The running pod, which has {@code container} (null: any pod has its first). */
    private RunningPod withContainer(String namespace, String pod, String container) {
        RunningPod p = kubelets.require(namespace, pod);
        if (container != null && !p.logs().containsKey(container)) {
            throw new ClusterApiException(400, "error: container " + container + " is not valid for pod " + pod);
        }
        return p;
    }

    @Override
    public void logs(String namespace, String pod, String container, boolean follow, int tail, Consumer<String> lines) {
        RunningPod p = kubelets.require(namespace, pod);
        String c = container == null ? p.logs().keySet().iterator().next() : container;
        Path log = p.logs().get(c);
        if (log == null) {
            throw new ClusterApiException(400, "error: container " + c + " is not valid for pod " + pod);
        }
        String uid = p.pod().uid();
        ContainerLog.read(log, tail, follow, () -> !closed && kubelets.runs(namespace, pod, uid), lines);
    }

    @Override
    public String proxyConfig(String namespace, String pod) {
        return proxy(namespace, pod).configDump();
    }

    @Override
    public String proxyAdmin(String namespace, String pod, String pathAndQuery) {
        return proxy(namespace, pod).admin("POST", pathAndQuery);
    }

    private RunningPod proxy(String namespace, String pod) {
        RunningPod p = kubelets.require(namespace, pod);
        if (!p.injected()) {
            throw new ClusterApiException(400, "error: pod " + pod + " has no istio-proxy container");
        }
        return p;
    }

    @Override
    public ClusterInfo info() {
        MeshInformers informers = mesh.informers();
        return new ClusterInfo(runtime.name(), home.path().toString(), apiPort, ProcessHandle.current().pid(), kubelets.nodeNames(),
                kubelets.running().size(), runtime.gatewayAddress().orElse(""), informers == null ? "store" : "informers on " + informers.server(),
                store.invalid());
    }

    /**
     * The control plane reading the cluster as it would a real one (what the daemon does once its
     * Kubernetes API serves): the mesh objects and meshConfig through fabric8 informers against the
     * API server that {@code kubeconfig} names (this cluster's own), the mesh's statuses written
     * through its status subresource; the next push waits for their caches. The cluster's own
     * controllers and kubelets keep the store: they are the API server's side.
     */
    public void readMeshThrough(Path kubeconfig) {
        MeshInformers informers = MeshInformers.start(kubeconfig, MeshPush.INFORMED);
        MeshInformers before = mesh.informers();
        mesh.readThrough(informers);
        if (before != null) {
            before.close();
        }
        reconcileNow();
    }

    /**
     * Once the cluster is ready, on a thread of its own at the lowest priority, the work the first write
     * after {@code up} would otherwise pay cold (see {@link MeshInformers#warmUp}); done when the future is.
     */
    public CompletableFuture<Void> warmUpInBackground() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread t = Thread.ofPlatform().name("sourcemesh-warm-up").daemon().unstarted(() -> {
            try {
                MeshInformers informers = mesh.informers();
                if (informers != null && !closed) {
                    informers.warmUp();
                }
                done.complete(null);
            } catch (RuntimeException e) {
                LOG.log(Level.FINE, "warm-up failed", e); // only a cost moved back to the first write
                done.completeExceptionally(e);
            }
        });
        t.setPriority(Thread.MIN_PRIORITY);
        t.start();
        return done;
    }

    /** Whether the control plane reads through informers ({@link #readMeshThrough}). */
    public boolean readsMeshThroughInformers() {
        return mesh.informers() != null;
    }

    /** Stops every pod, then everything the runtime made, then the store, whatever fails on the way. */
    @Override
    public void close() {
        closed = true;
        try {
            jwksChanges.close();
        } catch (Exception e) {
            LOG.warning("unsubscribing from JWKS changes: " + e.getMessage());
        }
        MeshInformers informers = mesh.informers();
        if (informers != null) {
            informers.close();
        }
        try {
            watch.close();
            loop.submit(kubelets::stopAll).get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.warning("stopping pods: " + e.getMessage());
        } finally {
            loop.shutdownNow();
            try {
                runtime.close();
            } finally {
                store.close();
            }
        }
    }
}
