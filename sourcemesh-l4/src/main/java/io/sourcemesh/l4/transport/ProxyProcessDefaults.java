package io.sourcemesh.l4.transport;

import io.netty.util.ResourceLeakDetector;

/**
 * What a proxy process sets first, before its first logger and its first buffer: the CLI's {@code sourcemesh proxy}
 * and the netns runtime's sidecar started without the CLI ({@code cluster.netns.SidecarMain}) both call
 * {@link #apply}. Tests that embed a proxy keep the JDK's and Netty's defaults.
 *
 * <ul>
 * <li>A log record on one line, as Envoy's ({@code [date time][LEVEL] message}), not the JDK's two: the proxy's own
 * lines (ADS updates, rejections) sit among its access-log lines. A {@code -Djava.util.logging.SimpleFormatter.format}
 * of the user's is kept.
 * <li>Netty's buffer leak detector off: Netty samples buffers by default even in production (a tracked buffer 1 in
 * 128, about 1.9 µs of CPU per proxied request in a profile, BENCHMARKS.md). A level the user asked for with
 * {@code -Dio.netty.leakDetection.level=simple|advanced|paranoid} (or Netty's older
 * {@code io.netty.leakDetectionLevel}) wins: Netty has applied it itself, and it is left alone.
 * </ul>
 */
public final class ProxyProcessDefaults {
    static final String LOG_FORMAT_PROPERTY = "java.util.logging.SimpleFormatter.format";
    static final String LOG_FORMAT = "[%1$tF %1$tT.%1$tL][%4$s] %5$s%6$s%n";
    static final String LEAK_PROPERTY = "io.netty.leakDetection.level";
    static final String LEGACY_LEAK_PROPERTY = "io.netty.leakDetectionLevel";

    private ProxyProcessDefaults() {}

    /** For a proxy process's entry point, before anything logs or allocates a buffer. */
    public static void apply() {
        if (System.getProperty(LOG_FORMAT_PROPERTY) == null) {
            System.setProperty(LOG_FORMAT_PROPERTY, LOG_FORMAT);
        }
        if (System.getProperty(LEAK_PROPERTY) == null && System.getProperty(LEGACY_LEAK_PROPERTY) == null) {
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        }
    }
}
