package io.sourcemesh.cluster.netns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetector.Level;
import io.sourcemesh.l4.transport.ProcessDefaultsGuard;
import io.sourcemesh.proxy.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sidecar started without the CLI sets its process up as the CLI's proxy command does: what {@link SidecarMain#main}
 * runs before it waits for SIGTERM ({@link SidecarMain#start}) is run here. The settings are process-wide: the test
 * restores the leak detector's level and the properties it found, and stops the proxy and the governor it started.
 */
class SidecarMainTest {
    private static final String FORMAT = "java.util.logging.SimpleFormatter.format";
    /** The name {@code l4.transport.CompilerThreads} gives its governor's thread. */
    private static final String GOVERNOR = "sourcemesh-compiler-policy";
    /** The process defaults, and the property that turns the compiler threads' governor off. */
    @RegisterExtension
    final ProcessDefaultsGuard guard = new ProcessDefaultsGuard("sourcemesh.compilerThreads");

    @TempDir
    Path tmp;

    private Proxy proxy;
    private final Set<Thread> governors = new HashSet<>();

    @AfterEach
    void stopWhatItStarted() throws InterruptedException {
        if (proxy != null) {
            proxy.close();
        }
        for (Thread g : governors) {
            g.interrupt(); // its loop ends when interrupted
            g.join(5_000);
        }
    }

    @Test
    void mainTurnsNettysLeakDetectorOffMakesALogRecordOneLineAndGovernsTheCompilerThreads() throws Exception {
        Path bootstrap = Files.writeString(tmp.resolve("bootstrap.yaml"), "node: {id: sidecar-main-test}\n");
        ResourceLeakDetector.setLevel(Level.SIMPLE); // Netty's default
        Set<Thread> before = governors();
        proxy = SidecarMain.start("-c", bootstrap.toString(), "--concurrency", "1");
        governors.addAll(governors());
        governors.removeAll(before);
        assertNotNull(proxy, "the bootstrap is valid");
        assertEquals(Level.DISABLED, ResourceLeakDetector.getLevel(), "the CLI's proxy samples no buffers, nor does this one");
        assertEquals("[%1$tF %1$tT.%1$tL][%4$s] %5$s%6$s%n", System.getProperty(FORMAT));
        assertEquals(1, governors.size(), () -> "one governor started, beside " + before);
    }

    /** The live threads named as the compiler threads' governor. */
    private static Set<Thread> governors() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.isAlive() && t.getName().equals(GOVERNOR))
                .collect(Collectors.toSet());
    }
}
