package io.sourcemesh.l4.transport;

import static org.junit.jupiter.api.Assertions.*;

import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetector.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Netty's leak detector and the system properties are process-wide: each case restores the level and properties it found ({@link ProcessDefaultsGuard}). */
class ProxyProcessDefaultsTest {
    @RegisterExtension
    final ProcessDefaultsGuard guard = new ProcessDefaultsGuard();

    @Test
    void leakDetectorOffUnlessTheUserAskedForALevel() {
        ResourceLeakDetector.setLevel(Level.SIMPLE); // Netty's default
        ProxyProcessDefaults.apply();
        assertEquals(Level.DISABLED, ResourceLeakDetector.getLevel());
    }

    @Test
    void theLeakLevelTheUserAskedForIsKept() {
        ResourceLeakDetector.setLevel(Level.PARANOID); // what Netty made of -Dio.netty.leakDetection.level=paranoid
        System.setProperty(ProxyProcessDefaults.LEAK_PROPERTY, "paranoid");
        ProxyProcessDefaults.apply();
        assertEquals(Level.PARANOID, ResourceLeakDetector.getLevel());
    }

    @Test
    void nettysOlderLeakPropertyNameCountsToo() {
        ResourceLeakDetector.setLevel(Level.ADVANCED);
        System.setProperty(ProxyProcessDefaults.LEGACY_LEAK_PROPERTY, "advanced");
        ProxyProcessDefaults.apply();
        assertEquals(Level.ADVANCED, ResourceLeakDetector.getLevel());
    }

    @Test
    void aLogRecordIsOneLineUnlessTheUserSetAFormat() {
        ProxyProcessDefaults.apply();
        assertEquals("[%1$tF %1$tT.%1$tL][%4$s] %5$s%6$s%n", System.getProperty(ProxyProcessDefaults.LOG_FORMAT_PROPERTY));
        System.setProperty(ProxyProcessDefaults.LOG_FORMAT_PROPERTY, "%5$s%n");
        ProxyProcessDefaults.apply();
        assertEquals("%5$s%n", System.getProperty(ProxyProcessDefaults.LOG_FORMAT_PROPERTY), "the user's format is kept");
    }
}
