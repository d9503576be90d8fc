package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code demo} gets an AOT cache of its own ({@code sourcemesh-demo.aot}), made by its first run — recorded
 * by that run, assembled in the background — and used by the next, without making or using the short verbs'
 * cache ({@code sourcemesh-cli.aot}). On a checkout laid out as the build leaves it; {@code demo --help} stands
 * in for a demo (it loads the demo's command class, and needs no cluster).
 */
class DemoAotCacheTest {
    @RegisterExtension
    static final LauncherCheckout build = LauncherCheckout.laidOut();
    static final Path checkout = build.root;

    @Test
    void theFirstDemoMakesItsOwnCacheAndTheNextUsesIt() throws Exception {
        Path demoCache = build.target.resolve("sourcemesh-demo.aot");
        Path verbsCache = build.target.resolve("sourcemesh-cli.aot");
        assertEquals(0, run("").exitValue(), this::output);
        assertTrue(LauncherCheckout.awaitCache(demoCache), "the first demo's recording was assembled into sourcemesh-demo.aot");
        assertFalse(Files.exists(verbsCache), "the demo makes no cache for the short verbs");

        Path classes = checkout.resolve("classes.log");
        assertEquals(0, run("-Xlog:class+load=info:file=" + classes).exitValue(), this::output);
        assertEquals("shared objects file", LauncherCheckout.classSource(classes, "io.sourcemesh.cli.DemoCommand"));
        assertFalse(Files.exists(verbsCache), "nor does it use one");
    }

    private Process run(String javaOpts) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(List.of(checkout.resolve("sourcemesh").toString(), "demo", "--help"))
                .redirectErrorStream(true).redirectOutput(checkout.resolve("launcher.out").toFile());
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("SOURCEMESH_JAVA_OPTS", javaOpts);
        pb.environment().put("SOURCEMESH_HOME", checkout.resolve("home").toString());
        pb.environment().remove("SOURCEMESH_NO_AOT_TRAINING");
        Process p = pb.start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "demo --help ends");
        assertTrue(output().contains("Usage: sourcemesh demo"), this::output);
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
