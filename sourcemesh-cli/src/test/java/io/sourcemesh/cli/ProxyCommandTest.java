package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetector.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sourcemesh proxy} sets its process up first (l4.transport.ProxyProcessDefaults), as the netns runtime's
 * sidecar does. Validating a bootstrap runs that much and starts nothing; the test restores the leak detector's level
 * and the properties it found.
 */
class ProxyCommandTest {
    private static final String FORMAT = "java.util.logging.SimpleFormatter.format";
    private static final List<String> PROPERTIES = List.of(FORMAT, "io.netty.leakDetection.level", "io.netty.leakDetectionLevel");

    @TempDir
    Path tmp;

    private Level level;
    private final Map<String, String> properties = new HashMap<>();

    @BeforeEach
    void remember() {
        level = ResourceLeakDetector.getLevel();
        for (String name : PROPERTIES) {
            String value = System.clearProperty(name);
            if (value != null) {
                properties.put(name, value);
            }
        }
    }

    @AfterEach
    void restore() {
        ResourceLeakDetector.setLevel(level);
        for (String name : PROPERTIES) {
            if (properties.containsKey(name)) {
                System.setProperty(name, properties.get(name));
            } else {
                System.clearProperty(name);
            }
        }
    }

    @Test
    void turnsNettysLeakDetectorOffAndMakesALogRecordOneLine() throws Exception {
        Path bootstrap = Files.writeString(tmp.resolve("bootstrap.yaml"), "node: {id: proxy-command-test}\n");
        ResourceLeakDetector.setLevel(Level.SIMPLE); // Netty's default
        assertEquals(0, ProxyMain.execute("proxy", "-c", bootstrap.toString(), "--mode", "validate"));
        assertEquals(Level.DISABLED, ResourceLeakDetector.getLevel());
        assertEquals("[%1$tF %1$tT.%1$tL][%4$s] %5$s%6$s%n", System.getProperty(FORMAT));
    }
}
