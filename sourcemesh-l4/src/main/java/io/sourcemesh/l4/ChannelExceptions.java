package io.sourcemesh.l4;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.util.AttributeKey;
import java.util.logging.Logger;

/**
 * What an L4 handler does with an exception: count it where the accepting side asked
 * ({@link #COUNT}, the proxy's {@code listener.<addr>.downstream_cx_exception}), log it at debug
 * (a client can cause exceptions at will), close the connection.
 */
public final class ChannelExceptions {
    private static final Logger LOG = Logger.getLogger("io.sourcemesh.proxy.network.ChannelErrors");

    /** Counts an exception on an accepted channel; set by whoever accepted it. */
    public static final AttributeKey<Runnable> COUNT = AttributeKey.valueOf("sourcemesh.exception-count");

    private ChannelExceptions() {}

    public static void caught(ChannelHandlerContext ctx, Throwable cause) {
        Channel ch = ctx.channel();
        Runnable count = ch.attr(COUNT).get();
        if (count != null) {
            count.run();
        }
        LOG.fine(() -> "closing " + ch + " after " + cause);
        ctx.close();
    }
}
