package io.sourcemesh.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.exec.ExecResult;
import io.sourcemesh.cluster.testing.ClusterExtension;
import io.sourcemesh.cluster.testing.ClusterRuntime;
import io.sourcemesh.cluster.testing.ProxyLogs;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A Kubernetes Service selecting a WorkloadEntry end to end in the embedded runtime, as Istio's Kubernetes registry
 * (kube/controller/controller.go, PILOT_ENABLE_K8S_SELECT_WORKLOAD_ENTRIES): the Service vm selects no pod, only the
 * WorkloadEntry of a "VM" — an origin this test runs on 127.0.0.77 — so sleep's curl to vm:8000 reaches it through the
 * sidecar's outbound|8000||vm.default.svc.cluster.local, at the entry's own port for the service port's name. The entry's
 * change is pushed: relabelled it is no endpoint (503), restored it is again. Kubernetes' own Endpoints of vm stay empty
 * (Istio adds entries to the mesh's view only), and httpbin, a Service of pods, still serves.
 */
class ServiceWorkloadEntryEndToEndTest {
    private static final String VM_ADDRESS = "127.0.0.77";

    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();
    Cluster cluster;
    HttpServer origin;
    String sleep;

    @AfterEach
    void stopOrigin() {
        if (origin != null) {
            origin.stop(0);
        }
    }

    @Test
    void aServiceSelectingOnlyAWorkloadEntryReachesIt() throws Exception {
        origin = HttpServer.create(new InetSocketAddress(InetAddress.getByName(VM_ADDRESS), 0), 16);
        origin.createContext("/", exchange -> {
            byte[] body = ("vm saw " + exchange.getRequestHeaders().getFirst("Host")).getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        origin.start();
        int originPort = origin.getAddress().getPort();

        cluster = clusters.start(ClusterRuntime.EMBEDDED, 1);
        cluster.apply(ManifestReader.read(Path.of("src/test/resources/seed/sleep.yaml")));
        cluster.apply(ManifestReader.read(Path.of("src/test/resources/seed/httpbin.yaml")));
        List<String> warnings = cluster.apply(ManifestReader.read("vm.yaml", """
                apiVersion: v1
                kind: Service
                metadata: {name: vm, namespace: default}
                spec:
                  ports:
                  - {name: http, port: 8000, targetPort: 9}
                  selector: {app: vm}
                """)).warnings();
        assertEquals(List.of(), warnings);
        assertTrue(cluster.awaitSettled(ClusterRuntime.EMBEDDED.settle()), "pods settle");
        sleep = runningSleep();
        assertTrue(until(() -> curl("vm").stdout().equals("503")), "no pod, no entry: no endpoint, " + curl("vm"));

        applyEntry("vm", originPort);
        assertTrue(until(() -> curl("vm").stdout().equals("200")), "the WorkloadEntry is vm's endpoint: " + curl("vm"));
        ExecResult body = cluster.exec("default", sleep, "sleep", List.of("curl", "-sS", "--max-time", "10",
                "http://vm:8000/"));
        assertEquals("vm saw vm:8000", body.stdout(), body.stderr());
        JsonNode log = ProxyLogs.await(cluster, "default", sleep,
                j -> j.path("upstream_cluster").asText().equals("outbound|8000||vm.default.svc.cluster.local"), j -> true);
        assertEquals(VM_ADDRESS + ":" + originPort, log.path("upstream_host").asText(),
                "the entry's address at its own port for the service port's name, not the targetPort: " + log);
        JsonNode endpoints = cluster.get(ResourceKind.ENDPOINTS, "default", "vm").map(KubeObject::node).orElse(null);
        assertTrue(endpoints == null || endpoints.path("subsets").isEmpty()
                || endpoints.path("subsets").findValues("addresses").stream().allMatch(JsonNode::isEmpty),
                "Kubernetes' Endpoints keep only pods: " + endpoints);

        applyEntry("db", originPort);
        assertTrue(until(() -> curl("vm").stdout().equals("503")), "relabelled, the entry is no endpoint: " + curl("vm"));
        applyEntry("vm", originPort);
        assertTrue(until(() -> curl("vm").stdout().equals("200")), "and is again: " + curl("vm"));
        assertEquals("200", curl("httpbin").stdout(), "a Service of pods still serves");
        cluster.delete(ResourceKind.WORKLOAD_ENTRY, "default", "vm-1");
        assertTrue(until(() -> curl("vm").stdout().equals("503")), "deleted, it is no endpoint: " + curl("vm"));
    }

    private void applyEntry(String app, int port) {
        List<String> warnings = cluster.apply(ManifestReader.read("vm-entry.yaml", """
                apiVersion: networking.istio.io/v1
                kind: WorkloadEntry
                metadata: {name: vm-1, namespace: default}
                spec:
                  address: %s
                  ports: {http: %d}
                  labels: {app: %s}
                """.formatted(VM_ADDRESS, port, app))).warnings();
        assertEquals(List.of(), warnings);
    }

    private String runningSleep() {
        return cluster.list(ResourceKind.POD, "default", "app=sleep").stream()
                .filter(p -> p.status().path("phase").asText().equals("Running")).findFirst().map(KubeObject::name)
                .orElseThrow();
    }

    /** curl in the sleep pod to {@code service}:8000; the status code. */
    private ExecResult curl(String service) {
        return cluster.exec("default", sleep, "sleep", List.of("curl", "-sS", "--max-time", "10", "-o", "/dev/null", "-w",
                "%{http_code}", "http://" + service + ":8000/"));
    }

    private static boolean until(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return true;
            }
            Thread.sleep(200);
        }
        return false;
    }
}
