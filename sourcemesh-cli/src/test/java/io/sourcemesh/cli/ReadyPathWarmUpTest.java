package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code up}'s path after its daemon is ready, in a cold JVM, loads hundreds of classes; after
 * {@link ReadyPathWarmUp} (which {@code up} runs while it waits) it loads few. Each in a JVM of its own.
 */
class ReadyPathWarmUpTest {
    @Test
    void afterTheWarmUpTheReadyPathLoadsFewClasses() throws Exception {
        long cold = classesLoaded("cold");
        long warm = classesLoaded("warm");
        assertTrue(cold > 100, "a cold JVM's ready path: " + cold + " classes");
        assertTrue(warm < 20, "after the warm-up the ready path loads few classes: " + warm + " (cold: " + cold + ")");
    }

    private static long classesLoaded(String mode) throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(List.of(java.toString(), "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"),
                ReadyPathWarmUpProbe.class.getName(), mode)).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            assertEquals("nodes 2", out.readLine(), "the ready path read the daemon's info");
            String line = out.readLine();
            assertTrue(line != null && line.startsWith("classes "), line);
            assertEquals(0, p.waitFor());
            return Long.parseLong(line.substring("classes ".length()));
        } finally {
            p.destroyForcibly();
        }
    }
}
