package io.sourcemesh.cluster.kubelet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.cluster.apps.BuiltinApp;
import io.sourcemesh.cluster.apps.ContainerImages;
import io.sourcemesh.cluster.apps.HttpbinApp;
import io.sourcemesh.cluster.apps.SleepApp;
import io.sourcemesh.control.model.Pod;
import io.sourcemesh.control.model.ProxyIdentity;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * A pod running on the embedded runtime: its address, one running program per container (a
 * built-in app, or the sidecar proxy for istio-proxy) and one log per container. As a kubelet, it
 * sees a container exit (a finite sleep ends, a proxy told {@code /quitquitquit}), and starts it
 * again as the pod's restartPolicy says, after the {@link BackOff}.
 */
public final class PodRuntime implements AutoCloseable {
    public static final String PROXY_CONTAINER = "istio-proxy";

    private final KubeObject pod;
    private final InetAddress ip;
    private final String node;
    private final KubeletEnv env;
    private final boolean gateway;
    private final Consumer<Duration> wake;
    private final Prober prober;
    private final Map<String, Container> containers = new LinkedHashMap<>();
    private final Map<String, ContainerLog> logs = new LinkedHashMap<>();
    private final Instant startedAt = Instant.now();
    private volatile boolean stopping;

    /** One container: its spec and log, its life as the kubelet reports it, and the program of its current run. */
    private static final class Container {
        final JsonNode spec;
        final ContainerLife life;
        volatile AutoCloseable program;
        /** The probes of the current run (none for the sidecar, and before the first run). */
        volatile ContainerProbes probes;
        /** A startup or liveness probe asked for a restart; the kubelet's thread does it. */
        volatile boolean killRequested;

        Container(JsonNode spec, ContainerLife life) {
            this.spec = spec;
            this.life = life;
        }

        String name() {
            return spec.path("name").asText();
        }
    }

    private PodRuntime(KubeObject pod, InetAddress ip, String node, KubeletEnv env, boolean gateway, Consumer<Duration> wake,
            Prober prober) {
        this.pod = pod;
        this.prober = prober;
        this.ip = ip;
        this.node = node;
        this.env = env;
        this.gateway = gateway;
        this.wake = wake;
    }

    /**
     * Starts every container of {@code pod}, the sidecar last, once the apps listen. An image we cannot run
     * fails the whole pod with the message naming it (what `get pods` then shows as the reason). {@code wake}
     * asks the kubelet to look again: at once when a container exits, a probe's verdict changes, or a back-off ends.
     * {@code prober} runs the containers' probes ({@link ContainerProbes}).
     */
    public static PodRuntime start(KubeObject pod, InetAddress ip, String nodeName, KubeletEnv env, boolean gateway,
            Consumer<Duration> wake, Prober prober) {
        PodRuntime p = new PodRuntime(pod, ip, nodeName, env, gateway, wake, prober);
        try {
            RestartPolicy policy = RestartPolicy.of(pod);
            for (JsonNode c : pod.spec().path("containers")) {
                String name = c.path("name").asText();
                p.logs.put(name, new ContainerLog(env.logsDir().resolve(pod.namespace() + "_" + pod.name() + "_" + name + ".log")));
                p.containers.put(name, new Container(c, new ContainerLife(policy, env.backOff())));
            }
            for (Container c : p.containers.values()) {
                if (!c.name().equals(PROXY_CONTAINER)) {
                    p.run(c);
                }
            }
            if (p.containers.containsKey(PROXY_CONTAINER)) {
                p.run(p.containers.get(PROXY_CONTAINER));
            }
            return p;
        } catch (RuntimeException e) {
            p.close();
            throw e;
        }
    }

    /** Starts one run of {@code c}; its exit is noted once and wakes the kubelet. */
    private void run(Container c) {
        AutoCloseable program;
        CompletionStage<Integer> exit;
        ContainerLog log = logs.get(c.name());
        if (c.name().equals(PROXY_CONTAINER)) {
            Sidecar sidecar = startSidecar(log);
            program = sidecar;
            exit = sidecar.exit();
        } else {
            program = startApp(c.spec, log);
            exit = program instanceof SleepApp s ? s.exit() : new CompletableFuture<>(); // a server runs until stopped
        }
        c.program = program;
        c.life.started(Instant.now());
        c.killRequested = false;
        if (!c.name().equals(PROXY_CONTAINER)) {
            c.probes = ContainerProbes.start(c.spec, prober, () -> wake.accept(Duration.ZERO), () -> {
                c.killRequested = true;
                wake.accept(Duration.ZERO);
            });
        }
        exit.thenAccept(code -> {
            if (stopping || c.program != program) {
                return; // the kubelet stopped it: not an exit of the container's own
            }
            c.life.exited(code, Instant.now());
            if (program instanceof Sidecar) {
                log.line(Sidecar.envoyLine("info", "exiting"));
            }
            wake.accept(Duration.ZERO);
        });
    }

    private Sidecar startSidecar(ContainerLog log) {
        ObjectNode withIp = pod.node();
        ((ObjectNode) withIp.with("status")).put("podIP", ip.getHostAddress()).put("phase", "Running");
        Pod model = Pod.of(withIp).onNode(env.nodeLabels().apply(node));
        ProxyIdentity identity = gateway ? ProxyIdentity.router(model) : ProxyIdentity.sidecar(model);
        return Sidecar.start(identity, identity.nodeId("cluster.local"), model.locality(), ip, env, log);
    }

    private AutoCloseable startApp(JsonNode container, ContainerLog log) {
        List<String> command = new ArrayList<>();
        container.path("command").forEach(n -> command.add(n.asText()));
        container.path("args").forEach(n -> command.add(n.asText()));
        BuiltinApp app = ContainerImages.resolve(container.path("image").asText(), command);
        return switch (app) {
            case HTTPBIN -> {
                int port = 8000;
                for (JsonNode p : container.path("ports")) {
                    port = p.path("containerPort").asInt(port);
                    break;
                }
                log.line("[" + Instant.now() + "] [1] [INFO] Listening at: http://" + ip.getHostAddress() + ":" + port);
                yield HttpbinApp.start(new InetSocketAddress(ip, port), env.transport().group(), log::line);
            }
            case SLEEP -> SleepApp.start(command);
        };
    }

    /**
     * Starts again each container that exited and whose policy restarts it, once its back-off is over (a
     * later one wakes the kubelet then). True when it started one. Called on the kubelet's thread only.
     */
    public boolean restartExited() {
        if (stopping) {
            return false;
        }
        boolean changed = false;
        Instant now = Instant.now();
        for (Container c : containers.values()) {
            if (c.killRequested && c.life.running()) {
                // A failed liveness or startup probe: the kubelet kills the container (SIGKILL's 137) and the restart
                // policy takes it from there, as for any exit.
                logs.get(c.name()).line("[" + now + "] killed by the kubelet: " + c.probes.lastFailure());
                stopProbes(c);
                c.life.exited(137, now);
                close(c.program);
                changed = true;
            }
            Optional<Instant> at = c.life.restartAt();
            if (at.isEmpty()) {
                continue; // running, or kept down by its policy
            }
            if (now.isBefore(at.get())) {
                wake.accept(Duration.between(now, at.get()));
                continue;
            }
            close(c.program);
            stopProbes(c);
            try {
                run(c);
            } catch (RuntimeException e) {
                // It failed as it started (its port taken, say): that run ended at once, with an error.
                logs.get(c.name()).line("[" + Instant.now() + "] start failed: " + e.getMessage());
                c.life.started(now);
                c.life.exited(1, now);
                wake.accept(Duration.ZERO);
            }
            changed = true;
        }
        return changed;
    }

    public KubeObject pod() {
        return pod;
    }

    public InetAddress ip() {
        return ip;
    }

    public String node() {
        return node;
    }

    public boolean injected() {
        return containers.containsKey(PROXY_CONTAINER);
    }

    /** The sidecar of the current run (null when the pod has none). */
    public Sidecar sidecar() {
        Container c = containers.get(PROXY_CONTAINER);
        return c == null ? null : (Sidecar) c.program;
    }

    /** Whether the sidecar runs but has no config yet (the pod becomes ready once it has). */
    public boolean awaitingConfig() {
        Container c = containers.get(PROXY_CONTAINER);
        return c != null && c.life.running() && !sidecar().configured();
    }

    public Map<String, ContainerLog> logs() {
        return logs;
    }

    /** Ready when every container runs and passed its startup and readiness probes, and the sidecar, if any, serves its first config. */
    public boolean ready() {
        return containers.values().stream().allMatch(this::ready);
    }

    /** Running, its startup and readiness probes passed (if it has them), and a sidecar configured. */
    private boolean ready(Container c) {
        return started(c) && (c.probes == null || c.probes.ready())
                && (!c.name().equals(PROXY_CONTAINER) || ((Sidecar) c.program).configured());
    }

    private static boolean started(Container c) {
        return c.life.running() && (c.probes == null || c.probes.started());
    }

    private static void stopProbes(Container c) {
        ContainerProbes p = c.probes;
        if (p != null) {
            p.close();
        }
    }

    /** The status a kubelet reports for this pod: its phase, its IP, each container as it runs (or waits, or ended). */
    public ObjectNode status(String hostIp) {
        ObjectNode s = JsonNodeFactory.instance.objectNode();
        s.put("phase", ContainerLife.phase(containers.values().stream().map(c -> c.life).toList()));
        s.put("hostIP", hostIp);
        s.put("podIP", ip.getHostAddress());
        s.putArray("podIPs").addObject().put("ip", ip.getHostAddress());
        s.put("startTime", startedAt.toString());
        boolean ready = ready();
        Instant now = Instant.now();
        ArrayNode conditions = s.putArray("conditions");
        for (String type : List.of("Initialized", "Ready", "ContainersReady", "PodScheduled")) {
            boolean ok = ready || type.equals("Initialized") || type.equals("PodScheduled");
            // now: the kubelet keeps the stored time while a condition's status stays (PodStatuses.merged)
            conditions.addObject().put("type", type).put("status", ok ? "True" : "False").put("lastTransitionTime", now.toString());
        }
        ArrayNode statuses = s.putArray("containerStatuses");
        for (Container c : containers.values()) {
            ObjectNode cs = statuses.addObject();
            cs.put("name", c.name());
            cs.put("image", c.spec.path("image").asText());
            cs.put("ready", ready(c));
            cs.put("started", started(c));
            c.life.write(cs, c.name(), now);
        }
        return s;
    }

    @Override
    public void close() {
        stopping = true;
        List<Container> order = new ArrayList<>(containers.values());
        Collections.reverse(order);
        for (Container c : order) {
            stopProbes(c);
            close(c.program);
        }
        logs.values().forEach(ContainerLog::close);
    }

    private static void close(AutoCloseable program) {
        if (program == null) {
            return;
        }
        try {
            program.close();
        } catch (Exception e) {
            // stopping: nothing else to do
        }
    }
}
