package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.api.resource.ResourceKind;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PatchCommandTest {
    static final String TPROXY = "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"sidecar.istio.io/interceptionMode\":\"TPROXY\"}}}}}";

    @TempDir
    Path home;

    FakeCluster cluster;

    @BeforeEach
    void start() throws IOException {
        cluster = FakeCluster.start(home);
        cluster.applySeed("httpbin.yaml", "http-demo.yaml");
    }

    @AfterEach
    void stop() {
        cluster.close();
    }

    @Test
    void theDocumentsPatchLineVerbatim() {
        FakeCluster.Run r = cluster.run("patch", "deployment", "-n", "default", "httpbin", "-p", TPROXY);
        assertEquals(new FakeCluster.Run(0, "deployment.apps/httpbin patched\n", ""), r);
        assertEquals("TPROXY", cluster.store.get(ResourceKind.DEPLOYMENT, "default", "httpbin").orElseThrow()
                .at("/spec/template/metadata/annotations/sidecar.istio.io~1interceptionMode").asText());
        assertEquals("deployment.apps/httpbin patched (no change)\n",
                cluster.run("patch", "deployment", "-n", "default", "httpbin", "-p", TPROXY).out());
    }

    @Test
    void mergeAndJsonPatchesAndPatchFiles() {
        assertEquals("deployment.apps/httpbin patched\n",
                cluster.run("patch", "deploy/httpbin", "--type", "merge", "-p", "{\"spec\":{\"replicas\":2}}").out());
        assertEquals("deployment.apps/httpbin patched\n", cluster.run("patch", "deploy", "httpbin", "--type", "json",
                "-p", "[{\"op\":\"replace\",\"path\":\"/spec/replicas\",\"value\":3}]").out());
        assertEquals(3, cluster.store.get(ResourceKind.DEPLOYMENT, "default", "httpbin").orElseThrow().spec().path("replicas").asInt());
        assertEquals("deployment.apps/httpbin patched\n",
                cluster.run("patch", "deployment", "httpbin", "--patch-file", FakeCluster.seed("tproxy-patch.json")).out());
    }

    @Test
    void customResourcesTakeNoStrategicMergePatch() {
        FakeCluster.Run r = cluster.run("patch", "vs", "httpbin", "-p", "{\"spec\":{\"hosts\":[\"a\"]}}");
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("error: application/strategic-merge-patch+json is not supported by networking.istio.io/v1, Kind=VirtualService"),
                r.err());
        assertEquals("virtualservice.networking.istio.io/httpbin patched\n",
                cluster.run("patch", "vs", "httpbin", "--type", "merge", "-p", "{\"spec\":{\"hosts\":[\"a\"]}}").out());
    }

    @Test
    void errors() {
        assertEquals(new FakeCluster.Run(1, "", "Error from server (NotFound): deployments.apps \"x\" not found\n"),
                cluster.run("patch", "deployment", "x", "-p", TPROXY));
        assertEquals(new FakeCluster.Run(1, "", "error: the server doesn't have a resource type \"foo\"\n"),
                cluster.run("patch", "foo", "x", "-p", TPROXY));
        assertEquals(new FakeCluster.Run(1, "", "error: --type must be one of [json merge strategic], not \"yaml\"\n"),
                cluster.run("patch", "deployment", "httpbin", "--type", "yaml", "-p", TPROXY));
        FakeCluster.Run invalid = cluster.run("patch", "deployment", "httpbin", "-p", "{\"spec\":{\"replicas\":\"many\"}}");
        assertEquals(1, invalid.code());
        assertTrue(invalid.err().startsWith("The Deployment \"httpbin\" is invalid: ") || invalid.err().startsWith("Error from server"), invalid.err());
    }
}
