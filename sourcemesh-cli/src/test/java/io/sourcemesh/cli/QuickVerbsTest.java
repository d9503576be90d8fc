package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The hand-written parser for {@code get} answers exactly what picocli's parse of the same line does. */
class QuickVerbsTest {
    @TempDir
    Path home;

    FakeCluster cluster;

    @BeforeEach
    void start() throws IOException {
        cluster = FakeCluster.start(home);
        cluster.applySeed("sleep.yaml", "httpbin.yaml", "http-demo.yaml");
        cluster.seedPods();
    }

    @AfterEach
    void stop() {
        cluster.close();
    }

    /** Lines the quick parser takes: each must print and exit as picocli's parse does. */
    private static final List<List<String>> TAKEN = List.of(
            List.of("get", "pods"),
            List.of("get", "pods", "-A"),
            List.of("get", "pods", "--all-namespaces", "--no-headers"),
            List.of("-n", "default", "get", "pods", "-o", "wide"),
            List.of("get", "-n", "istio-system", "svc"),
            List.of("get", "pods", "--namespace=istio-system"),
            List.of("-nistio-system", "get", "all"),
            List.of("get", "po", "-l", "app=sleep"),
            List.of("get", "po", "-lapp=sleep", "-oname"),
            List.of("get", "po", "--selector=app=sleep", "--output=json"),
            List.of("get", "deploy", "sleep", "-o", "yaml"),
            List.of("get", "deploy/sleep", "svc/httpbin"),
            List.of("get", "deploy", "sleep", "nope"),
            List.of("get", "pods,svc", "-A"),
            List.of("get", "pods", "-o", "jsonpath={.items[*].metadata.name}"),
            List.of("get", "pods", "-ojsonpath={.items[0].status.podIP}"),
            List.of("get", "foo"),
            List.of("get", "pods", "-o", "table"),
            List.of("get", "pods", "-l", "app in (x"),
            List.of("get", "pods", "nope"),
            List.of("get", "secrets", "-A"),
            List.of("get", "svc", "-n", "nowhere"),
            List.of("get", "pods", "x", "y", "-o", "jsonpath={.x"));

    /** Lines it leaves to picocli (help, repeats, unknown or clustered flags, forms it does not read). */
    private static final List<List<String>> LEFT = List.of(
            List.of("get"),
            List.of("get", "--help"),
            List.of("get", "pods", "-A", "-A"),
            List.of("get", "pods", "-n", "a", "-n", "b"),
            List.of("get", "pods", "-Ao", "wide"),
            List.of("get", "pods", "-o=wide"),
            List.of("get", "pods", "-o"),
            List.of("get", "pods", "-o", "-A"),
            List.of("get", "pods", "--output="),
            List.of("get", "pods", "--watch"),
            List.of("get", "--", "pods"),
            List.of("-o", "wide", "get", "pods"),
            List.of("describe", "pods"),
            List.of("--version"));

    @Test
    void everyLineItTakesPrintsWhatPicocliPrints() {
        for (List<String> line : TAKEN) {
            String[] args = line.toArray(String[]::new);
            assertNotNull(QuickVerbs.parseGet(args), "the quick parser should take " + line);
            assertEquals(cluster.runWithPicocli(args), cluster.run(args), String.join(" ", line));
        }
    }

    @Test
    void whatItDoesNotReadExactlyGoesToPicocli() {
        for (List<String> line : LEFT) {
            String[] args = line.toArray(String[]::new);
            assertNull(QuickVerbs.parseGet(args), "the quick parser should leave " + line + " to picocli");
            assertEquals(cluster.runWithPicocli(args), cluster.run(args), String.join(" ", line));
        }
    }
}
