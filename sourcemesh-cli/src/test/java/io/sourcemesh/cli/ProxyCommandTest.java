package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetector.Level;
import io.sourcemesh.l4.transport.ProcessDefaultsGuard;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sourcemesh proxy} sets its process up first (l4.transport.ProxyProcessDefaults), as the netns runtime's
 * sidecar does. Validating a bootstrap runs that much and starts nothing; the test restores the leak detector's level
 * and the properties it found.
 */
class ProxyCommandTest {
    private static final String FORMAT = "java.util.logging.SimpleFormatter.format";

    @TempDir
    Path tmp;

    @RegisterExtension
    final ProcessDefaultsGuard guard = new ProcessDefaultsGuard();

    @Test
    void turnsNettysLeakDetectorOffAndMakesALogRecordOneLine() throws Exception {
        Path bootstrap = Files.writeString(tmp.resolve("bootstrap.yaml"), "node: {id: proxy-command-test}\n");
        ResourceLeakDetector.setLevel(Level.SIMPLE); // Netty's default
        assertEquals(0, ProxyMain.execute("proxy", "-c", bootstrap.toString(), "--mode", "validate"));
        assertEquals(Level.DISABLED, ResourceLeakDetector.getLevel());
        assertEquals("[%1$tF %1$tT.%1$tL][%4$s] %5$s%6$s%n", System.getProperty(FORMAT));
    }
}
