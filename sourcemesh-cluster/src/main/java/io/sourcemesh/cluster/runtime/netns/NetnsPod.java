package io.sourcemesh.cluster.runtime.netns;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.cluster.apps.BuiltinApp;
import io.sourcemesh.cluster.core.RunningPod;
import io.sourcemesh.cluster.kubelet.BackOff;
import io.sourcemesh.cluster.kubelet.ContainerLife;
import io.sourcemesh.cluster.kubelet.ContainerProbes;
import io.sourcemesh.cluster.kubelet.Prober;
import io.sourcemesh.cluster.exec.ExecProcess;
import io.sourcemesh.cluster.kubelet.RestartPolicy;
import io.sourcemesh.cluster.apps.ContainerImages;
import io.sourcemesh.cluster.apps.HttpbinMain;
import io.sourcemesh.cluster.netns.IstioIptables;
import io.sourcemesh.cluster.netns.NetnsException;
import io.sourcemesh.cluster.netns.ProxyProcess;
import io.sourcemesh.cluster.netns.Shell;
import io.sourcemesh.cluster.netns.Topology;
import io.sourcemesh.control.model.InterceptionMode;
import io.sourcemesh.control.model.Locality;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * A pod of the netns runtime: its own network namespace with istio-init's rules, one real process per
 * app container started inside it, and the sidecar ({@link ProxyProcess}) started once from a small
 * bootstrap ({@link SidecarBootstrap}) and fed over ADS by the control plane from then on. Each
 * container writes its own log file.
 * <p>Over 400 lines: the pod's life (namespace, rules, containers with back-off, sidecar, teardown on a
 * failed start) is one sequence whose clean-up order has to be read together.
 */
final class NetnsPod implements RunningPod {
    static final String PROXY_CONTAINER = "istio-proxy";
    static final int ADMIN_PORT = 15000;
    private static final Duration APP_READY_TIMEOUT = Duration.ofSeconds(20);

    private final KubeObject pod;
    private final Topology.Pod netns;
    private final PodEtc etc;
    private final Map<String, Path> logs = new LinkedHashMap<>();
    private final Map<String, App> apps = new LinkedHashMap<>();
    private final Instant startedAt = Instant.now();
    private final Consumer<Duration> wake;
    private final ContainerLife sidecarLife;
    private final Prober prober;
    private ProxyProcess sidecar;
    private volatile BooleanSupplier sidecarConfigured = () -> false;

    /** An app container: its spec and log, its current process, and its life as the kubelet reports it. */
    private static final class App {
        final JsonNode spec;
        final Path log;
        final ContainerLife life;
        Process process;
        /** The probes of the current run. */
        volatile ContainerProbes probes;
        /** A startup or liveness probe asked for a restart; the kubelet's thread does it. */
        volatile boolean killRequested;

        App(JsonNode spec, Path log, ContainerLife life) {
            this.spec = spec;
            this.log = log;
            this.life = life;
        }

        boolean alive() {
            return process != null && process.isAlive();
        }

        /** Running and past its startup probe, if it has one. */
        boolean started() {
            return alive() && (probes == null || probes.started());
        }

        /** Started and its readiness probe, if any, passed. */
        boolean ready() {
            return started() && (probes == null || probes.ready());
        }

        void stopProbes() {
            ContainerProbes p = probes;
            if (p != null) {
                p.close();
            }
        }
    }

    private NetnsPod(KubeObject pod, Topology.Pod netns, PodEtc etc, Consumer<Duration> wake, Path execDir) {
        this.pod = pod;
        this.netns = netns;
        this.etc = etc;
        this.wake = wake;
        this.sidecarLife = life();
        // exec probes run as `kubectl exec` into the pod does
        this.prober = new NetnsProber(netns.netns(), netns.ip(), command -> NetnsExec.start(netns.netns(), pod.name(), etc, execDir,
                command, new ExecProcess.Mode(false, false)));
    }

    private ContainerLife life() {
        return new ContainerLife(RestartPolicy.of(pod), BackOff.KUBELET);
    }

    /**
     * istio-init's rules first (when injected, not for a gateway), then every app container; the
     * sidecar comes once its first config is published ({@link #startSidecar}). The pod's /etc files
     * ({@link PodEtc}) go into {@code etcDir}, naming {@code services}. On failure the namespace is removed again.
     * {@code wake} asks the kubelet to look again after a delay: at once when a container exits, or when
     * its back-off ends, or a probe's verdict changes. Exec probes work in {@code execDir}.
     */
    static NetnsPod start(KubeObject pod, Topology topology, String podName, String node, Path logsDir, Path etcDir,
            List<PodEtc.Service> services, Consumer<Duration> wake, Path execDir) {
        Topology.Pod ns = topology.addPod(podName, node);
        PodEtc etc;
        try {
            etc = PodEtc.create(etcDir.resolve(podName), pod.namespace(), pod.name(), ns.ip(), services);
        } catch (RuntimeException e) {
            topology.removePod(ns.name());
            throw e;
        }
        NetnsPod p = new NetnsPod(pod, ns, etc, wake, execDir);
        try {
            if (p.injected() && !p.gateway()) {
                IstioIptables.of(p.iptablesMode()).applyIn(ns.netns());
            }
            for (JsonNode c : pod.spec().path("containers")) {
                String name = c.path("name").asText();
                Path log = logsDir.resolve(pod.namespace() + "_" + pod.name() + "_" + name + ".log");
                Files.createDirectories(logsDir);
                Files.deleteIfExists(log);
                Files.createFile(log);
                p.logs.put(name, log);
                if (!name.equals(PROXY_CONTAINER)) {
                    App app = new App(c, log, p.life());
                    p.apps.put(name, app);
                    p.startApp(app);
                }
            }
            return p;
        } catch (IOException e) {
            p.closeQuietly(topology);
            throw new NetnsException("cannot start pod " + pod.name() + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            p.closeQuietly(topology);
            throw e;
        }
    }

    private void startApp(App app) {
        JsonNode container = app.spec;
        Path log = app.log;
        List<String> command = new ArrayList<>();
        container.path("command").forEach(n -> command.add(n.asText()));
        container.path("args").forEach(n -> command.add(n.asText()));
        BuiltinApp image = ContainerImages.resolve(container.path("image").asText(), command);
        List<String> exec = new ArrayList<>();
        int port = 0;
        switch (image) {
            case HTTPBIN -> {
                port = 8000;
                for (JsonNode p : container.path("ports")) {
                    port = p.path("containerPort").asInt(port);
                    break;
                }
                exec.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-XX:-UsePerfData",
                        "-XX:+UseSerialGC", "-Xmx64m", "-cp", System.getProperty("java.class.path"), HttpbinMain.class.getName(),
                        String.valueOf(port)));
            }
            // The container's own sleep: something alive in the pod, as in the seed's curl image.
            case SLEEP -> exec.addAll(List.of("sleep", "infinity"));
        }
        Process p;
        try {
            ProcessBuilder pb = new ProcessBuilder(Shell.in(netns.netns(), etc.wrap(exec).toArray(String[]::new)));
            PodEtc.dropHostProxy(pb.environment());
            p = pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        } catch (IOException e) {
            throw new NetnsException("cannot start " + container.path("name").asText() + " in " + netns.netns() + ": " + e.getMessage(), e);
        }
        app.process = p;
        app.life.started(Instant.now());
        app.killRequested = false;
        app.stopProbes();
        app.probes = ContainerProbes.start(container, prober, () -> wake.accept(Duration.ZERO), () -> {
            app.killRequested = true;
            wake.accept(Duration.ZERO);
        });
        p.onExit().thenRun(() -> wake.accept(Duration.ZERO));
        if (port > 0) {
            awaitListening(p, port, log);
        }
    }

    /**
     * The kubelet's restart policy: an app container that exited starts again (always, or on failure only), at once
     * the first time, then after its back-off. True when it started one.
     */
    @Override
    public boolean restartExited() {
        boolean changed = false;
        Instant now = Instant.now();
        for (App app : apps.values()) {
            if (app.killRequested && app.alive()) {
                kill(app);
                changed = true;
            }
        }
        noteExits(now);
        for (App app : apps.values()) {
            if (app.alive()) {
                continue;
            }
            if (app.life.restartAt().isEmpty()) {
                continue; // its policy keeps it down
            }
            Instant at = app.life.restartAt().get();
            if (now.isBefore(at)) {
                wake.accept(Duration.between(now, at));
                continue;
            }
            try {
                startApp(app);
            } catch (NetnsException e) {
                // It died again before it listened: its exit wakes the kubelet, and the back-off grows.
            }
            changed = true;
        }
        return changed;
    }

    /**
     * A failed liveness or startup probe: the kubelet stops the container (SIGTERM, SIGKILL after a grace of 3 s) and
     * its exit is then handled as any other, per restartPolicy.
     */
    private void kill(App app) {
        app.stopProbes();
        try {
            Files.writeString(app.log, "[" + Instant.now() + "] killed by the kubelet: " + app.probes.lastFailure() + "\n",
                    java.nio.file.StandardOpenOption.APPEND);
        } catch (IOException e) {
            // the log is the user's view; the restart still happens
        }
        app.process.destroy();
        try {
            if (!app.process.waitFor(3, TimeUnit.SECONDS)) {
                app.process.destroyForcibly().waitFor(3, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            app.process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /** Waits until the app listens, so the pod is not reported ready before it can answer. */
    private void awaitListening(Process p, int port, Path log) {
        long deadline = System.nanoTime() + APP_READY_TIMEOUT.toNanos();
        List<String> probe = Shell.in(netns.netns(), "ss", "-Htln", "sport", "=", ":" + port);
        while (System.nanoTime() < deadline) {
            if (!p.isAlive()) {
                throw new NetnsException("the app in " + netns.netns() + " exited " + p.exitValue() + ":\n" + read(log));
            }
            if (!Shell.run(probe).out().isBlank()) {
                return;
            }
            sleep(100);
        }
        throw new NetnsException("the app in " + netns.netns() + " did not listen on " + port + " in " + APP_READY_TIMEOUT.toSeconds() + " s");
    }

    /**
     * Starts the sidecar when it is not running: its bootstrap ({@link SidecarBootstrap}, ADS over the
     * unix socket {@code xdsSocket}) written to {@code configDir}, then the proxy process, once. Every
     * later config is a push on its ADS stream, never a restart; only a sidecar that died is started
     * again. {@code configured} says whether it ACKed its first config (the pod is ready then); {@code locality} is the
     * bootstrap node's. True when it started one.
     */
    boolean startSidecar(String nodeId, Locality locality, Path configDir, Path xdsSocket, BooleanSupplier configured) {
        if (sidecarRunning()) {
            return false;
        }
        if (sidecar != null) {
            Instant now = Instant.now();
            noteExits(now);
            if (sidecarLife.restartAt().isEmpty()) {
                return false; // its policy keeps it down
            }
            Instant at = sidecarLife.restartAt().get();
            if (now.isBefore(at)) {
                wake.accept(Duration.between(now, at));
                return false;
            }
        }
        try {
            Files.createDirectories(configDir);
            Path file = configDir.resolve(pod.namespace() + "_" + pod.name() + ".json");
            Files.writeString(file, SidecarBootstrap.json(nodeId, pod, interceptionMode(), xdsSocket, locality));
            // uid 1337 reads it.
            file.toFile().setReadable(true, false);
            if (sidecar != null) {
                sidecar.close();
                sidecar = null;
            }
            sidecarConfigured = configured;
            sidecar = ProxyProcess.startLive(netns.netns(), file, ADMIN_PORT, logs.get(PROXY_CONTAINER));
            sidecarLife.started(Instant.now());
            sidecar.onExit().thenRun(() -> wake.accept(Duration.ZERO));
            return true;
        } catch (IOException e) {
            throw new NetnsException("cannot write the sidecar bootstrap of " + pod.name() + ": " + e.getMessage(), e);
        }
    }

    boolean sidecarRunning() {
        return sidecar != null && sidecar.alive();
    }

    /** The sidecar process's PID, while it runs. */
    OptionalLong sidecarPid() {
        return sidecarRunning() ? OptionalLong.of(sidecar.pid()) : OptionalLong.empty();
    }

    @Override
    public KubeObject pod() {
        return pod;
    }

    Topology.Pod netns() {
        return netns;
    }

    /** The pod's /etc/hosts, resolv.conf and nsswitch.conf, shared by its containers and exec. */
    PodEtc etc() {
        return etc;
    }

    @Override
    public String ip() {
        return netns.ip();
    }

    @Override
    public String node() {
        return netns.node();
    }

    @Override
    public Map<String, Path> logs() {
        return logs;
    }

    @Override
    public boolean injected() {
        for (JsonNode c : pod.spec().path("containers")) {
            if (c.path("name").asText().equals(PROXY_CONTAINER)) {
                return true;
            }
        }
        return false;
    }

    InterceptionMode interceptionMode() {
        String mode = pod.annotations().getOrDefault("sidecar.istio.io/interceptionMode", "REDIRECT");
        return mode.equals("TPROXY") ? InterceptionMode.TPROXY : InterceptionMode.REDIRECT;
    }

    private IstioIptables.Mode iptablesMode() {
        return interceptionMode() == InterceptionMode.TPROXY ? IstioIptables.Mode.TPROXY : IstioIptables.Mode.REDIRECT;
    }

    /** Records how the processes that ended since the last look ended (once per run). */
    private void noteExits(Instant now) {
        for (App app : apps.values()) {
            if (app.process != null && !app.process.isAlive()) {
                app.life.exited(app.process.exitValue(), now);
            }
        }
        if (sidecar != null && !sidecar.alive()) {
            sidecarLife.exited(sidecar.exitValue(), now);
        }
    }

    /** Ready when every app runs and, if injected, the sidecar runs and ACKed its first config. */
    @Override
    public boolean ready() {
        return apps.values().stream().allMatch(App::ready) && (!injected() || sidecarReady());
    }

    private boolean sidecarReady() {
        return sidecarRunning() && sidecarConfigured.getAsBoolean();
    }

    /** The status a kubelet reports: Running with the pod's address; containers ready as they are. */
    @Override
    public ObjectNode status(String hostIp) {
        boolean ready = ready();
        ObjectNode s = JsonNodeFactory.instance.objectNode();
        noteExits(Instant.now());
        List<ContainerLife> lives = new ArrayList<>(apps.values().stream().map(a -> a.life).toList());
        if (injected()) {
            lives.add(sidecarLife);
        }
        s.put("phase", ContainerLife.phase(lives));
        s.put("hostIP", hostIp);
        s.put("podIP", ip());
        s.putArray("podIPs").addObject().put("ip", ip());
        s.put("startTime", startedAt.toString());
        ArrayNode conditions = s.putArray("conditions");
        for (String type : List.of("Initialized", "Ready", "ContainersReady", "PodScheduled")) {
            boolean ok = ready || type.equals("Initialized") || type.equals("PodScheduled");
            conditions.addObject().put("type", type).put("status", ok ? "True" : "False").put("lastTransitionTime", startedAt.toString());
        }
        ArrayNode statuses = s.putArray("containerStatuses");
        Instant now = Instant.now();
        noteExits(now);
        for (JsonNode c : pod.spec().path("containers")) {
            String name = c.path("name").asText();
            boolean proxy = name.equals(PROXY_CONTAINER);
            App app = apps.get(name);
            boolean up = proxy ? sidecarReady() : app != null && app.ready();
            ObjectNode cs = statuses.addObject();
            cs.put("name", name);
            cs.put("image", c.path("image").asText());
            cs.put("ready", up);
            cs.put("started", proxy ? sidecarRunning() : app != null && app.started());
            if (proxy ? sidecar == null : app == null) {
                // Not started yet: the sidecar comes with its first config.
                cs.put("restartCount", 0);
                cs.putObject("state").putObject("waiting").put("reason", "ContainerCreating");
            } else {
                (proxy ? sidecarLife : app.life).write(cs, name, now);
            }
        }
        return s;
    }

    /** The sidecar's admin /config_dump, read inside the pod. */
    @Override
    public String configDump() {
        return admin("GET", "/config_dump");
    }

    /**
     * One request to the sidecar's admin listener, from inside the pod (it listens on the pod's 127.0.0.1). A sidecar
     * JVM's first /config_dump on a busy 2-core machine took over 5 s (a CI run failed on it), so it gets 30.
     */
    @Override
    public String admin(String method, String pathAndQuery) {
        Shell.Result r = Shell.run(Shell.in(netns.netns(), "curl", "-sS", "--max-time", "30", "-X", method,
                "http://127.0.0.1:" + ADMIN_PORT + pathAndQuery));
        return r.orThrow().out();
    }

    /** Stops the sidecar and the apps (PIDs we started), then removes the namespace. */
    void close(Topology topology) {
        if (sidecar != null) {
            sidecar.close();
        }
        apps.values().forEach(App::stopProbes);
        List<Process> processes = apps.values().stream().map(a -> a.process).filter(Objects::nonNull).toList();
        for (Process p : processes) {
            p.destroy();
        }
        for (Process p : processes) {
            try {
                if (!p.waitFor(3, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        etc.delete();
        topology.removePod(netns.name());
    }

    private void closeQuietly(Topology topology) {
        try {
            close(topology);
        } catch (RuntimeException e) {
            // the topology's close sweeps what is left
        }
    }

    private static String read(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "";
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new NetnsException("interrupted", e);
        }
    }
}
