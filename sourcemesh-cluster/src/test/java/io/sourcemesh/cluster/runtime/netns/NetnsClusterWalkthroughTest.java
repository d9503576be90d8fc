package io.sourcemesh.cluster.runtime.netns;

import io.sourcemesh.cluster.exec.ExecResult;
import io.sourcemesh.cluster.core.Cluster;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.controller.Workloads;
import io.sourcemesh.cluster.daemon.ClusterApi;
import io.sourcemesh.cluster.daemon.Home;
import io.sourcemesh.cluster.netns.NetnsSupport;
import io.sourcemesh.cluster.netns.Shell;
import io.sourcemesh.cluster.netns.Topology;
import io.sourcemesh.control.model.Pod;
import io.sourcemesh.control.model.ProxyIdentity;
import io.sourcemesh.control.xds.XdsStatus;
import io.sourcemesh.proxy.xds.TypeUrls;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * What only the netns runtime has, driven through {@link ClusterApi} with the seed's manifests:
 * exec into a pod's namespaces, kube-proxy's rules for an uninjected caller, containers restarted by
 * the kubelet, a NACKed push and names resolved from the pod's own /etc. The seed's east-west
 * walkthrough itself runs on both runtimes ({@code EastWestWalkthroughTest}).
 */
@ExtendWith(NetnsSupport.class)
class NetnsClusterWalkthroughTest {
    private static final Duration SETTLE = Duration.ofSeconds(90);

    @TempDir
    Path home;
    Cluster cluster;

    @BeforeEach
    void up() {
        cluster = NetnsRuntime.cluster(new Home(home), NetnsSupport.PREFIX, 2);
    }

    @AfterEach
    void down() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** The walkthrough itself runs on both runtimes ({@code EastWestWalkthroughTest}); what a pod's own /etc gives any program is netns-only. */
    @Test
    void serviceNamesResolveForAnyProgramInThePod() throws Exception {
        apply("sleep.yaml");
        apply("httpbin.yaml");
        assertEquals(originJson("127.0.0.6"), origin());
        serviceNamesResolve();
    }

    @Test
    void execRunsInThePodAndAnUninjectedPodReachesTheServiceThroughKubeProxy() throws Exception {
        apply("httpbin.yaml");
        Path plain = home.resolve("plain.yaml");
        Files.writeString(plain, """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: plain
                spec:
                  selector:
                    matchLabels:
                      app: plain
                  template:
                    metadata:
                      labels:
                        app: plain
                      annotations:
                        sidecar.istio.io/inject: "false"
                    spec:
                      containers:
                      - name: plain
                        image: curlimages/curl
                        command: ["/bin/sleep", "3650d"]
                """);
        apply(plain);
        KubeObject pod = running("plain");
        assertEquals(1, pod.spec().path("containers").size(), "not injected: " + pod.spec());
        ExecResult ip = cluster.exec("default", pod.name(), null, List.of("ip", "-4", "-o", "addr", "show", "eth0"));
        assertTrue(ip.stdout().contains(ip("plain") + "/"), ip.stdout());
        // No sidecar on the caller: kube-proxy's DNAT in the node, then httpbin's REDIRECT capture.
        ExecResult r = cluster.exec("default", pod.name(), null, List.of("curl", "-sS", "--max-time", "5", "http://httpbin:8000/ip"));
        assertEquals(0, r.exitCode(), r.stderr());
        assertEquals(originJson("127.0.0.6"), r.stdout());
        ExecResult missing = cluster.exec("default", pod.name(), null, List.of("no-such-program"));
        assertEquals(127, missing.exitCode(), missing.stderr());
        assertEquals("error: exec: \"no-such-program\": executable file not found in $PATH\ncommand terminated with exit code 127\n",
                missing.stderr());
        // exec -i: the bytes reach the command inside the pod's namespaces (through ip netns exec and the /etc wrapper), then EOF.
        byte[] binary = {0, 'a', (byte) 0xff, (byte) 0xc3, '(', 0, '\n'};
        ExecResult hex = cluster.exec("default", pod.name(), null, List.of("sh", "-c", "cat | od -An -v -tx1; hostname >&2; exit 4"), binary);
        assertEquals(new ExecResult(4, " 00 61 ff c3 28 00 0a\n", pod.name() + "\n"), hex);
        assertEquals(new ExecResult(0, "", ""), cluster.exec("default", pod.name(), null, List.of("cat")), "no stdin: empty");

        containersThatDieAreRestartedAndCounted();
    }

    /**
     * restartPolicy Always, as a kubelet does it: httpbin's app killed, then its sidecar killed — each
     * starts again at once (the first restart has no back-off), counted in restartCount with its last
     * termination, and the pod serves again.
     */
    private void containersThatDieAreRestartedAndCounted() throws Exception {
        KubeObject httpbin = running("httpbin");
        String netns = NetnsSupport.PREFIX + "p-" + NetnsRuntime.netnsName(httpbin);
        long app = -1;
        for (String pid : Shell.run(List.of("ip", "netns", "pids", netns)).orThrow().out().split("\\s+")) {
            if (!pid.isEmpty() && Files.exists(Path.of("/proc", pid, "cmdline"))
                    && Files.readString(Path.of("/proc", pid, "cmdline")).contains("HttpbinMain")) {
                app = Long.parseLong(pid);
            }
        }
        assertTrue(app > 0, "httpbin's app process in " + netns);
        Shell.run(List.of("kill", "-KILL", String.valueOf(app))).orThrow();
        JsonNode status = awaitContainer(httpbin.name(), "httpbin", 1);
        assertEquals(137, status.path("lastState").path("terminated").path("exitCode").asInt(), status.toString());
        assertEquals("Error", status.path("lastState").path("terminated").path("reason").asText(), status.toString());
        assertEquals(originJson("127.0.0.6"), curlFromPlain());

        long sidecar = sidecarPid("httpbin");
        Shell.run(List.of("kill", "-KILL", String.valueOf(sidecar))).orThrow();
        awaitContainer(httpbin.name(), "istio-proxy", 1);
        assertNotEquals(sidecar, sidecarPid("httpbin"), "a new sidecar process");
        assertEquals(originJson("127.0.0.6"), curlFromPlain());
    }

    /** Waits until the container restarted {@code restarts} times and is ready again; its status then. */
    private JsonNode awaitContainer(String pod, String container, int restarts) throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        JsonNode last = null;
        while (System.currentTimeMillis() < deadline) {
            KubeObject p = cluster.get(ResourceKind.POD, "default", pod).orElseThrow();
            for (JsonNode cs : p.status().path("containerStatuses")) {
                if (cs.path("name").asText().equals(container)) {
                    last = cs;
                }
            }
            if (last != null && last.path("restartCount").asInt() == restarts && last.path("ready").asBoolean()
                    && p.status().path("conditions").toString().contains("{\"type\":\"Ready\",\"status\":\"True\"")) {
                return last;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("container " + container + " of " + pod + " not restarted " + restarts + " time(s) and ready: " + last);
    }

    private String curlFromPlain() {
        KubeObject plain = running("plain");
        ExecResult r = cluster.exec("default", plain.name(), null, List.of("curl", "-sS", "--max-time", "5", "http://httpbin:8000/ip"));
        assertEquals(0, r.exitCode(), r.stderr());
        return r.stdout();
    }

    /**
     * The pod's own /etc/hosts names every service (there is no cluster DNS): getent, curl without
     * any CURL_HOME, the running container after a new service; an unknown name fails at once; the
     * pod's hostname is its name; the machine's /etc/hosts, hostname and mount table stay as they were.
     */
    private void serviceNamesResolve() throws Exception {
        byte[] machineHosts = Files.readAllBytes(Path.of("/etc/hosts"));
        String machineName = Files.readString(Path.of("/proc/sys/kernel/hostname"));
        String mounts = mountinfo();
        String sleep = running("sleep").name();
        String vip = cluster.get(ResourceKind.SERVICE, "default", "httpbin").orElseThrow().spec().path("clusterIP").asText();
        assertTrue(vip.startsWith("10.96.0."), vip);
        for (String name : List.of("httpbin", "httpbin.default", "httpbin.default.svc.cluster.local")) {
            ExecResult r = cluster.exec("default", sleep, "sleep", List.of("getent", "hosts", name));
            assertEquals(0, r.exitCode(), name + ": " + r.stderr());
            assertEquals(vip, r.stdout().split("\\s+")[0], r.stdout());
        }
        assertEquals(sleep + "\n", cluster.exec("default", sleep, "sleep", List.of("hostname")).stdout(), "the pod's name, as in Kubernetes");
        ExecResult self = cluster.exec("default", sleep, "sleep", List.of("sh", "-c", "getent hosts \"$(hostname)\""));
        assertEquals(ip("sleep"), self.stdout().split("\\s+")[0], self.stderr());
        ExecResult env = cluster.exec("default", sleep, "sleep", List.of("sh", "-c", "echo ${CURL_HOME-unset}"));
        assertEquals("unset\n", env.stdout());
        ExecResult curl = cluster.exec("default", sleep, "sleep", List.of("curl", "-s", "--max-time", "10", "http://httpbin:8000/ip"));
        assertEquals(0, curl.exitCode(), curl.stderr());
        assertEquals(originJson("127.0.0.6"), curl.stdout());

        long start = System.nanoTime();
        ExecResult unknown = cluster.exec("default", sleep, "sleep", List.of("getent", "hosts", "no-such-service"));
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertEquals(2, unknown.exitCode(), "getent: not found " + unknown.stdout());
        ExecResult curlUnknown = cluster.exec("default", sleep, "sleep", List.of("curl", "-sS", "http://no-such-service/"));
        assertEquals(6, curlUnknown.exitCode(), "curl: could not resolve host " + curlUnknown.stderr());
        assertTrue(millis < 3000, "an unknown name fails at once, not after DNS timeouts: " + millis + " ms");

        // A new service: exec sees it, and so does the container already running (its hosts file is rewritten in place).
        Path extra = home.resolve("extra-svc.yaml");
        Files.writeString(extra, """
                apiVersion: v1
                kind: Service
                metadata:
                  name: extra
                spec:
                  selector:
                    app: nothing
                  ports:
                  - port: 80
                """);
        apply(extra);
        String extraVip = cluster.get(ResourceKind.SERVICE, "default", "extra").orElseThrow().spec().path("clusterIP").asText();
        String seen = Files.readString(containerFile("/etc/hosts", "sleep", "infinity"));
        assertTrue(seen.contains(extraVip + "\textra extra.default extra.default.svc extra.default.svc.cluster.local\n"), seen);
        assertEquals(extraVip, cluster.exec("default", sleep, "sleep", List.of("getent", "hosts", "extra.default.svc")).stdout().split("\\s+")[0]);
        cluster.delete(ResourceKind.SERVICE, "default", "extra");

        assertArrayEquals(machineHosts, Files.readAllBytes(Path.of("/etc/hosts")), "the machine's /etc/hosts is untouched");
        assertEquals(machineName, Files.readString(Path.of("/proc/sys/kernel/hostname")), "the machine keeps its hostname");
        assertEquals(mounts, mountinfo(), "no mount left on the machine");
    }

    /** {@code file} as the running process with command line {@code argv} sees it: /proc/PID/root is its mount namespace. */
    private Path containerFile(String file, String... argv) throws Exception {
        String cmdline = String.join("\0", argv) + "\0";
        for (String ns : cluster.runtime(NetnsRuntime.class).namespaces()) {
            for (long pid : Topology.pids(ns)) {
                Path proc = Path.of("/proc", String.valueOf(pid));
                if (cmdline.equals(new String(Files.readAllBytes(proc.resolve("cmdline"))))) {
                    return Path.of(proc.resolve("root") + file);
                }
            }
        }
        throw new AssertionError("no process " + List.of(argv));
    }

    /** The machine's mount table without the network namespaces' own entries (pods come and go). */
    private static String mountinfo() throws Exception {
        return String.join("\n", Files.readAllLines(Path.of("/proc/self/mountinfo")).stream().filter(l -> !l.contains(" /run/netns")).toList());
    }

    /**
     * An EnvoyFilter the control plane accepts and the proxy refuses (Lua): the sidecar NACKs the
     * push, keeps serving its last good config in the same process, and the pod stays ready; once the
     * filter is gone, the next push is ACKed.
     */
    @Test
    void aRefusedPushIsNackedAndTheSidecarKeepsServing() throws Exception {
        apply("sleep.yaml");
        apply("httpbin.yaml");
        assertEquals(originJson("127.0.0.6"), origin());
        long sidecar = sidecarPid("httpbin");
        String node = nodeId("httpbin");
        XdsStatus.Ack good = cluster.xds().lastAck(node, TypeUrls.LISTENER).orElseThrow();

        Path lua = home.resolve("lua.yaml");
        Files.writeString(lua, """
                apiVersion: networking.istio.io/v1alpha3
                kind: EnvoyFilter
                metadata:
                  name: httpbin-lua
                  namespace: default
                spec:
                  workloadSelector:
                    labels:
                      app: httpbin
                  configPatches:
                  - applyTo: HTTP_FILTER
                    match:
                      context: SIDECAR_INBOUND
                      listener:
                        filterChain:
                          filter:
                            name: envoy.filters.network.http_connection_manager
                            subFilter:
                              name: envoy.filters.http.router
                    patch:
                      operation: INSERT_BEFORE
                      value:
                        name: envoy.filters.http.lua
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua
                          inline_code: |
                            function envoy_on_response(handle) handle:headers():add("x-lua", "1") end
                """);
        // The control plane applies the patch; the sidecar refuses it, and apply says so.
        List<String> warnings = apply(lua);
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).startsWith("EnvoyFilter default/httpbin-lua was rejected by proxy httpbin-")
                && warnings.get(0).contains("envoy.filters.http.lua is not supported (it keeps its last good config)"), warnings.get(0));
        XdsStatus status = cluster.xds().status(node, TypeUrls.LISTENER).orElseThrow();
        XdsStatus.Nack nack = assertInstanceOf(XdsStatus.Nack.class, status);
        assertEquals(good.version(), nack.version(), "the sidecar keeps its last good listeners");
        assertTrue(nack.message().contains("envoy.filters.http.lua is not supported"), nack.message());
        assertEquals(originJson("127.0.0.6"), origin(), "and serves them");
        assertEquals(sidecar, sidecarPid("httpbin"), "in the same process");
        assertTrue(Workloads.ready(running("httpbin")), "still Ready");

        cluster.delete(ResourceKind.ENVOY_FILTER, "default", "httpbin-lua");
        long deadline = System.nanoTime() + SETTLE.toNanos();
        while (!(cluster.xds().status(node, TypeUrls.LISTENER).orElseThrow() instanceof XdsStatus.Ack) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(Optional.of(good), cluster.xds().status(node, TypeUrls.LISTENER), "the filter gone, the old config is ACKed again");
        assertEquals(sidecar, sidecarPid("httpbin"));
    }

    private List<String> apply(String file) throws Exception {
        return apply(seed(file));
    }

    private List<String> apply(Path file) throws Exception {
        ClusterApi.ApplyResponse r = cluster.apply(ManifestReader.read(file));
        assertTrue(cluster.awaitSettled(SETTLE), "pods settle");
        return r.warnings();
    }

    private static Path seed(String file) {
        return Path.of("src/test/resources/seed/" + file);
    }

    private KubeObject running(String app) {
        return cluster.list(ResourceKind.POD, "default", "app=" + app).stream()
                .filter(p -> p.status().path("phase").asText().equals("Running")).findFirst().orElseThrow();
    }

    private String ip(String app) {
        return running(app).status().path("podIP").asText();
    }

    private String origin() {
        ExecResult r = cluster.exec("default", running("sleep").name(), "sleep",
                List.of("curl", "-sS", "--max-time", "10", "http://httpbin:8000/ip"));
        assertEquals(0, r.exitCode(), () -> r.stderr() + diagnostics());
        return r.stdout();
    }

    /** Where the pods run and what the sleep pod's neighbour table and sidecar say, to tell why a request failed. */
    private String diagnostics() {
        StringBuilder out = new StringBuilder("\npods:");
        for (KubeObject p : cluster.list(ResourceKind.POD, null, null)) {
            out.append("\n  ").append(p.namespace()).append('/').append(p.name()).append(' ').append(p.spec().path("nodeName").asText())
                    .append(' ').append(p.status().path("podIP").asText()).append(' ').append(p.status().path("phase").asText());
        }
        String sleep = running("sleep").name();
        out.append("\nsleep's neighbours:\n").append(cluster.exec("default", sleep, "sleep", List.of("ip", "neigh")).stdout());
        List<String> lines = new ArrayList<>();
        cluster.logs("default", sleep, "istio-proxy", false, 5, lines::add);
        return out.append("sleep's sidecar:\n").append(String.join("\n", lines)).toString();
    }

    private static String originJson(String ip) {
        return "{\n  \"origin\": \"" + ip + "\"\n}\n";
    }

    /**
     * The one uid-1337 process in the pod's network namespace ({@code ip netns pids}): its sidecar,
     * the same process the kubelet started.
     */
    private long sidecarPid(String app) throws Exception {
        KubeObject pod = running(app);
        String netns = NetnsSupport.PREFIX + "p-" + NetnsRuntime.netnsName(pod);
        List<Long> proxies = new ArrayList<>();
        for (String pid : Shell.run(List.of("ip", "netns", "pids", netns)).orThrow().out().split("\\s+")) {
            Path status = Path.of("/proc", pid, "status");
            if (!pid.isEmpty() && Files.exists(status)
                    && Files.readAllLines(status).stream().anyMatch(l -> l.matches("Uid:\\s+1337\\s.*"))) {
                proxies.add(Long.parseLong(pid));
            }
        }
        assertEquals(1, proxies.size(), "one sidecar in " + netns + ": " + proxies);
        assertEquals(OptionalLong.of(proxies.getFirst()), NetnsRuntime.sidecarPid(cluster, "default", pod.name()));
        return proxies.getFirst();
    }

    private String nodeId(String app) {
        return ProxyIdentity.sidecar(Pod.of(running(app).node())).nodeId("cluster.local");
    }
}
