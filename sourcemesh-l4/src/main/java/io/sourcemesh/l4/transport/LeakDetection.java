package io.sourcemesh.l4.transport;

import io.netty.util.ResourceLeakDetector;

/**
 * Netty's buffer leak detector for a proxy process. Netty samples buffers by default even in
 * production (about 2 µs of CPU per proxied request here); a proxy process turns it off unless
 * the user asked for a level with {@code -Dio.netty.leakDetection.level=simple|advanced|paranoid}
 * (or Netty's older {@code io.netty.leakDetectionLevel}), which Netty has then applied itself.
 * Tests that embed a proxy keep Netty's default.
 */
public final class LeakDetection {
    static final String PROPERTY = "io.netty.leakDetection.level";
    static final String LEGACY_PROPERTY = "io.netty.leakDetectionLevel";

    private LeakDetection() {}

    /** For a proxy process's entry point, before the first buffer is allocated. */
    public static void processDefault() {
        if (System.getProperty(PROPERTY) == null && System.getProperty(LEGACY_PROPERTY) == null) {
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        }
    }
}
