package io.sourcemesh.cluster.runtime.embedded;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.cluster.core.RunningPod;
import io.sourcemesh.cluster.kubelet.PodRuntime;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/** An embedded pod as the cluster sees it: its in-process containers ({@link PodRuntime}) on a loopback address. */
final class EmbeddedPod implements RunningPod {
    private final PodRuntime containers;
    private final Map<String, Path> logs;
    private final Consumer<Duration> wake;

    EmbeddedPod(PodRuntime containers, Consumer<Duration> wake) {
        this.containers = containers;
        Map<String, Path> l = new LinkedHashMap<>();
        containers.logs().forEach((name, log) -> l.put(name, log.file()));
        this.logs = Collections.unmodifiableMap(l);
        this.wake = wake;
    }

    PodRuntime containers() {
        return containers;
    }

    InetAddress address() {
        return containers.ip();
    }

    @Override
    public KubeObject pod() {
        return containers.pod();
    }

    @Override
    public String node() {
        return containers.node();
    }

    @Override
    public String ip() {
        return containers.ip().getHostAddress();
    }

    @Override
    public boolean injected() {
        return containers.injected();
    }

    /** Whether its sidecar captures the pod's inbound traffic (a gateway's proxy does not). */
    boolean intercepted() {
        return injected() && !gateway();
    }

    @Override
    public boolean ready() {
        return containers.ready();
    }

    /** As its kubelet reports it; while the sidecar waits for its first config, looked at again soon. */
    @Override
    public ObjectNode status(String hostIp) {
        ObjectNode status = containers.status(hostIp);
        if (containers.awaitingConfig()) {
            wake.accept(Duration.ofMillis(100));
        }
        return status;
    }

    @Override
    public boolean restartExited() {
        return containers.restartExited();
    }

    @Override
    public Map<String, Path> logs() {
        return logs;
    }

    @Override
    public String configDump() {
        return containers.sidecar().configDump();
    }

    @Override
    public String admin(String method, String pathAndQuery) {
        return containers.sidecar().admin(method, pathAndQuery);
    }
}
