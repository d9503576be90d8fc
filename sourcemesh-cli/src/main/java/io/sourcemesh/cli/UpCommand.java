package io.sourcemesh.cli;

import io.sourcemesh.cluster.daemon.ClusterApi;
import io.sourcemesh.cluster.daemon.Home;
import io.sourcemesh.cluster.network.AddressPlan;
import java.io.File;
import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sourcemesh up}: starts the local cluster in the background (or says it is already running). */
@Command(name = "up", description = "Start the local cluster in the background.")
final class UpCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--home", paramLabel = "DIR", description = "State directory (default: SOURCEMESH_HOME or ~/.sourcemesh).")
    Path home;

    @Option(names = "--nodes", defaultValue = "2", description = "Number of nodes (default: 2).")
    int nodes = 2;

    @Option(names = "--runtime", defaultValue = "embedded", description = "embedded (default, unprivileged, on loopback) or netns (root).")
    String runtime = "embedded";

    @Override
    public Integer call() throws Exception {
        return run(spec.commandLine().getOut(), spec.commandLine().getErr());
    }

    /** The verb with its options bound, writing to {@code out} and {@code err} (picocli's or {@link QuickVerbs}'). */
    int run(java.io.PrintWriter out, java.io.PrintWriter err) throws Exception {
        if (runtime.equals("netns")) {
            var preflight = io.sourcemesh.cluster.netns.Preflight.check();
            if (!preflight.ok()) {
                err.println("error: the netns runtime cannot run on this machine:");
                err.println(preflight.message());
                err.println("The embedded runtime (the default) needs none of this: sourcemesh up");
                return 1;
            }
        } else if (!runtime.equals("embedded")) {
            err.println("error: unknown runtime \"" + runtime + "\": embedded (default) or netns");
            return 1;
        }
        if (nodes < 1) {
            err.println("error: --nodes must be at least 1");
            return 1;
        }
        if (runtime.equals("embedded") && nodes > AddressPlan.MAX_NODES) {
            err.println("error: --nodes " + nodes + ": the embedded runtime runs at most "
                    + AddressPlan.MAX_NODES + " nodes (each node's pods take one of its address block's 127.17.x.0/24)");
            return 1;
        }
        Home h = Home.resolve(home);
        var running = h.daemon();
        if (running.isPresent()) {
            out.println("SourceMesh is already running in " + h.path() + " (pid " + running.get().pid() + ", API 127.0.0.1:"
                    + running.get().port() + ")");
            return 0;
        }
        ClusterApi.ClusterInfo info = start(h, nodes, runtime, err);
        printUp(out, info, h);
        return 0;
    }

    /** What {@code up} prints once its cluster is up. */
    static void printUp(java.io.PrintWriter out, ClusterApi.ClusterInfo info, Home h) {
        out.println("SourceMesh cluster is up: " + info.nodes().size() + " nodes (" + String.join(", ", info.nodes()) + ")"
                + (info.runtime().equals("netns") ? " on network namespaces" : "") + ", state in " + h.path());
        out.println("kubectl: export KUBECONFIG=" + io.sourcemesh.cluster.kubeapi.Kubeconfig.in(h.path()));
        // Only a state an older version stored can hold them: the daemon's log is otherwise their only trace.
        if (!info.invalid().isEmpty()) {
            out.println("Warning: " + StatusCommand.invalidCount(info.invalid().size())
                    + ", kept as stored (status.validationMessages says why; fix and apply them):");
            info.invalid().forEach(line -> out.println("  " + line));
        }
    }

    /**
     * The daemon's command line. The embedded daemon runs C1 only: with C2, its compile threads (and the
     * AOT cache's training replay, which compiles the recorded hot methods at start) were a third of the
     * daemon's CPU before ready, on two cores shared with its main thread; the embedded pods' proxies then
     * run C1 code, which a local cluster's traffic does not notice (a benchmarked proxy is a JVM of its own).
     * Nor does it replay the AOT cache's training data: the replay queues, at start, every method the
     * recording run compiled — its whole life, the warm-up and the demo after ready included — for C1,
     * whose thread was about 30% of the daemon's CPU before ready, beside the start it competes with
     * (10-15% fewer methods compiled by ready without it); the cache's classes are still loaded and linked
     * ahead, and a method compiles once it is hot in this run.
     * {@code daemonOpts} (SOURCEMESH_DAEMON_JAVA_OPTS: the launcher's AOT cache, a user's flags) come after,
     * so they win.
     */
    static List<String> daemonCommand(String java, String daemonOpts, String classPath, Home h, int nodes, String runtime) {
        List<String> cmd = new ArrayList<>(List.of(java));
        if (runtime.equals("embedded")) {
            cmd.add(C1_ONLY);
            cmd.addAll(NO_TRAINING_REPLAY);
        }
        if (daemonOpts != null && !daemonOpts.isBlank()) {
            cmd.addAll(List.of(daemonOpts.strip().split("\\s+")));
        }
        cmd.addAll(List.of("--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow"));
        // Only a block the user asked for: otherwise the daemon takes its home's, or the first free one.
        AddressPlan.configuredBlock().ifPresent(b -> cmd.add("-Dsourcemesh.addressBlock=" + b));
        cmd.addAll(List.of("-cp", classPath,
                DaemonMain.class.getName(), "daemon", "--home", h.path().toString(), "--nodes", String.valueOf(nodes), "--runtime", runtime));
        return cmd;
    }

    static final String C1_ONLY = "-XX:TieredStopAtLevel=1";
    static final List<String> NO_TRAINING_REPLAY = List.of("-XX:+UnlockDiagnosticVMOptions", "-XX:-AOTReplayTraining");

    /** Starts the daemon process and waits until its API answers. */
    static ClusterApi.ClusterInfo start(Home h, int nodes, java.io.PrintWriter err) throws Exception {
        return start(h, nodes, "embedded", err);
    }

    /** As {@link #start(Home, int, java.io.PrintWriter)} with a runtime: embedded or netns (the caller ran the preflight). */
    static ClusterApi.ClusterInfo start(Home h, int nodes, String runtime, java.io.PrintWriter err) throws Exception {
        Files.createDirectories(h.path());
        List<String> cmd = daemonCommand(ProcessHandle.current().info().command().orElse("java"), System.getenv("SOURCEMESH_DAEMON_JAVA_OPTS"),
                System.getProperty("java.class.path"), h, nodes, runtime);
        File log = h.path().resolve("daemon.log").toFile();
        ProcessHandle p = detached(cmd, log);
        ReadyPathWarmUp.inBackground(log.toPath()); // this JVM waits seconds: the path after the wait, done meanwhile
        // The netns runtime starts a JVM per sidecar and per httpbin, and brings back what the home holds.
        Duration wait = Duration.ofSeconds(runtime.equals("netns") ? 180 : 90);
        long deadline = System.nanoTime() + wait.toNanos();
        // The daemon writes daemon.json once its cluster has settled: wait for that file's event (or the
        // daemon's exit, which closes the watch), not in sleeps.
        try (WatchService files = h.path().getFileSystem().newWatchService()) {
            h.path().register(files, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY);
            p.onExit().thenRun(() -> {
                try {
                    files.close();
                } catch (IOException ignored) {
                    // the wait below sees the exit either way
                }
            });
            while (System.nanoTime() < deadline) {
                var d = h.daemon();
                if (d.isPresent() && d.get().pid() == p.pid()) {
                    try {
                        return h.client().info();
                    } catch (RuntimeException notYet) {
                        // the API is coming up
                    }
                }
                if (!p.isAlive()) {
                    throw CliException.verbatim("error: the cluster did not start (see " + log + "):\n" + Files.readString(log.toPath()));
                }
                try {
                    var key = files.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
                    if (key != null) {
                        key.pollEvents();
                        key.reset();
                    }
                } catch (ClosedWatchServiceException exited) {
                    if (!exited(p) || h.daemon().isEmpty()) {
                        throw CliException.verbatim("error: the cluster did not start (see " + log + "):\n" + Files.readString(log.toPath()));
                    }
                }
            }
        }
        p.destroy();
        throw CliException.error("the cluster did not answer within " + wait.toSeconds() + " s (see " + log + ")");
    }

    /**
     * Starts {@code cmd} as a grandchild (through {@code sh}, which exits at once) with its output in {@code log}.
     * A child of this JVM would keep the JDK's process reaper thread blocked in waitpid, in native code, and a
     * JVM exiting waits up to 300 ms for such threads to block (HotSpot's VM_Exit): every {@code up} paid that
     * after its last line.
     */
    static ProcessHandle detached(List<String> cmd, File log) throws IOException, InterruptedException {
        List<String> sh = new ArrayList<>(List.of("/bin/sh", "-c", "log=$1; shift; \"$@\" </dev/null >\"$log\" 2>&1 & echo $!", "sh",
                log.getPath()));
        sh.addAll(cmd);
        Process starter = new ProcessBuilder(sh).redirectError(ProcessBuilder.Redirect.INHERIT)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        String pid = new String(starter.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII).strip();
        if (starter.waitFor() != 0 || !pid.matches("[0-9]+")) {
            throw CliException.error("could not start the daemon (" + String.join(" ", cmd) + ")");
        }
        var daemon = ProcessHandle.of(Long.parseLong(pid));
        if (daemon.isEmpty()) {
            throw CliException.verbatim("error: the cluster did not start (see " + log + "):\n" + Files.readString(log.toPath()));
        }
        return daemon.get();
    }

    /** Whether {@code p} has exited, waiting up to 5 s. */
    private static boolean exited(ProcessHandle p) throws InterruptedException {
        try {
            p.onExit().get(5, TimeUnit.SECONDS);
            return true;
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            return false;
        }
    }
}
