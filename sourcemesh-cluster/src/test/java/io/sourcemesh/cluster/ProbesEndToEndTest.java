package io.sourcemesh.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.exec.ExecResult;
import io.sourcemesh.cluster.kubelet.BackOff;
import io.sourcemesh.cluster.testing.ClusterExtension;
import io.sourcemesh.cluster.testing.ClusterRuntime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The kubelet runs container probes, in both runtimes (embedded: real sockets on loopback; netns: in the pods'
 * namespaces, as root). Under STRICT mTLS, a pod whose
 * readiness probe fails (httpbin's /status/500) is Running but not Ready and gets none of the mesh's traffic while a
 * ready replica gets all of it; a pod whose exec probe starts passing becomes Ready and joins the proxies' endpoints,
 * and leaves them when it fails again. A failing liveness probe restarts the container (restartCount, lastState 137);
 * a startup probe holds readiness back and restarts the container when it keeps failing. Invalid probes are refused
 * naming the field.
 */
class ProbesEndToEndTest {
    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension().withBackOff(new BackOff(Duration.ofSeconds(1), Duration.ofSeconds(2)));
    Cluster cluster;

    @ParameterizedTest(name = "{0}")
    @EnumSource(ClusterRuntime.class)
    void aPodFailingItsReadinessProbeGetsNoMeshTrafficUntilItPasses(ClusterRuntime runtime) throws Exception {
        cluster = clusters.start(runtime, 1);
        Path flag = clusters.home().resolve("web-flag-ready");
        apply("sleep", Files.readString(Path.of("src/test/resources/seed/sleep.yaml")));
        apply("web", """
                apiVersion: security.istio.io/v1
                kind: PeerAuthentication
                metadata: {name: default, namespace: istio-system}
                spec: {mtls: {mode: STRICT}}
                ---
                apiVersion: v1
                kind: Service
                metadata: {name: web}
                spec:
                  selector: {app: web}
                  ports: [{name: http, port: 8000}]
                """);
        // One pod per apply: a pass that starts them has a netns JVM each to wait for.
        apply("web-good", """
                apiVersion: v1
                kind: Pod
                metadata: {name: web-good, labels: {app: web}}
                spec:
                  containers:
                  - name: httpbin
                    image: docker.io/kennethreitz/httpbin
                    ports: [{name: http, containerPort: 8000}]
                    readinessProbe: {httpGet: {path: /status/200, port: http}, periodSeconds: 1}
                """);
        apply("web-bad", """
                apiVersion: v1
                kind: Pod
                metadata: {name: web-bad, labels: {app: web}}
                spec:
                  containers:
                  - name: httpbin
                    image: docker.io/kennethreitz/httpbin
                    ports: [{containerPort: 8000}]
                    readinessProbe: {httpGet: {path: /status/500, port: 8000, httpHeaders: [{name: X-Probe, value: bad}]}, periodSeconds: 1}
                """);
        apply("web-flag", """
                apiVersion: v1
                kind: Pod
                metadata: {name: web-flag, labels: {app: web}}
                spec:
                  containers:
                  - name: httpbin
                    image: docker.io/kennethreitz/httpbin
                    ports: [{containerPort: 8000}]
                    readinessProbe: {exec: {command: [test, -f, %s]}, periodSeconds: 1, failureThreshold: 1}
                """.formatted(flag));
        awaitPod("web-good", p -> condition(p, "Ready").equals("True"));
        // Event-driven: web-bad was probed (its app logged the kubelet's request, straight from the kubelet, not
        // through its sidecar under STRICT mTLS) and stays out.
        await("web-bad probed", () -> log("web-bad").stream().anyMatch(l -> l.contains("\"GET /status/500 HTTP/1.1\" 500")
                && l.endsWith("\"kube-probe/1.30\"")));
        KubeObject bad = cluster.get(ResourceKind.POD, "default", "web-bad").orElseThrow();
        assertEquals("Running", bad.status().path("phase").asText());
        assertEquals("False", condition(bad, "Ready"));
        assertEquals("False", condition(bad, "ContainersReady"));
        assertFalse(container(bad, "httpbin").path("ready").asBoolean(), bad.status().toString());
        assertTrue(container(bad, "httpbin").path("started").asBoolean(), bad.status().toString());
        awaitEndpoints(List.of("web-good"), List.of("web-bad", "web-flag"));
        assertEquals(List.of(10, 0, 0), served(10, "web-good", "web-bad", "web-flag"), "the ready replica gets it all");

        Files.writeString(flag, "");
        awaitPod("web-flag", p -> condition(p, "Ready").equals("True") && container(p, "httpbin").path("ready").asBoolean());
        awaitEndpoints(List.of("web-good", "web-flag"), List.of("web-bad"));
        List<Integer> both = served(20, "web-good", "web-bad", "web-flag");
        assertEquals(0, both.get(1), both.toString());
        assertTrue(both.get(0) > 0 && both.get(2) > 0 && both.get(0) + both.get(2) == 20, "both ready pods serve: " + both);

        Files.delete(flag);
        awaitPod("web-flag", p -> condition(p, "Ready").equals("False"));
        awaitEndpoints(List.of("web-good"), List.of("web-bad", "web-flag"));
        assertEquals(List.of(10, 0, 0), served(10, "web-good", "web-bad", "web-flag"), "web-flag left again");
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(ClusterRuntime.class)
    void livenessAndStartupProbesRestartTheContainer(ClusterRuntime runtime) throws Exception {
        cluster = clusters.start(runtime, 1);
        Path started = clusters.home().resolve("slow-started");
        apply("live", """
                apiVersion: v1
                kind: Pod
                metadata: {name: live, annotations: {sidecar.istio.io/inject: "false"}}
                spec:
                  containers:
                  - name: httpbin
                    image: docker.io/kennethreitz/httpbin
                    ports: [{containerPort: 8000}]
                    startupProbe: {tcpSocket: {port: 8000}, periodSeconds: 1, failureThreshold: 60}
                    livenessProbe: {httpGet: {path: /status/500, port: 8000}, periodSeconds: 1, failureThreshold: 2}
                """);
        apply("slow", """
                apiVersion: v1
                kind: Pod
                metadata: {name: slow, annotations: {sidecar.istio.io/inject: "false"}}
                spec:
                  containers:
                  - name: httpbin
                    image: docker.io/kennethreitz/httpbin
                    ports: [{containerPort: 8000}]
                    startupProbe: {exec: {command: [test, -f, %s]}, periodSeconds: 1, failureThreshold: 2}
                    readinessProbe: {tcpSocket: {port: 8000}, periodSeconds: 1}
                """.formatted(started));
        KubeObject live = awaitPod("live", p -> container(p, "httpbin").path("restartCount").asInt() >= 1);
        JsonNode terminated = container(live, "httpbin").path("lastState").path("terminated");
        // The embedded app is stopped at once (137); the netns one is a JVM that ends on the kubelet's SIGTERM (143).
        assertEquals(runtime == ClusterRuntime.EMBEDDED ? 137 : 143, terminated.path("exitCode").asInt(), live.status().toString());
        assertEquals("Error", terminated.path("reason").asText(), live.status().toString());
        assertTrue(log("live").stream().anyMatch(l -> l.contains("killed by the kubelet: HTTP probe failed with statuscode: 500")),
                String.join("\n", log("live")));

        // Its startup probe fails: not started, not ready though its readiness probe would pass, restarted.
        KubeObject slow = awaitPod("slow", p -> container(p, "httpbin").path("restartCount").asInt() >= 1);
        assertEquals("False", condition(slow, "Ready"), slow.status().toString());
        Files.writeString(started, "");
        slow = awaitPod("slow", p -> condition(p, "Ready").equals("True"));
        assertTrue(container(slow, "httpbin").path("started").asBoolean(), slow.status().toString());
    }

    /**
     * spec.publishNotReadyAddresses: a pod whose readiness probe fails is still an endpoint of the Service that
     * publishes not-ready addresses — the mesh's (a client with a sidecar) and kube-proxy's (one without).
     */
    @Test
    void aServiceThatPublishesNotReadyAddressesKeepsANotReadyPod() throws Exception {
        cluster = clusters.start(ClusterRuntime.EMBEDDED, 1);
        apply("sleep", Files.readString(Path.of("src/test/resources/seed/sleep.yaml")));
        apply("web", """
                apiVersion: v1
                kind: Service
                metadata: {name: web}
                spec:
                  selector: {app: web}
                  publishNotReadyAddresses: true
                  ports: [{name: http, port: 8000}]
                ---
                apiVersion: v1
                kind: Pod
                metadata: {name: web-bad, labels: {app: web}}
                spec:
                  containers:
                  - name: httpbin
                    image: docker.io/kennethreitz/httpbin
                    ports: [{containerPort: 8000}]
                    readinessProbe: {httpGet: {path: /status/500, port: 8000}, periodSeconds: 1}
                ---
                apiVersion: v1
                kind: Pod
                metadata: {name: plain, annotations: {sidecar.istio.io/inject: "false"}}
                spec:
                  containers: [{name: sleep, image: curlimages/curl, command: [/bin/sleep, 3650d]}]
                """);
        await("web-bad probed", () -> log("web-bad").stream().anyMatch(l -> l.contains("\"GET /status/500 HTTP/1.1\" 500")));
        assertEquals("False", condition(cluster.get(ResourceKind.POD, "default", "web-bad").orElseThrow(), "Ready"));
        awaitEndpoints(List.of("web-bad"), List.of());
        assertEquals(List.of(5), served(5, "web-bad"), "through the client's sidecar");
        awaitPod("plain", p -> condition(p, "Ready").equals("True"));
        ExecResult r = cluster.exec("default", "plain", "sleep", List.of("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                "--max-time", "30", "http://web:8000/anything/kube-proxy"), null);
        assertEquals("200", r.stdout().trim(), "through kube-proxy's cluster IP: " + r);
    }

    @Test
    void anInvalidProbeIsRefusedNamingTheField() {
        cluster = clusters.start(ClusterRuntime.EMBEDDED, 1);
        Exception refused = assertThrows(Exception.class, () -> cluster.apply(ManifestReader.read("bad.yaml", """
                apiVersion: v1
                kind: Pod
                metadata: {name: bad}
                spec:
                  containers:
                  - {name: httpbin, image: docker.io/kennethreitz/httpbin, livenessProbe: {tcpSocket: {port: 8000}, successThreshold: 2},
                     readinessProbe: {grpc: {port: 8000}}}
                """)));
        assertTrue(refused.getMessage().contains("spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1"),
                refused.getMessage());
        assertTrue(refused.getMessage().contains("spec.containers[0].readinessProbe.grpc: Forbidden"), refused.getMessage());
    }

    private void apply(String name, String yaml) throws Exception {
        cluster.apply(ManifestReader.read(name + ".yaml", yaml));
    }

    /** Sends {@code n} requests from the sleep pod to web; how many each pod's app logged. */
    private List<Integer> served(int n, String... pods) throws Exception {
        String marker = "/anything/mesh-" + System.nanoTime();
        String sleep = sleepPod();
        for (int i = 0; i < n; i++) {
            ExecResult r = cluster.exec("default", sleep, "sleep", List.of("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}",
                    "--max-time", "30", "http://web:8000" + marker), null);
            assertEquals("200", r.stdout().trim(), r.toString());
        }
        List<Integer> counts = new ArrayList<>();
        for (String pod : pods) {
            counts.add((int) log(pod).stream().filter(l -> l.contains(marker)).count());
        }
        return counts;
    }

    /** Until the sleep pod's sidecar has exactly {@code in} of the web pods as endpoints (EDS), none of {@code out}. */
    private void awaitEndpoints(List<String> in, List<String> out) throws Exception {
        await("endpoints " + in + " without " + out, () -> {
            String clusters = cluster.proxyAdmin("default", sleepPod(), "/clusters");
            return in.stream().allMatch(p -> clusters.contains(endpoint(p))) && out.stream().noneMatch(p -> clusters.contains(endpoint(p)));
        });
    }

    private String endpoint(String pod) {
        String ip = cluster.get(ResourceKind.POD, "default", pod).orElseThrow().status().path("podIP").asText();
        return "outbound|8000||web.default.svc.cluster.local::" + ip + ":8000::";
    }

    private String sleepPod() {
        return cluster.list(ResourceKind.POD, "default", "app=sleep").stream()
                .filter(p -> condition(p, "Ready").equals("True")).findFirst().orElseThrow().name();
    }

    private List<String> log(String pod) {
        List<String> lines = new ArrayList<>();
        cluster.logs("default", pod, "httpbin", false, -1, lines::add);
        return lines;
    }

    private static void await(String what, BooleanSupplier done) throws Exception {
        long deadline = System.currentTimeMillis() + 120_000;
        while (!done.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("never: " + what);
            }
            Thread.sleep(50);
        }
    }

    private KubeObject awaitPod(String name, Predicate<KubeObject> condition) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 120_000;
        KubeObject last = null;
        while (System.currentTimeMillis() < deadline) {
            last = cluster.get(ResourceKind.POD, "default", name).orElse(null);
            if (last != null && condition.test(last)) {
                return last;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("pod " + name + " never got there: " + (last == null ? null : last.status()));
    }

    private static String condition(KubeObject pod, String type) {
        for (JsonNode c : pod.status().path("conditions")) {
            if (c.path("type").asText().equals(type)) {
                return c.path("status").asText();
            }
        }
        return "";
    }

    private static JsonNode container(KubeObject pod, String name) {
        for (JsonNode c : pod.status().path("containerStatuses")) {
            if (c.path("name").asText().equals(name)) {
                return c;
            }
        }
        return MissingNode.getInstance();
    }
}
