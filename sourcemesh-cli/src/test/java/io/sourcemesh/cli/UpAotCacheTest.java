package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code up} gets an AOT cache of its own ({@code sourcemesh-up.aot}), made by its first successful run and used by
 * the next, apart from the short verbs' ({@code sourcemesh-cli.aot}); a verb that failed leaves no recording to be
 * assembled. On a checkout laid out as the build leaves it; {@code up --help} stands in for an {@code up} (it loads
 * the verb's command class and needs no cluster).
 */
class UpAotCacheTest {
    @RegisterExtension
    static final LauncherCheckout build = LauncherCheckout.laidOut();
    static final Path checkout = build.root;

    @Test
    void aFailedVerbLeavesNoRecordingToAssemble() throws Exception {
        Process p = run("", "get", "pods"); // no cluster runs in this home: the verb fails
        assertNotEquals(0, p.exitValue(), this::output);
        try (Stream<Path> files = Files.list(build.target)) {
            assertEquals(List.of(), files.map(f -> f.getFileName().toString()).filter(n -> n.startsWith("sourcemesh-cli.aot")).toList(),
                    "a failed run's recording is dropped, not assembled into the cache every later run would use");
        }
    }

    @Test
    void theFirstUpMakesItsOwnCacheAndTheNextUsesIt() throws Exception {
        Path upCache = build.target.resolve("sourcemesh-up.aot");
        assertEquals(0, run("", "up", "--help").exitValue(), this::output);
        assertTrue(output().contains("Usage: sourcemesh up"), this::output);
        assertTrue(LauncherCheckout.awaitCache(upCache), "the first up's recording was assembled into sourcemesh-up.aot");

        Path classes = checkout.resolve("classes.log");
        assertEquals(0, run("-Xlog:class+load=info:file=" + classes, "up", "--help").exitValue(), this::output);
        assertEquals("shared objects file", LauncherCheckout.classSource(classes, "io.sourcemesh.cli.UpCommand"));
        assertTrue(Files.notExists(build.target.resolve("sourcemesh-cli.aot")), "up makes no cache for the short verbs");
    }

    private Process run(String javaOpts, String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(checkout.resolve("sourcemesh").toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(checkout.resolve("launcher.out").toFile());
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("SOURCEMESH_JAVA_OPTS", javaOpts);
        pb.environment().put("SOURCEMESH_HOME", checkout.resolve("home").toString());
        pb.environment().remove("SOURCEMESH_NO_AOT_TRAINING");
        Process p = pb.start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), String.join(" ", args) + " ends");
        return p;
    }

    private String output() {
        try {
            return Files.readString(checkout.resolve("launcher.out"));
        } catch (Exception e) {
            return e.toString();
        }
    }
}
