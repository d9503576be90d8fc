package io.sourcemesh.cluster;

import static org.junit.jupiter.api.Assertions.*;

import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.daemon.ClusterApi;
import io.sourcemesh.cluster.daemon.Home;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The seed's east-west section on the embedded runtime, from the seed's own manifests. */
class EastWestWalkthroughTest {
    @TempDir
    Path home;
    LocalCluster cluster;

    @BeforeEach
    void up() {
        cluster = LocalCluster.start(new Home(home), 2, 0);
    }

    @AfterEach
    void down() {
        cluster.close();
    }

    private void apply(String file) throws Exception {
        cluster.apply(ManifestReader.read(Path.of("src/test/resources/seed/" + file)));
        assertTrue(cluster.awaitSettled(Duration.ofSeconds(30)), "pods settle");
    }

    private KubeObject pod(String app) {
        return cluster.list(ResourceKind.POD, "default", "app=" + app).stream()
                .filter(p -> p.status().path("phase").asText().equals("Running")).findFirst().orElseThrow();
    }

    private ClusterApi.ExecResult curlFromSleep(String url) {
        return cluster.exec("default", pod("sleep").name(), "sleep", List.of("curl", "-sS", url));
    }

    @Test
    void defaultThenTproxyThenXff() throws Exception {
        apply("sleep.yaml");
        apply("httpbin.yaml");
        String sleepIp = pod("sleep").status().path("podIP").asText();
        assertEquals("2/2", ready(pod("httpbin")));

        ClusterApi.ExecResult r = curlFromSleep("http://httpbin:8000/ip");
        Files.writeString(Path.of("target/sleep-dump.json"), cluster.proxyConfig("default", pod("sleep").name()));
        assertEquals(0, r.exitCode(), r.stderr() + logs().lines().filter(l -> !l.startsWith("{")).toList());
        assertEquals("{\n  \"origin\": \"127.0.0.6\"\n}\n", r.stdout());

        String patch = Files.readString(Path.of("src/test/resources/seed/tproxy-patch.json"));
        String oldPod = pod("httpbin").name();
        cluster.patch(ResourceKind.DEPLOYMENT, "default", "httpbin", PatchType.STRATEGIC, patch);
        assertTrue(cluster.awaitSettled(Duration.ofSeconds(30)));
        assertNotEquals(oldPod, pod("httpbin").name(), "the template change rolled the pod");
        r = curlFromSleep("http://httpbin:8000/ip");
        assertEquals("{\n  \"origin\": \"" + sleepIp + "\"\n}\n", r.stdout(), r.stderr());
    }

    String logs() throws Exception {
        StringBuilder out = new StringBuilder();
        try (var files = Files.list(home.resolve("logs"))) {
            for (Path f : files.toList()) {
                out.append("\n== ").append(f.getFileName()).append('\n').append(Files.readString(f));
            }
        }
        return out.toString();
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
