package io.sourcemesh.cluster.netns;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
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

    private final Process process;
    private final String netns;
    private final Path log;

    private ProxyProcess(Process process, String netns, Path log) {
        this.process = process;
        this.netns = netns;
        this.log = log;
    }

    /**
     * Starts the proxy in {@code netns} and waits until its admin {@code /ready} (on 127.0.0.1:{@code
     * adminPort} inside the namespace) answers 200. {@code bootstrap} must be readable by uid 1337;
     * stdout and stderr (access logs included) go to {@code log}.
     */
    public static ProxyProcess start(String netns, Path bootstrap, int adminPort, Path log) {
        Path launcher = repoRoot().resolve("sourcemesh");
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", netns, "setpriv",
                "--reuid", String.valueOf(IstioIptables.PROXY_UID), "--regid", String.valueOf(IstioIptables.PROXY_GID),
                "--clear-groups", "--inh-caps", "+net_admin,+net_raw", "--ambient-caps", "+net_admin,+net_raw",
                launcher.toString(), "proxy", "-c", bootstrap.toAbsolutePath().toString(), "--concurrency", "1"));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        Map<String, String> env = pb.environment();
        // The launcher needs a JDK 25; the one running us is one. uid 1337 has no home: no perf-data files.
        env.put("JAVA_HOME", System.getProperty("java.home"));
        env.put("SOURCEMESH_JAVA_OPTS", ("-XX:-UsePerfData -XX:+UseSerialGC -Xmx128m " + env.getOrDefault("SOURCEMESH_JAVA_OPTS", "")).strip());
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new NetnsException("cannot start the proxy in " + netns + ": " + e.getMessage(), e);
        }
        ProxyProcess proxy = new ProxyProcess(p, netns, log);
        try {
            proxy.awaitReady(adminPort);
            return proxy;
        } catch (RuntimeException e) {
            proxy.close();
            throw e;
        }
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

    private void awaitReady(int adminPort) {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        List<String> probe = Shell.in(netns, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "1",
                "http://127.0.0.1:" + adminPort + "/ready");
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new NetnsException("the proxy in " + netns + " exited " + process.exitValue() + ":\n" + output());
            }
            if (Shell.run(probe).out().strip().equals("200")) {
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

    /** The checkout holding the {@code sourcemesh} launcher: the working directory or one above it. */
    static Path repoRoot() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            if (Files.isExecutable(dir.resolve("sourcemesh")) && Files.isDirectory(dir.resolve("sourcemesh-cli"))) {
                return dir;
            }
        }
        Shell.Result git = Shell.run(List.of("git", "rev-parse", "--show-toplevel"));
        if (git.ok() && !git.out().isBlank()) {
            return Path.of(git.out().strip());
        }
        throw new NetnsException("cannot find the sourcemesh launcher above " + Path.of("").toAbsolutePath() + File.separator);
    }
}
