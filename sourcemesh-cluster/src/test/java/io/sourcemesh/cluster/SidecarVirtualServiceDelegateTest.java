package io.sourcemesh.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.exec.ExecResult;
import io.sourcemesh.cluster.testing.ClusterExtension;
import io.sourcemesh.cluster.testing.ClusterRuntime;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * VirtualService delegation end to end in the embedded runtime with curl through sleep's sidecar: a root VirtualService's
 * /api/ route delegates to a VirtualService of namespace team (no hosts), whose routes take its place as Istio merges them
 * (pilot/pkg/model/virtualservice.go MergeHTTPRoutes) — one rewriting the path by RE2 (uriRegexRewrite, Envoy's
 * regex_rewrite), one by prefix; a path under /api/ that no delegate route fits reaches the root's catch-all; and once the
 * delegate is no longer exported to the root's namespace, its routes are gone.
 */
class SidecarVirtualServiceDelegateTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();
    Cluster cluster;

    @Test
    void aDelegatesRoutesServeInTheRootRoutesPlace() throws Exception {
        cluster = clusters.start(ClusterRuntime.EMBEDDED, 1);
        for (String f : List.of("seed/sleep.yaml", "seed/httpbin.yaml")) {
            cluster.apply(ManifestReader.read(Path.of("src/test/resources/" + f)));
        }
        cluster.apply(ManifestReader.read("team.yaml", """
                apiVersion: v1
                kind: Namespace
                metadata: {name: team}
                """));
        assertEquals(List.of(), cluster.apply(ManifestReader.read("delegate.yaml", delegate("[\"*\"]"))).warnings());
        assertEquals(List.of(), cluster.apply(ManifestReader.read("root.yaml", """
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: httpbin-root, namespace: default}
                spec:
                  hosts: [httpbin]
                  http:
                  - name: api
                    match: [{uri: {prefix: /api/}}]
                    delegate: {name: api, namespace: team}
                  - name: rest
                    route: [{destination: {host: httpbin}}]
                """)).warnings());
        assertTrue(cluster.awaitSettled(ClusterRuntime.EMBEDDED.settle()), "pods settle");
        String sleep = cluster.list(ResourceKind.POD, "default", "app=sleep").stream()
                .filter(p -> p.status().path("phase").asText().equals("Running")).findFirst().map(KubeObject::name)
                .orElseThrow();

        ExecResult anything = curl(sleep, "/api/v1/get?x=1");
        JsonNode echo = JSON.readTree(anything.stdout());
        assertEquals("http://httpbin:8000/anything/get?x=1", echo.path("url").asText(),
                "the RE2 rewrite of the path: " + anything.stdout() + anything.stderr());
        assertEquals("418", status(sleep, "/api/teapot"), "the delegate's prefix rewrite to /status/418");
        assertEquals("404", status(sleep, "/api/other"), "no delegate route fits: the root's catch-all, httpbin has no such path");
        assertEquals("200", status(sleep, "/get"), "the root's own route");

        cluster.apply(ManifestReader.read("delegate.yaml", delegate("[.]")));
        assertEquals("404", status(sleep, "/api/teapot"), "not exported to default: the delegated routes are left out");
        assertEquals("200", status(sleep, "/get"));
    }

    /** team/api: /api/v1/ rewritten by RE2 to /anything/, /api/teapot by prefix to /status/418. */
    private static String delegate(String exportTo) {
        return """
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: api, namespace: team}
                spec:
                  exportTo: %s
                  http:
                  - name: v1
                    match: [{uri: {prefix: /api/v1/}}]
                    rewrite: {uriRegexRewrite: {match: "^/api/v1/(.*)$", rewrite: "/anything/\\\\1"}}
                    route: [{destination: {host: httpbin.default.svc.cluster.local}}]
                  - name: teapot
                    match: [{uri: {prefix: /api/teapot}}]
                    rewrite: {uri: /status/418}
                    route: [{destination: {host: httpbin.default.svc.cluster.local}}]
                """.formatted(exportTo);
    }

    private ExecResult curl(String pod, String path) {
        return cluster.exec("default", pod, "sleep", List.of("curl", "-sS", "--max-time", "10", "http://httpbin:8000" + path));
    }

    private String status(String pod, String path) {
        ExecResult r = cluster.exec("default", pod, "sleep", List.of("curl", "-sS", "--max-time", "10", "-o", "/dev/null",
                "-w", "%{http_code}", "http://httpbin:8000" + path));
        return r.stdout().trim() + (r.stderr().isBlank() ? "" : " " + r.stderr().trim());
    }
}
