package io.sourcemesh.cluster.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The daemon's first {@code /v1/info} answer (the one {@code up} waits on) is written by the streaming
 * generator: the same JSON as Jackson's binding of the record, without the binding's cold path.
 */
class InfoAnswerTest {
    @Test
    void theInfoIsTheRecordsBindingWrittenByTheGenerator() throws Exception {
        ObjectMapper json = new ObjectMapper();
        for (var info : List.of(
                new ClusterApi.ClusterInfo("embedded", "/home/a \"b\"", 4242, 77, List.of("sourcemesh-node-1", "sourcemesh-node-2"), 3,
                        "127.100.0.2", "informers on https://127.0.0.1:1/"),
                new ClusterApi.ClusterInfo("netns", "/h", 1, 2, List.of(), 0, null, null),
                new ClusterApi.ClusterInfo("embedded", "/h", 1, 2, List.of(), 0, "", "store",
                        List.of("Gateway default/gw: spec.servers[1].port.name: Invalid value: \"http\"; left out")),
                new ClusterApi.ClusterInfo("netns", "/h", 1, 2, List.of(), 0, null, null, null),
                new ClusterApi.ClusterInfo("netns", null, 1, 2, null, 0, null, null))) {
            assertEquals(json.writeValueAsString(info), new String(ClusterApiServer.infoJson(info), StandardCharsets.UTF_8));
        }
    }

    @Test
    void theFirstInfoAnswerOfAColdJvmDoesNotBuildTheBinding() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(List.of(java.toString(), "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                InfoAnswerProbe.class.getName())).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line = out.readLine();
            assertTrue(line != null && line.startsWith("classes "), line);
            assertTrue(out.readLine().contains("\"nodes\":[\"sourcemesh-node-1\",\"sourcemesh-node-2\"]"), "the probe read the info");
            assertEquals(0, p.waitFor());
            long loaded = Long.parseLong(line.substring("classes ".length()));
            // 427 with the record bound to a tree and written (its serializer built, its annotations read
            // through proxies); ~236 by the generator (the rest is the HTTP server's first exchange)
            assertTrue(loaded < 300, "classes the first info answer loaded: " + loaded);
        } finally {
            p.destroyForcibly();
        }
    }
}
