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
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A pod running on the embedded runtime: its address, one running program per container (a
 * built-in app, or the sidecar proxy for istio-proxy) and one log per container.
 */
public final class PodRuntime implements AutoCloseable {
    public static final String PROXY_CONTAINER = "istio-proxy";

    private final KubeObject pod;
    private final InetAddress ip;
    private final String node;
    private final Map<String, AutoCloseable> containers = new LinkedHashMap<>();
    private final Map<String, ContainerLog> logs = new LinkedHashMap<>();
    private final Instant startedAt = Instant.now();
    private Sidecar sidecar;

    private PodRuntime(KubeObject pod, InetAddress ip, String node) {
        this.pod = pod;
        this.ip = ip;
        this.node = node;
    }

    /**
     * Starts every container of {@code pod}. An image we cannot run fails the whole pod with the
     * message naming it (what `get pods` then shows as the reason).
     */
    public static PodRuntime start(KubeObject pod, InetAddress ip, String nodeName, KubeletEnv env, boolean gateway) {
        PodRuntime p = new PodRuntime(pod, ip, nodeName);
        try {
            for (JsonNode c : pod.spec().path("containers")) {
                String name = c.path("name").asText();
                ContainerLog log = new ContainerLog(env.logsDir().resolve(pod.namespace() + "_" + pod.name() + "_" + name + ".log"));
                p.logs.put(name, log);
                if (name.equals(PROXY_CONTAINER)) {
                    continue; // started last, once the apps listen
                }
                p.containers.put(name, startApp(c, ip, log, env));
            }
            if (p.logs.containsKey(PROXY_CONTAINER)) {
                ObjectNode withIp = pod.node();
                ((ObjectNode) withIp.with("status")).put("podIP", ip.getHostAddress()).put("phase", "Running");
                Pod model = Pod.of(withIp);
                ProxyIdentity identity = gateway ? ProxyIdentity.router(model) : ProxyIdentity.sidecar(model);
                p.sidecar = Sidecar.start(identity, identity.nodeId("cluster.local"), ip, env, p.logs.get(PROXY_CONTAINER));
                p.containers.put(PROXY_CONTAINER, p.sidecar);
            }
            return p;
        } catch (RuntimeException e) {
            p.close();
            throw e;
        }
    }

    private static AutoCloseable startApp(JsonNode container, InetAddress ip, ContainerLog log, KubeletEnv env) {
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
        return sidecar != null;
    }

    public Sidecar sidecar() {
        return sidecar;
    }

    public Map<String, ContainerLog> logs() {
        return logs;
    }

    /** The status a kubelet reports for this pod: Running, its IP, every container ready. */
    public ObjectNode status(String hostIp) {
        ObjectNode s = JsonNodeFactory.instance.objectNode();
        s.put("phase", "Running");
        s.put("hostIP", hostIp);
        s.put("podIP", ip.getHostAddress());
        s.putArray("podIPs").addObject().put("ip", ip.getHostAddress());
        s.put("startTime", startedAt.toString());
        ArrayNode conditions = s.putArray("conditions");
        for (String type : List.of("Initialized", "Ready", "ContainersReady", "PodScheduled")) {
            conditions.addObject().put("type", type).put("status", "True").put("lastTransitionTime", startedAt.toString());
        }
        ArrayNode statuses = s.putArray("containerStatuses");
        for (JsonNode c : pod.spec().path("containers")) {
            ObjectNode cs = statuses.addObject();
            cs.put("name", c.path("name").asText());
            cs.put("image", c.path("image").asText());
            cs.put("ready", true);
            cs.put("restartCount", 0);
            cs.put("started", true);
            cs.putObject("state").putObject("running").put("startedAt", startedAt.toString());
        }
        return s;
    }

    @Override
    public void close() {
        List<String> names = new ArrayList<>(containers.keySet());
        Collections.reverse(names);
        for (String name : names) {
            try {
                containers.get(name).close();
            } catch (Exception e) {
                // stopping: nothing else to do
            }
        }
        logs.values().forEach(ContainerLog::close);
    }
}
