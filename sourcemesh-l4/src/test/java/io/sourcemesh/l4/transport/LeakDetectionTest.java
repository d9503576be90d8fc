package io.sourcemesh.l4.transport;

import static org.junit.jupiter.api.Assertions.*;

import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetector.Level;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Netty's leak detector is process-wide: each case restores the level and properties it found. */
class LeakDetectionTest {
    private Level before;
    private String property;
    private String legacy;

    @BeforeEach
    void remember() {
        before = ResourceLeakDetector.getLevel();
        property = System.clearProperty(LeakDetection.PROPERTY);
        legacy = System.clearProperty(LeakDetection.LEGACY_PROPERTY);
    }

    @AfterEach
    void restore() {
        ResourceLeakDetector.setLevel(before);
        restore(LeakDetection.PROPERTY, property);
        restore(LeakDetection.LEGACY_PROPERTY, legacy);
    }

    private static void restore(String name, String value) {
        if (value == null) {
            System.clearProperty(name);
        } else {
            System.setProperty(name, value);
        }
    }

    @Test
    void offUnlessTheUserAskedForALevel() {
        ResourceLeakDetector.setLevel(Level.SIMPLE);
        LeakDetection.processDefault();
        assertEquals(Level.DISABLED, ResourceLeakDetector.getLevel());
    }

    @Test
    void theLevelTheUserAskedForIsKept() {
        ResourceLeakDetector.setLevel(Level.PARANOID); // what Netty made of -Dio.netty.leakDetection.level=paranoid
        System.setProperty(LeakDetection.PROPERTY, "paranoid");
        LeakDetection.processDefault();
        assertEquals(Level.PARANOID, ResourceLeakDetector.getLevel());
    }

    @Test
    void nettysOlderPropertyNameCountsToo() {
        ResourceLeakDetector.setLevel(Level.ADVANCED);
        System.setProperty(LeakDetection.LEGACY_PROPERTY, "advanced");
        LeakDetection.processDefault();
        assertEquals(Level.ADVANCED, ResourceLeakDetector.getLevel());
    }
}
