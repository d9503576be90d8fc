package io.sourcemesh.cli;

import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.daemon.ClusterApiServer;
import io.sourcemesh.cluster.daemon.Home;
import io.sourcemesh.cluster.kubeapi.ClusterPki;
import io.sourcemesh.cluster.kubeapi.KubeApiServer;
import io.sourcemesh.cluster.network.AddressBlockClaim;
import io.sourcemesh.cluster.runtime.embedded.EmbeddedRuntime;
import io.sourcemesh.cluster.runtime.netns.NetnsRuntime;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The cluster process that {@code up} starts in the background; not meant to be run by hand. */
@Command(name = "daemon", hidden = true, description = "Run the local cluster in the foreground (what `up` starts).")
final class DaemonCommand implements Callable<Integer> {
    @Option(names = "--home", paramLabel = "DIR")
    Path home;

    @Option(names = "--nodes", defaultValue = "2")
    int nodes;

    @Option(names = "--runtime", defaultValue = "embedded")
    String runtime;

    @Override
    public Integer call() throws Exception {
        int rc = serve();
        if (rc == 0) {
            trainingComplete(System.getProperty(TRAINING_DONE_PROPERTY));
        }
        return rc;
    }

    /**
     * Set by the launcher on a daemon that records the daemon's AOT cache: the file to create once this daemon
     * served and stopped cleanly. The JVM writes its recording at any exit, so a daemon that failed at start
     * (a held address block, a bad home) would leave one of a few hundred classes, and a cache assembled from it
     * slows every later {@code up}; the launcher assembles only a recording with this file beside it.
     */
    static final String TRAINING_DONE_PROPERTY = "sourcemesh.aotTrainingDone";

    static void trainingComplete(String marker) {
        if (marker == null || marker.isBlank()) {
            return;
        }
        try {
            java.nio.file.Files.writeString(Path.of(marker), "");
        } catch (java.io.IOException e) {
            System.err.println("[warning] the daemon's AOT training is not kept (" + marker + ": " + e.getMessage() + ")");
        }
    }

    private int serve() throws Exception {
        BuildId build = BuildId.current(); // the jars as this JVM found them, before a rebuild can replace them
        Home h = Home.resolve(home);
        if (h.daemon().isPresent()) {
            System.err.println("a SourceMesh cluster is already running in " + h.path());
            return 1;
        }
        if (runtime.equals("netns")) {
            return runNetns(h, build);
        }
        if (!runtime.equals("embedded")) {
            System.err.println("unknown runtime " + runtime);
            return 1;
        }
        CountDownLatch stop = new CountDownLatch(1);
        StartTimeline timeline = StartTimeline.sinceJvmStart();
        FutureTask<ClusterPki> credentials = credentials(h);
        Cluster cluster;
        try {
            cluster = EmbeddedRuntime.cluster(h, nodes);
        } catch (AddressBlockClaim.AddressBlockTakenException | IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage()); // `up` shows the daemon's output: a line, not a stack
            return 1;
        }
        timeline.mark("the cluster");
        ClusterApiServer api = ClusterApiServer.start(new InetSocketAddress("127.0.0.1", 0), cluster, stop::countDown);
        timeline.mark("its API");
        ClusterPki pki = credentials(credentials);
        timeline.mark("the credentials");
        KubeApiServer kubeApi = KubeApiServer.startWithKubeconfig(new InetSocketAddress("127.0.0.1", 0), cluster, cluster.store(), h.path(), pki);
        timeline.mark("the Kubernetes API");
        meshInformers(cluster, h);
        timeline.mark("informers synced");
        cluster.servingOn(api.port());
        // `up` returns once the mesh it brings back is serving again.
        cluster.awaitSettled(java.time.Duration.ofSeconds(60));
        timeline.mark("settled");
        h.writeDaemon(new Home.DaemonInfo(api.port(), ProcessHandle.current().pid(), "embedded"));
        Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown));
        System.err.println("[info] ready " + timeline);
        System.err.println("[info] SourceMesh cluster running: " + nodes + " nodes, API 127.0.0.1:" + api.port()
                + ", Kubernetes API https://127.0.0.1:" + kubeApi.port() + " (kubeconfig " + io.sourcemesh.cluster.kubeapi.Kubeconfig.in(h.path()) + ")");
        // After "ready", so `up` does not wait for it; the first `apply` after `up` no longer pays it.
        cluster.warmUpInBackground().thenRun(() -> System.err.println("[info] warmed up " + timeline));
        AutoCloseable dashboard = DashboardCommand.serveForDaemon(cluster, h);
        AutoCloseable verbs = verbSocket(h, build);
        stop.await();
        try {
            verbs.close();
            dashboard.close();
            cluster.close(); // its informers first, while the Kubernetes API they watch still serves
            kubeApi.close();
            api.close();
        } finally {
            h.clearDaemon();
        }
        return 0;
    }

    /**
     * The home's cluster credentials, read or (a fresh home) made on a thread of their own while the cluster
     * starts: three key pairs and certificates are a fifth of the way to ready, and neither needs the other.
     */
    static FutureTask<ClusterPki> credentials(Home h) {
        FutureTask<ClusterPki> task = new FutureTask<>(() -> KubeApiServer.credentials(h.path()));
        Thread.ofPlatform().name("sourcemesh-credentials").daemon().start(task);
        return task;
    }

    static ClusterPki credentials(FutureTask<ClusterPki> task) throws InterruptedException {
        try {
            return task.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        }
    }

    /**
     * The control plane reads the mesh objects through fabric8 informers against the Kubernetes API
     * just started and writes their statuses through it, as it would a real cluster's.
     */
    static void meshInformers(Cluster cluster, Home h) {
        cluster.readMeshThrough(io.sourcemesh.cluster.kubeapi.Kubeconfig.in(h.path()));
    }

    /**
     * The launcher's read verbs, run here instead of in a JVM each ({@link VerbSocket}); a daemon that
     * cannot listen (a home path too long for a socket's name) still serves, and the verbs take their JVM.
     */
    static AutoCloseable verbSocket(Home h, BuildId build) {
        try {
            VerbSocket socket = VerbSocket.open(h.path(), build);
            socket.warmUp(h.path());
            return socket;
        } catch (java.io.IOException | RuntimeException e) {
            System.err.println("[warning] no fast path for the CLI's read verbs: " + e.getMessage());
            return () -> { };
        }
    }

    /**
     * The netns runtime: namespaces and processes outlive a JVM that just exits, so the shutdown
     * hook waits until the cluster has removed them (SIGTERM as well as {@code down}).
     */
    private int runNetns(Home h, BuildId build) throws Exception {
        CountDownLatch stop = new CountDownLatch(1);
        CountDownLatch cleaned = new CountDownLatch(1);
        Cluster cluster = NetnsRuntime.cluster(h, nodes);
        ClusterApiServer api;
        KubeApiServer kubeApi;
        try {
            api = ClusterApiServer.start(new InetSocketAddress("127.0.0.1", 0), cluster, stop::countDown);
        } catch (Exception | Error e) {
            cluster.close();
            throw e;
        }
        try {
            kubeApi = KubeApiServer.startWithKubeconfig(new InetSocketAddress("127.0.0.1", 0), cluster, cluster.store(), h.path());
        } catch (Exception | Error e) {
            api.close();
            cluster.close();
            throw e;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stop.countDown();
            try {
                cleaned.await(90, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));
        AutoCloseable verbs = () -> { };
        try {
            meshInformers(cluster, h);
            cluster.servingOn(api.port());
            cluster.awaitSettled(java.time.Duration.ofSeconds(120));
            h.writeDaemon(new Home.DaemonInfo(api.port(), ProcessHandle.current().pid(), "netns"));
            verbs = verbSocket(h, build);
            System.err.println("[info] SourceMesh netns cluster running: " + nodes + " nodes, namespaces "
                    + NetnsRuntime.prefixFor(h) + "*, API 127.0.0.1:" + api.port() + ", Kubernetes API https://127.0.0.1:"
                    + kubeApi.port() + " (kubeconfig " + io.sourcemesh.cluster.kubeapi.Kubeconfig.in(h.path()) + ")");
            stop.await();
        } finally {
            try {
                try {
                    verbs.close();
                    cluster.close(); // its informers first, while the Kubernetes API they watch still serves
                } finally {
                    kubeApi.close();
                    api.close();
                }
            } finally {
                h.clearDaemon();
                cleaned.countDown();
            }
        }
        return 0;
    }
}
