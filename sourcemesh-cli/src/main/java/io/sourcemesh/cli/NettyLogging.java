package io.sourcemesh.cli;

import io.netty.util.internal.logging.InternalLoggerFactory;
import io.netty.util.internal.logging.JdkLoggerFactory;

/**
 * Netty's logging set to JUL before any Netty class asks for a logger. Left to itself, Netty's first
 * logger probes for SLF4J, Log4j 2 and Log4j 1 before it settles on JUL: class lookups that fail
 * (each searching every jar on the class path) on the proxy's class path, which holds none of them.
 * The proxy logs through JUL (admin {@code /logging}), as Netty would have after the probes.
 */
final class NettyLogging {
    private NettyLogging() {}

    /** Called first by a proxy's entry points, before anything of Netty's loads. */
    static void useJul() {
        InternalLoggerFactory.setDefaultFactory(JdkLoggerFactory.INSTANCE);
    }
}
