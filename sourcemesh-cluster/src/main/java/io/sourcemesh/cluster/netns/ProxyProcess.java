package io.sourcemesh.cluster.netns;

import io.sourcemesh.l4.transport.Transport;
import java.io.File;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

/**
 * The sidecar as a real process inside a pod's namespace: {@code sourcemesh proxy -c BOOTSTRAP
 * --concurrency 1}, dropped to uid/gid 1337 (the identity the interception rules exclude) but
 * keeping CAP_NET_ADMIN and CAP_NET_RAW as ambient capabilities, because IP_TRANSPARENT and SO_MARK
 * (TPROXY, original_src) need them. {@code ip netns exec}, {@code setpriv} and the launcher script
 * all exec, so the process started here is the proxy's JVM itself and its PID is the one to stop.
 */
public final class ProxyProcess implements AutoCloseable {
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(30);
    private static final AtomicBoolean AOT_CACHE_ASKED = new AtomicBoolean();

    private final Process process;
    private final String netns;
    private final Path log;

    private ProxyProcess(Process process, String netns, Path log) {
        this.process = process;
        this.netns = netns;
        this.log = log;
    }

    /**
     * uid 1337 has no home: no perf-data files. Small heap, serial GC: one sidecar per pod; the
     * launcher's footprint settings (see the sourcemesh script) also when started without it,
     * -XX:-ShrinkHeapInSteps included (the heap the proxy's HeapGovernor collects is given back at once).
     * A 16 MB young generation, half the launcher's: a young pause stalls every request in flight, but
     * at the mesh's 1,000 req/s even a 4 MB eden put under 0.1% of requests behind one, and each MB of
     * eden is a MB of every pod's RSS; 16 MB keeps a sidecar at its maximum rate (16 connections)
     * under 0.3% (sourcemesh-bench/README.md "The tail").
     */
    static final List<String> JVM_OPTIONS = List.of("-XX:-UsePerfData", "-XX:+UseSerialGC", "-Xms24m", "-Xmn16m", "-Xmx128m",
            "-XX:+UseCompactObjectHeaders", "-XX:MinHeapFreeRatio=10", "-XX:MaxHeapFreeRatio=30", "-XX:-ShrinkHeapInSteps",
            "-XX:TrimNativeHeapInterval=5000", "-Dio.netty.jfr.enabled=false");

    /** The sidecars' JVM flags, beside the launcher's own (a test checks the proxy AOT cache allows them). */
    public static List<String> jvmOptions() {
        return JVM_OPTIONS;
    }

    /**
     * Starts the proxy in {@code netns} and waits until its admin {@code /ready} (on 127.0.0.1:{@code
     * adminPort} inside the namespace) answers 200. {@code bootstrap} must be readable by uid 1337;
     * stdout and stderr (access logs included) go to {@code log}. Runs the checkout's {@code sourcemesh}
     * launcher when the CLI is built, otherwise the same proxy from this JVM's classpath.
     */
    public static ProxyProcess start(String netns, Path bootstrap, int adminPort, Path log) {
        return start(netns, bootstrap, adminPort, log, launcher().isPresent(), false);
    }

    /**
     * As {@link #start(String, Path, int, Path)} for a proxy fed over ADS: waits only until its admin
     * listener answers, LIVE or still INITIALIZING (/ready 503 until the first push is applied), so a
     * first push it refuses does not count as a failed start. Whether it took its config is the
     * control plane's to tell (the ACK).
     */
    public static ProxyProcess startLive(String netns, Path bootstrap, int adminPort, Path log) {
        return start(netns, bootstrap, adminPort, log, launcher().isPresent(), true);
    }

    static ProxyProcess start(String netns, Path bootstrap, int adminPort, Path log, boolean viaLauncher) {
        return start(netns, bootstrap, adminPort, log, viaLauncher, false);
    }

    private static ProxyProcess start(String netns, Path bootstrap, int adminPort, Path log, boolean viaLauncher,
            boolean initializingIsLive) {
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", netns, "setpriv",
                "--reuid", String.valueOf(IstioIptables.PROXY_UID), "--regid", String.valueOf(IstioIptables.PROXY_GID),
                "--clear-groups", "--inh-caps", "+net_admin,+net_raw", "--ambient-caps", "+net_admin,+net_raw"));
        String config = bootstrap.toAbsolutePath().toString();
        List<String> jvm = withTransport(JVM_OPTIONS);
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        if (viaLauncher) {
            Path launcher = launcher().orElseThrow(() -> new NetnsException(
                    "the sourcemesh CLI is not built: run ./mvnw -DskipTests package in the checkout"));
            command.addAll(List.of(launcher.toString(), "proxy", "-c", config, "--concurrency", "1"));
            Map<String, String> env = pb.environment();
            // The launcher needs a JDK 25; the one running us is one.
            env.put("JAVA_HOME", System.getProperty("java.home"));
            askForAotCache(launcher);
            env.put("SOURCEMESH_JAVA_OPTS", (String.join(" ", jvm) + " " + env.getOrDefault("SOURCEMESH_JAVA_OPTS", "")).strip());
        } else {
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            command.addAll(jvm);
            command.addAll(List.of("--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                    "-cp", SidecarClasspath.forUid1337(), SidecarMain.class.getName(), "-c", config, "--concurrency", "1"));
        }
        pb.command(command);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new NetnsException("cannot start the proxy in " + netns + ": " + e.getMessage(), e);
        }
        ProxyProcess proxy = new ProxyProcess(p, netns, log);
        try {
            proxy.awaitReady(adminPort, initializingIsLive);
            return proxy;
        } catch (RuntimeException e) {
            proxy.close();
            throw e;
        }
    }

    /** The flags, plus this JVM's {@code -Dsourcemesh.transport} when set: a test run on io_uring runs its sidecars on it. */
    private static List<String> withTransport(List<String> jvm) {
        String transport = System.getProperty(Transport.PROPERTY);
        if (transport == null) {
            return jvm;
        }
        List<String> all = new ArrayList<>(jvm);
        all.add("-D" + Transport.PROPERTY + "=" + transport);
        return all;
    }

    public long pid() {
        return process.pid();
    }

    public String netns() {
        return netns;
    }

    public Path log() {
        return log;
    }

    public boolean alive() {
        return process.isAlive();
    }

    /** Completes when the proxy process ends, however it ends. */
    public CompletableFuture<Process> onExit() {
        return process.onExit();
    }

    /** The exit status of a proxy that ended. */
    public int exitValue() {
        return process.exitValue();
    }

    /** Open file descriptors of the proxy: a connection loop shows up here first. */
    public int openFiles() {
        try (Stream<Path> fds = Files.list(Path.of("/proc", String.valueOf(pid()), "fd"))) {
            return (int) fds.count();
        } catch (IOException e) {
            throw new NetnsException("cannot list the proxy's file descriptors: " + e.getMessage(), e);
        }
    }

    /** What the proxy printed so far. */
    public String output() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "";
        }
    }

    /** SIGTERM to the proxy's PID (it drains and exits), SIGKILL after 5 s. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    private void awaitReady(int adminPort, boolean initializingIsLive) {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        List<String> probe = Shell.in(netns, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "1",
                "http://127.0.0.1:" + adminPort + "/ready");
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new NetnsException("the proxy in " + netns + " exited " + process.exitValue() + ":\n" + output());
            }
            String status = Shell.run(probe).out().strip();
            if (status.equals("200") || initializingIsLive && status.equals("503")) {
                return;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new NetnsException("interrupted while waiting for the proxy in " + netns, e);
            }
        }
        throw new NetnsException("the proxy in " + netns + " was not ready in " + READY_TIMEOUT.toSeconds() + " s:\n" + output());
    }

    /**
     * The launcher's proxy AOT cache (BENCHMARKS.md "Start-up") is made by a training run where the jars
     * are, which uid 1337 cannot write: the first sidecar this JVM starts asks the launcher, as this
     * process's user, to make it if missing or made for other jars — in the background, so the
     * sidecars started meanwhile run without it; a no-op when the cache is current.
     */
    private static void askForAotCache(Path launcher) {
        if (!AOT_CACHE_ASKED.compareAndSet(false, true)) {
            return;
        }
        ProcessBuilder pb = new ProcessBuilder("nice", "-n", "10", launcher.toString(), "proxy", "--make-aot-cache")
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectErrorStream(true);
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        try {
            pb.start();
        } catch (IOException e) {
            // No cache: the sidecars start as they did without one.
        }
    }

    /**
     * The {@code sourcemesh} launcher of a checkout whose CLI is built, when this JVM itself runs
     * from that CLI's jar. From anything else (a test's classpath of module outputs) the launcher's
     * jars may be an older build than the code running here, so the sidecar runs this classpath.
     */
    static Optional<Path> launcher() {
        boolean fromCliJar = Arrays.stream(System.getProperty("java.class.path", "").split(File.pathSeparator))
                .anyMatch(e -> Path.of(e).getFileName() != null && Path.of(e).getFileName().toString().matches("sourcemesh-cli-.*\\.jar"));
        if (!fromCliJar) {
            return Optional.empty();
        }
        return checkout().filter(root -> {
            Path target = root.resolve("sourcemesh-cli").resolve("target");
            return Files.isDirectory(target.resolve("lib")) && hasJar(target);
        }).map(root -> root.resolve("sourcemesh"));
    }

    private static boolean hasJar(Path target) {
        try (Stream<Path> files = Files.list(target)) {
            return files.anyMatch(f -> f.getFileName().toString().matches("sourcemesh-cli-.*\\.jar"));
        } catch (IOException e) {
            return false;
        }
    }

    /** The checkout holding the {@code sourcemesh} launcher: above the working directory, or above this code. */
    static Optional<Path> checkout() {
        List<Path> starts = new ArrayList<>(List.of(Path.of("").toAbsolutePath()));
        try {
            starts.add(Path.of(ProxyProcess.class.getProtectionDomain().getCodeSource().getLocation().toURI()));
        } catch (URISyntaxException | RuntimeException e) {
            // No code source (a custom class loader): the working directory only.
        }
        for (Path start : starts) {
            for (Path dir = start; dir != null; dir = dir.getParent()) {
                if (Files.isExecutable(dir.resolve("sourcemesh")) && Files.isDirectory(dir.resolve("sourcemesh-cli"))) {
                    return Optional.of(dir);
                }
            }
        }
        return Optional.empty();
    }
}
