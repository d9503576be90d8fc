package io.sourcemesh.cluster.netns.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.patch.PatchType;
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
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The seed's east-west section on real network namespaces, driven through {@link ClusterApi} with
 * the seed's manifests: httpbin sees 127.0.0.6 (REDIRECT), then the sleep pod's address after the
 * TPROXY patch rolls the pod, then the address in X-Forwarded-For with the EnvoyFilter, pushed over
 * ADS to the same sidecar process. The app's socket is read with the real netstat inside the pod's
 * namespace.
 */
@ExtendWith(NetnsSupport.class)
class NetnsClusterWalkthroughTest {
    private static final Duration SETTLE = Duration.ofSeconds(90);

    @TempDir
    Path home;
    NetnsCluster cluster;

    @BeforeEach
    void up() {
        cluster = NetnsCluster.start(new Home(home), NetnsSupport.PREFIX, 2);
    }

    @AfterEach
    void down() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void defaultThenTproxyThenXffThenNothingLeft() throws Exception {
        apply("sleep.yaml");
        apply("httpbin.yaml");
        String sleepIp = ip("sleep");
        String httpbinIp = ip("httpbin");
        assertTrue(sleepIp.startsWith("172.17.") && httpbinIp.startsWith("172.17."), sleepIp + " " + httpbinIp);

        // Default (REDIRECT): the sidecar connects to the app from 127.0.0.6.
        assertEquals(originJson("127.0.0.6"), origin());
        assertPeer(httpbinIp, "127.0.0.6");
        JsonNode log = inboundLog(l -> l.path("upstream_host").asText().equals(httpbinIp + ":8000"));
        assertTrue(log.path("downstream_remote_address").asText().startsWith(sleepIp + ":"), log.toString());
        assertTrue(log.path("upstream_local_address").asText().startsWith("127.0.0.6:"), log.toString());

        // TPROXY: the patch rolls the pod into a new namespace with TPROXY rules; the socket carries sleep's address.
        rollHttpbin(Files.readString(seed("tproxy-patch.json")));
        String tproxyIp = ip("httpbin");
        assertEquals(originJson(sleepIp), origin());
        assertPeer(tproxyIp, sleepIp);
        log = inboundLog(l -> l.path("upstream_host").asText().equals(tproxyIp + ":8000"));
        assertTrue(log.path("upstream_local_address").asText().startsWith(sleepIp + ":"), log.toString());

        // Back to REDIRECT, then the XFF EnvoyFilter: the address travels in X-Forwarded-For.
        rollHttpbin("{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"sidecar.istio.io/interceptionMode\":null}}}}}");
        assertEquals(originJson("127.0.0.6"), origin());
        long sidecar = sidecarPid("httpbin");
        String version = listenersVersion("httpbin");
        assertEquals(List.of(), apply("enable-xff-for-sidecar-inbound.yaml"));
        assertEquals(originJson(sleepIp), origin());
        assertNotEquals(version, listenersVersion("httpbin"), "a new listener version was pushed");
        assertEquals(sidecar, sidecarPid("httpbin"), "over ADS to the running sidecar, not by restarting it");
        log = inboundLog(l -> l.path("x_forwarded_for").asText().equals(sleepIp));
        assertTrue(log.path("upstream_local_address").asText().startsWith("127.0.0.6:"), "the socket still says 127.0.0.6");
        assertPeer(ip("httpbin"), "127.0.0.6");

        List<String> namespaces = cluster.namespaces();
        cluster.close();
        cluster = null;
        List<String> left = Topology.list().stream().filter(namespaces::contains).toList();
        assertEquals(List.of(), left, "every namespace removed");
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
        ClusterApi.ExecResult ip = cluster.exec("default", pod.name(), null, List.of("ip", "-4", "-o", "addr", "show", "eth0"));
        assertTrue(ip.stdout().contains(ip("plain") + "/"), ip.stdout());
        // No sidecar on the caller: kube-proxy's DNAT in the node, then httpbin's REDIRECT capture.
        ClusterApi.ExecResult r = cluster.exec("default", pod.name(), null, List.of("curl", "-sS", "--max-time", "5", "http://httpbin:8000/ip"));
        assertEquals(0, r.exitCode(), r.stderr());
        assertEquals(originJson("127.0.0.6"), r.stdout());
        ClusterApi.ExecResult missing = cluster.exec("default", pod.name(), null, List.of("no-such-program"));
        assertEquals(127, missing.exitCode(), missing.stderr());
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
        assertEquals(List.of(), apply(lua), "the control plane applies the patch");
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
        ClusterApi.ExecResult r = cluster.exec("default", running("sleep").name(), "sleep",
                List.of("curl", "-sS", "--max-time", "10", "http://httpbin:8000/ip"));
        assertEquals(0, r.exitCode(), r.stderr());
        return r.stdout();
    }

    private static String originJson(String ip) {
        return "{\n  \"origin\": \"" + ip + "\"\n}\n";
    }

    /** {@code kubectl exec deploy/httpbin -c httpbin -- netstat -ntp}: the app's socket and its peer. */
    private void assertPeer(String httpbinIp, String peer) {
        String netstat = cluster.exec("default", running("httpbin").name(), "httpbin", List.of("netstat", "-ntp")).stdout();
        assertTrue(netstat.lines().anyMatch(l -> l.contains(httpbinIp + ":8000") && l.contains(" " + peer + ":")), netstat);
    }

    /**
     * The one uid-1337 process in the pod's network namespace ({@code ip netns pids}): its sidecar,
     * the same process the kubelet started.
     */
    private long sidecarPid(String app) throws Exception {
        KubeObject pod = running(app);
        String netns = NetnsSupport.PREFIX + "p-" + NetnsCluster.netnsName(pod);
        List<Long> proxies = new ArrayList<>();
        for (String pid : Shell.run(List.of("ip", "netns", "pids", netns)).orThrow().out().split("\\s+")) {
            Path status = Path.of("/proc", pid, "status");
            if (!pid.isEmpty() && Files.exists(status)
                    && Files.readAllLines(status).stream().anyMatch(l -> l.matches("Uid:\\s+1337\\s.*"))) {
                proxies.add(Long.parseLong(pid));
            }
        }
        assertEquals(1, proxies.size(), "one sidecar in " + netns + ": " + proxies);
        assertEquals(OptionalLong.of(proxies.getFirst()), cluster.sidecarPid("default", pod.name()));
        return proxies.getFirst();
    }

    /** The version_info of the listeners the sidecar serves, from its config_dump ({@code proxy-config}). */
    private String listenersVersion(String app) throws Exception {
        JsonNode dump = new ObjectMapper().readTree(cluster.proxyConfig("default", running(app).name()));
        for (JsonNode c : dump.path("configs")) {
            if (c.path("@type").asText().endsWith("ListenersConfigDump")) {
                assertTrue(c.path("dynamic_listeners").size() > 0, "listeners come over ADS: " + c);
                return c.path("version_info").asText();
            }
        }
        throw new AssertionError("no listeners in the config dump");
    }

    private String nodeId(String app) {
        return ProxyIdentity.sidecar(Pod.of(running(app).node())).nodeId("cluster.local");
    }

    private void rollHttpbin(String patch) throws Exception {
        String before = running("httpbin").name();
        cluster.patch(ResourceKind.DEPLOYMENT, "default", "httpbin", PatchType.STRATEGIC, patch);
        assertTrue(cluster.awaitSettled(SETTLE));
        assertNotEquals(before, running("httpbin").name(), "the pod template changed: the pod was replaced");
        assertEquals(1, cluster.list(ResourceKind.POD, "default", "app=httpbin").size(), "the old pod is gone");
    }

    private JsonNode inboundLog(Predicate<JsonNode> expected) throws Exception {
        long deadline = System.currentTimeMillis() + 3000;
        JsonNode last;
        do {
            last = lastInboundLog();
            if (expected.test(last)) {
                return last;
            }
            Thread.sleep(20);
        } while (System.currentTimeMillis() < deadline);
        throw new AssertionError("no matching inbound access-log line; the newest is " + last);
    }

    private JsonNode lastInboundLog() throws Exception {
        List<String> lines = new ArrayList<>();
        cluster.logs("default", running("httpbin").name(), "istio-proxy", false, -1, lines::add);
        for (int i = lines.size() - 1; i >= 0; i--) {
            if (lines.get(i).startsWith("{")) {
                JsonNode json = new ObjectMapper().readTree(lines.get(i));
                if (json.path("upstream_cluster").asText().startsWith("inbound")) {
                    return json;
                }
            }
        }
        return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
    }
}
