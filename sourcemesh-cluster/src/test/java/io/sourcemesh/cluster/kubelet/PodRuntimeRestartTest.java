package io.sourcemesh.cluster.kubelet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.exec.ExecResult;
import io.sourcemesh.cluster.kubeapi.Kubeconfig;
import io.sourcemesh.cluster.kubeapi.Kubectl;
import io.sourcemesh.cluster.testing.ClusterExtension;
import io.sourcemesh.cluster.testing.ClusterRuntime;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The embedded runtime's kubelet sees a container exit and answers as Kubernetes': the sidecar told
 * {@code POST /quitquitquit} (over loopback, on the pod's admin port) is started again per restartPolicy,
 * at once the first time and after the back-off (here 2 s, not 10) the next, counted in restartCount with
 * its last termination; the pod is not Ready while it is down, and serves again once it is back. A finite
 * sleep ends, and a Never pod stays down.
 */
class PodRuntimeRestartTest {
    static final BackOff SHORT = new BackOff(Duration.ofSeconds(2), Duration.ofSeconds(4));

    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension().withBackOff(SHORT);
    Cluster cluster;

    @Test
    void aSidecarThatQuitsIsRestartedWithBackOffCountedAndServesAgain() throws Exception {
        cluster = clusters.start(ClusterRuntime.EMBEDDED, 1);
        apply("seed/httpbin.yaml");
        apply("seed/sleep.yaml");
        KubeObject httpbin = running("app=httpbin");
        assertEquals(200, curlHttpbin(), "served before");

        // First exit: started again at once (no back-off before the first restart), as the kubelet does.
        assertEquals("OK\n", quit(httpbin));
        JsonNode proxy = awaitProxy(httpbin.name(), p -> p.path("restartCount").asInt() == 1 && p.path("ready").asBoolean());
        assertEquals(0, proxy.path("lastState").path("terminated").path("exitCode").asInt(), proxy.toString());
        assertEquals("Completed", proxy.path("lastState").path("terminated").path("reason").asText(), proxy.toString());
        assertTrue(proxy.path("state").has("running"), proxy.toString());
        awaitReady(httpbin.name(), "True");
        awaitEndpoint(httpbin);
        assertEquals(200, curlHttpbin(), "served through the restarted sidecar");

        // Second exit: CrashLoopBackOff for the back-off, the pod not Ready and not served meanwhile.
        assertEquals("OK\n", quit(httpbin));
        proxy = awaitProxy(httpbin.name(), p -> p.path("state").path("waiting").path("reason").asText().equals("CrashLoopBackOff"));
        assertEquals("back-off 2s restarting failed container=istio-proxy", proxy.path("state").path("waiting").path("message").asText());
        assertEquals(1, proxy.path("restartCount").asInt(), proxy.toString());
        assertEquals("False", condition(httpbin.name(), "Ready"));
        Kubectl kubectl = new Kubectl(Kubeconfig.in(clusters.home()));
        Kubectl.Result table = kubectl.run("get", "pods", httpbin.name(), "--no-headers");
        assertTrue(table.out().matches(httpbin.name() + "\\s+1/2\\s+CrashLoopBackOff\\s+1 \\(\\S+ ago\\)\\s+\\S+\\s*"), table.toString());
        assertNotEquals(200, curlHttpbin(), "nothing serves the pod's traffic while its sidecar is down");

        proxy = awaitProxy(httpbin.name(), p -> p.path("restartCount").asInt() == 2 && p.path("ready").asBoolean());
        awaitReady(httpbin.name(), "True");
        awaitEndpoint(httpbin);
        assertEquals(200, curlHttpbin(), "served again after the back-off");
        table = kubectl.run("get", "pods", httpbin.name(), "--no-headers");
        assertTrue(table.out().matches(httpbin.name() + "\\s+2/2\\s+Running\\s+2 \\(\\S+ ago\\)\\s+\\S+\\s*"), table.toString());
        Kubectl.Result describe = kubectl.run("describe", "pod", httpbin.name());
        assertTrue(describe.out().matches("(?s).*istio-proxy:.*State:\\s+Running.*Last State:\\s+Terminated\\s+Reason:\\s+Completed\\s+"
                + "Exit Code:\\s+0.*Restart Count:\\s+2.*"), describe.toString());
        List<String> log = new java.util.ArrayList<>();
        cluster.logs("default", httpbin.name(), "istio-proxy", false, -1, log::add);
        assertEquals(2, log.stream().filter(l -> l.endsWith("] exiting")).count(), "the container log tells each exit");
    }

    @Test
    void underNeverAQuitSidecarStaysDownAndAFiniteSleepEnds() throws Exception {
        cluster = clusters.start(ClusterRuntime.EMBEDDED, 1);
        cluster.apply(ManifestReader.read("pods.yaml", """
                apiVersion: v1
                kind: Pod
                metadata: {name: once, labels: {app: once}}
                spec:
                  nodeName: sourcemesh-node-1
                  restartPolicy: Never
                  containers:
                  - {name: httpbin, image: docker.io/kennethreitz/httpbin, ports: [{containerPort: 8000}]}
                  - {name: istio-proxy, image: docker.io/istio/proxyv2}
                ---
                apiVersion: v1
                kind: Pod
                metadata: {name: nap, annotations: {sidecar.istio.io/inject: "false"}}
                spec:
                  nodeName: sourcemesh-node-1
                  restartPolicy: OnFailure
                  containers:
                  - {name: nap, image: curlimages/curl, command: ["sh", "-c", "sleep 1"]}
                ---
                apiVersion: v1
                kind: Pod
                metadata: {name: naps, annotations: {sidecar.istio.io/inject: "false"}}
                spec:
                  nodeName: sourcemesh-node-1
                  containers:
                  - {name: nap, image: curlimages/curl, command: ["sleep", "0.5"]}
                """));
        KubeObject once = awaitPod("once", p -> p.status().path("podIP").isTextual() && condition(p, "Ready").equals("True"));
        assertEquals("OK\n", quit(once));
        JsonNode proxy = awaitProxy("once", p -> p.path("state").has("terminated"));
        assertEquals("Completed", proxy.path("state").path("terminated").path("reason").asText(), proxy.toString());
        assertEquals(0, proxy.path("restartCount").asInt());
        Thread.sleep(500);
        KubeObject after = cluster.get(ResourceKind.POD, "default", "once").orElseThrow();
        assertEquals("Running", after.status().path("phase").asText(), "its app still runs");
        assertEquals("False", condition(after, "Ready"));
        assertEquals(0, container(after, "istio-proxy").path("restartCount").asInt(), "never restarted");

        KubeObject nap = awaitPod("nap", p -> p.status().path("phase").asText().equals("Succeeded"));
        JsonNode ended = container(nap, "nap");
        assertEquals("Completed", ended.path("state").path("terminated").path("reason").asText(), ended.toString());
        assertEquals(0, ended.path("restartCount").asInt(), "OnFailure does not restart a clean exit");
        KubeObject naps = awaitPod("naps", p -> container(p, "nap").path("restartCount").asInt() >= 2);
        assertEquals("Running", naps.status().path("phase").asText(), "Always: a sleep that ends is started again");
    }

    private void apply(String file) throws Exception {
        cluster.apply(ManifestReader.read(file, Files.readString(Path.of("src/test/resources/" + file))));
        assertTrue(cluster.awaitSettled(ClusterRuntime.EMBEDDED.settle()), "pods settle");
    }

    /** POST /quitquitquit to the pod's sidecar admin, over loopback as a client in the pod would. */
    private static String quit(KubeObject pod) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                "http://" + pod.status().path("podIP").asText() + ":15000/quitquitquit"))
                .POST(HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        return r.body();
    }

    /**
     * Until the client's sidecar has the pod as an endpoint again: a pod that was not Ready left the
     * service's endpoints, and coming back is one more push to every client (as in Kubernetes, not at once).
     */
    private void awaitEndpoint(KubeObject pod) throws InterruptedException {
        String endpoint = "outbound|8000||httpbin.default.svc.cluster.local::" + pod.status().path("podIP").asText() + ":8000::health_flags::healthy";
        long deadline = System.currentTimeMillis() + 30_000;
        while (!cluster.proxyAdmin("default", running("app=sleep").name(), "/clusters").contains(endpoint)) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("the sleep pod's sidecar never had " + endpoint);
            }
            Thread.sleep(50);
        }
    }

    /** curl from the sleep pod to httpbin's service: its HTTP code, 0 when the connection failed. */
    private int curlHttpbin() {
        ExecResult r = cluster.exec("default", running("app=sleep").name(), "sleep",
                List.of("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", "http://httpbin:8000/ip"), null);
        return Integer.parseInt(r.stdout().isBlank() ? "0" : r.stdout().trim());
    }

    private KubeObject running(String selector) {
        return cluster.list(ResourceKind.POD, "default", selector).stream()
                .filter(p -> p.status().path("phase").asText().equals("Running")).findFirst().orElseThrow();
    }

    private KubeObject awaitPod(String name, Predicate<KubeObject> condition) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 30_000;
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

    private JsonNode awaitProxy(String pod, Predicate<JsonNode> condition) throws InterruptedException {
        return container(awaitPod(pod, p -> condition.test(container(p, "istio-proxy"))), "istio-proxy");
    }

    private void awaitReady(String pod, String status) throws InterruptedException {
        awaitPod(pod, p -> condition(p, "Ready").equals(status));
    }

    private String condition(String pod, String type) {
        return condition(cluster.get(ResourceKind.POD, "default", pod).orElseThrow(), type);
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
        return com.fasterxml.jackson.databind.node.MissingNode.getInstance();
    }
}
