package io.sourcemesh.cluster.netns;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetector.Level;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The sidecar started without the CLI sets its process up as the CLI's proxy command does. The settings are
 * process-wide: the test restores the leak detector's level and the properties it found.
 */
class SidecarMainTest {
    private static final String FORMAT = "java.util.logging.SimpleFormatter.format";
    /** The format and the properties a user asks Netty for a leak detection level with. */
    private static final List<String> PROPERTIES = List.of(FORMAT, "io.netty.leakDetection.level", "io.netty.leakDetectionLevel");

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
    void nettysLeakDetectorIsOffAndALogRecordIsOneLine() {
        ResourceLeakDetector.setLevel(Level.SIMPLE); // Netty's default
        SidecarMain.processDefaults();
        assertEquals(Level.DISABLED, ResourceLeakDetector.getLevel(), "the CLI's proxy samples no buffers, nor does this one");
        assertEquals("[%1$tF %1$tT.%1$tL][%4$s] %5$s%6$s%n", System.getProperty(FORMAT));
    }
}
