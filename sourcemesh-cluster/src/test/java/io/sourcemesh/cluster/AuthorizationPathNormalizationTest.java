package io.sourcemesh.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.exec.ExecResult;
import io.sourcemesh.cluster.testing.ClusterExtension;
import io.sourcemesh.cluster.testing.ClusterRuntime;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.IntPredicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Istio's "path normalization in authorization policy": which spellings of /admin a DENY policy on it catches at
 * httpbin's sidecar, under the mesh config's pathNormalization. The default (BASE) catches dot segments but not an
 * escaped slash or a doubled one; DECODE_AND_MERGE_SLASHES catches those too; NONE catches none. Changing the
 * ConfigMap is a push: every proxy's connection manager changes without a restart. The path logic is the proxy's own
 * and the same in both runtimes, so this runs on the embedded one.
 */
class AuthorizationPathNormalizationTest {
    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();
    private final ClusterRuntime runtime = ClusterRuntime.EMBEDDED;
    private Cluster cluster;

    @Test
    void theMeshsPathNormalizationDecidesWhichSpellingsOfAPathAPolicySees() throws Exception {
        cluster = clusters.start(runtime, 1);
        for (String f : List.of("seed/sleep.yaml", "seed/httpbin.yaml")) {
            cluster.apply(ManifestReader.read(Path.of("src/test/resources/" + f)));
        }
        assertTrue(cluster.awaitSettled(runtime.settle()), "pods settle");
        apply("""
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: deny-admin, namespace: default}
                spec:
                  selector: {matchLabels: {app: httpbin}}
                  action: DENY
                  rules:
                  - to: [{operation: {paths: ["/admin*"]}}]
                """);
        await("/admin", code -> code == 403);
        assertEquals(200, get("/ip"));

        // BASE, Istio's default: dot segments are resolved before the policy; escaped and doubled slashes are not.
        assertEquals(403, get("/public/../admin"));
        assertEquals(403, get("/public/%2e%2e/admin"));
        assertEquals(404, get("/public%2F..%2Fadmin"), "reaches httpbin, which has no such page");
        assertEquals(404, get("//admin"));

        mesh("DECODE_AND_MERGE_SLASHES");
        await("/public%2F..%2Fadmin", code -> code == 403);
        assertEquals(403, get("//admin"));
        assertEquals(403, get("/public%5C..%5Cadmin"));
        assertEquals(200, get("/ip"));

        mesh("NONE");
        await("/public/../admin", code -> code == 404);
        assertEquals(403, get("/admin"), "the policy itself still holds");
    }

    private void apply(String yaml) {
        cluster.apply(ManifestReader.read("object.yaml", yaml));
    }

    private void mesh(String normalization) {
        apply("""
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: istio, namespace: istio-system}
                data:
                  mesh: |-
                    pathNormalization:
                      normalization: %s
                """.formatted(normalization));
    }

    /** sleep's curl to httpbin with the path as written (curl would resolve dot segments itself); the status code. */
    private int get(String path) {
        KubeObject sleep = cluster.list(ResourceKind.POD, "default", "app=sleep").stream()
                .filter(p -> p.status().path("phase").asText().equals("Running")).findFirst().orElseThrow();
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "-o", "/dev/null", "--max-time", "10", "--path-as-is",
                "-w", "%{http_code}", "http://httpbin:8000" + path));
        ExecResult r = cluster.exec("default", sleep.name(), "sleep", cmd);
        try {
            return Integer.parseInt(r.stdout().trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private void await(String path, IntPredicate expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        int last = -1;
        while (System.nanoTime() < deadline) {
            last = get(path);
            if (expected.test(last)) {
                return;
            }
            Thread.sleep(100);
        }
        fail("timed out waiting on " + path + ": last answer " + last);
    }
}
