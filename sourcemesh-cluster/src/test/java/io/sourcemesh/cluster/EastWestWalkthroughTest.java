package io.sourcemesh.cluster;

import io.sourcemesh.cluster.exec.ExecResult;
import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.daemon.ClusterApi;
import io.sourcemesh.cluster.kubeapi.KubeApiServer;
import io.sourcemesh.cluster.kubeapi.Kubeconfig;
import io.sourcemesh.cluster.kubeapi.KubeconfigCredentials;
import io.sourcemesh.cluster.kubeapi.RestClusterApi;
import io.sourcemesh.cluster.testing.ClusterExtension;
import io.sourcemesh.cluster.testing.ClusterRuntime;
import io.sourcemesh.cluster.testing.ProxyLogs;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The seed's east-west section from the seed's own manifests, once per runtime (the netns run as
 * root): the origin httpbin reports, the app's socket (netstat inside the pod) and the httpbin
 * sidecar's access-log fields, per step — REDIRECT's 127.0.0.6, the sleep pod's address after the
 * TPROXY patch rolls the pod, then the address in X-Forwarded-For with the EnvoyFilter, pushed to
 * the running sidecar.
 */
class EastWestWalkthroughTest {
    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();
    Cluster cluster;
    ClusterRuntime runtime;

    private void up(ClusterRuntime on) {
        runtime = on;
        cluster = clusters.start(on, 2);
    }

    private List<String> apply(String file) throws Exception {
        return apply(Path.of("src/test/resources/seed/" + file));
    }

    private List<String> apply(Path file) throws Exception {
        ClusterApi.ApplyResponse r = cluster.apply(ManifestReader.read(file));
        assertTrue(cluster.awaitSettled(runtime.settle()), "pods settle");
        return r.warnings();
    }

    private KubeObject pod(String app) {
        return cluster.list(ResourceKind.POD, "default", "app=" + app).stream()
                .filter(p -> p.status().path("phase").asText().equals("Running")).findFirst().orElseThrow();
    }

    private String ip(String app) {
        return pod(app).status().path("podIP").asText();
    }

    private String origin() {
        ExecResult r = cluster.exec("default", pod("sleep").name(), "sleep",
                List.of("curl", "-sS", "--max-time", "10", "http://httpbin:8000/ip"));
        assertEquals(0, r.exitCode(), r.stderr());
        return r.stdout();
    }

    private static String originJson(String ip) {
        return "{\n  \"origin\": \"" + ip + "\"\n}\n";
    }

    /** {@code kubectl exec deploy/httpbin -c httpbin -- netstat -ntp}: the app's socket and its peer. */
    private void assertPeer(String httpbinIp, String peer) {
        String netstat = cluster.exec("default", pod("httpbin").name(), "httpbin", List.of("netstat", "-ntp")).stdout();
        assertTrue(netstat.lines().anyMatch(l -> l.contains(httpbinIp + ":8000") && l.contains(" " + peer + ":")), netstat);
    }

    /**
     * The httpbin sidecar's newest inbound access-log line once it is written (the access log is
     * written off the event loop, so the line of the request just made may lag a few ms).
     */
    private JsonNode inboundLog(Predicate<JsonNode> expected) throws Exception {
        return ProxyLogs.await(cluster, "default", pod("httpbin").name(),
                json -> json.path("route_name").asText().equals("default") || json.path("upstream_cluster").asText().startsWith("inbound"),
                expected);
    }

    private void rollHttpbin(String patch) throws Exception {
        String before = pod("httpbin").name();
        cluster.settle(List.of(cluster.patch(ResourceKind.DEPLOYMENT, "default", "httpbin", PatchType.STRATEGIC, patch)));
        assertTrue(cluster.awaitSettled(runtime.settle()));
        assertNotEquals(before, pod("httpbin").name(), "the pod template changed: the pod was replaced");
        assertEquals(1, cluster.list(ResourceKind.POD, "default", "app=httpbin").size(), "the old pod is gone");
    }

    /** The version_info of the listeners the sidecar serves, from its config_dump ({@code proxy-config}). */
    private String listenersVersion(String app) throws Exception {
        JsonNode dump = new ObjectMapper().readTree(cluster.proxyConfig("default", pod(app).name()));
        for (JsonNode c : dump.path("configs")) {
            if (c.path("@type").asText().endsWith("ListenersConfigDump")) {
                assertTrue(c.path("dynamic_listeners").size() > 0, "listeners come over ADS: " + c);
                return c.path("version_info").asText();
            }
        }
        throw new AssertionError("no listeners in the config dump");
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(ClusterRuntime.class)
    void defaultThenTproxyThenXff(ClusterRuntime on) throws Exception {
        up(on);
        apply("sleep.yaml");
        apply("httpbin.yaml");
        String sleepIp = ip("sleep");
        String httpbinIp = ip("httpbin");
        assertTrue(sleepIp.startsWith(runtime.podPrefix()) && httpbinIp.startsWith(runtime.podPrefix()), sleepIp + " " + httpbinIp);
        assertEquals("2/2", ready(pod("httpbin")));
        assertEquals("2/2", ready(pod("sleep")));

        // Default (REDIRECT): httpbin sees Envoy's 127.0.0.6.
        assertEquals(originJson("127.0.0.6"), origin());
        JsonNode log = inboundLog(l -> l.path("upstream_host").asText().equals(httpbinIp + ":8000"));
        assertTrue(log.path("downstream_remote_address").asText().startsWith(sleepIp + ":"), log.toString());
        assertEquals(httpbinIp + ":8000", log.path("downstream_local_address").asText());
        assertTrue(log.path("upstream_local_address").asText().startsWith("127.0.0.6:"), log.toString());
        assertEquals(httpbinIp + ":8000", log.path("upstream_host").asText());
        assertPeer(httpbinIp, "127.0.0.6");

        // TPROXY: the patch rolls the pod; the socket itself carries the sleep pod's address.
        rollHttpbin(Files.readString(Path.of("src/test/resources/seed/tproxy-patch.json")));
        String tproxyIp = ip("httpbin");
        assertEquals(originJson(sleepIp), origin());
        log = inboundLog(l -> l.path("upstream_host").asText().equals(tproxyIp + ":8000"));
        assertTrue(log.path("upstream_local_address").asText().startsWith(sleepIp + ":"), log.toString());
        assertEquals(tproxyIp + ":8000", log.path("upstream_host").asText());
        assertPeer(tproxyIp, sleepIp);

        // Back to REDIRECT, then the XFF EnvoyFilter: the address travels in X-Forwarded-For,
        // pushed over ADS to the running sidecar (a new listener version, the same process).
        rollHttpbin("{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"sidecar.istio.io/interceptionMode\":null}}}}}");
        assertEquals(originJson("127.0.0.6"), origin());
        String version = listenersVersion("httpbin");
        OptionalLong sidecar = sidecarPid();
        assertEquals(List.of(), apply("enable-xff-for-sidecar-inbound.yaml"));
        assertEquals(originJson(sleepIp), origin());
        assertNotEquals(version, listenersVersion("httpbin"), "a new listener version was pushed");
        assertEquals(sidecar, sidecarPid(), "over ADS to the running sidecar, not by restarting it");
        log = inboundLog(l -> l.path("x_forwarded_for").asText().equals(sleepIp));
        assertEquals(sleepIp, log.path("x_forwarded_for").asText());
        assertTrue(log.path("upstream_local_address").asText().startsWith("127.0.0.6:"), "the socket still says 127.0.0.6");
        assertPeer(ip("httpbin"), "127.0.0.6");
        KubeObject ef = cluster.get(ResourceKind.ENVOY_FILTER, "istio-system", "enable-xff-for-sidecar-inbound").orElseThrow();
        assertEquals("True", ef.status().path("conditions").path(0).path("status").asText(), ef.status().toString());
    }

    /** The httpbin sidecar's process id where the runtime has processes (netns); empty in the embedded runtime's one JVM. */
    private OptionalLong sidecarPid() {
        return runtime == ClusterRuntime.NETNS
                ? io.sourcemesh.cluster.runtime.netns.NetnsRuntime.sidecarPid(cluster, "default", pod("httpbin").name())
                : OptionalLong.empty();
    }

    /** exec -i: the bytes given become the command's stdin, then end of file; without them stdin is empty. */
    @Test
    void execForwardsStdinAsBytes() throws Exception {
        up(ClusterRuntime.EMBEDDED);
        apply("sleep.yaml");
        String sleep = pod("sleep").name();
        byte[] binary = {0, 'a', (byte) 0xff, (byte) 0xfe, (byte) 0xc3, '(', 0, '\n', (byte) 0x80, 0};
        String binaryHex = "00 61 ff fe c3 28 00 0a 80 00";
        try (KubeApiServer server = KubeApiServer.startWithKubeconfig(
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), cluster, cluster.store(), clusters.home())) {
            // the same, through the Kubernetes API's exec (WebSocket) as the CLI sends it
            RestClusterApi rest = RestClusterApi.of(KubeconfigCredentials.read(Kubeconfig.in(clusters.home())), null);
            for (ClusterApi api : List.of(cluster, rest)) {
                ExecResult cat = api.exec("default", sleep, "sleep", List.of("cat"), "hello\n".getBytes(StandardCharsets.UTF_8));
                assertEquals(new ExecResult(0, "hello\n", ""), cat);
                assertEquals(new ExecResult(0, "", ""), api.exec("default", sleep, "sleep", List.of("cat")),
                        "without stdin the command reads end of file at once");
                ExecResult script = api.exec("default", sleep, "sleep", List.of("sh"),
                        "echo \"I am $HOSTNAME\"\necho oops >&2\nexit 3\n".getBytes(StandardCharsets.UTF_8));
                assertEquals(new ExecResult(3, "I am pod\n", "oops\n"), script, "sh runs the script it reads; exit code and stderr kept");
                ExecResult hex = api.exec("default", sleep, "sleep", List.of("sh", "-c", "cat | od -An -v -tx1"), binary);
                assertEquals(0, hex.exitCode(), hex.stderr());
                assertEquals(binaryHex, hex.stdout().trim().replaceAll("\\s+", " "), "NUL and invalid UTF-8 pass through cat unchanged");
                byte[] big = "0123456789abcdef".repeat(256 * 1024).getBytes(StandardCharsets.US_ASCII); // 4 MiB: more than a pipe holds
                ExecResult echoed = api.exec("default", sleep, "sleep", List.of("cat"), big);
                assertEquals(0, echoed.exitCode(), echoed.stderr());
                assertEquals(big.length, echoed.stdout().length());
                assertEquals(new ExecResult(0, "", ""), api.exec("default", sleep, "sleep", List.of("true"), big),
                        "a command that does not read its stdin is no error");
            }
        }
    }

    /** A patch the control plane cannot apply: apply warns, the EnvoyFilter says False, the proxies keep their config. */
    @ParameterizedTest(name = "{0}")
    @EnumSource(ClusterRuntime.class)
    void aBadEnvoyFilterIsReportedAndChangesNothing(ClusterRuntime on) throws Exception {
        up(on);
        apply("sleep.yaml");
        apply("httpbin.yaml");
        String bad = Files.readString(Path.of("src/test/resources/seed/enable-xff-for-sidecar-inbound.yaml"))
                .replace("use_remote_address: true", "use_remote_addres: true").replace("name: enable-xff-for-sidecar-inbound", "name: broken");
        Path file = clusters.home().resolve("broken.yaml");
        Files.writeString(file, bad);
        List<String> warnings = apply(file);
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(warnings.get(0).contains("istio-system/broken"), warnings.get(0));
        assertTrue(warnings.get(0).contains("use_remote_addres"), warnings.get(0));
        assertEquals(originJson("127.0.0.6"), origin(), "proxies keep their last good config");
        KubeObject ef = cluster.get(ResourceKind.ENVOY_FILTER, "istio-system", "broken").orElseThrow();
        assertEquals("False", ef.status().path("conditions").path(0).path("status").asText());
        assertTrue(ef.status().path("validationMessages").path(0).path("description").asText().contains("use_remote_addres"));
    }

    static String ready(KubeObject pod) {
        int ready = 0;
        int total = 0;
        for (var c : pod.status().path("containerStatuses")) {
            total++;
            if (c.path("ready").asBoolean()) {
                ready++;
            }
        }
        return ready + "/" + total;
    }
}
