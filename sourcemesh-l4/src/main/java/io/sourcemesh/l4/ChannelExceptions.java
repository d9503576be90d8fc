package io.sourcemesh.l4;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import java.util.logging.Logger;

/**
 * What an L4 handler does with an exception: count it where the accepting side asked
 * ({@link Counter}, the proxy's {@code listener.<addr>.downstream_cx_exception}), log it at debug
 * (a client can cause exceptions at will), close the connection.
 */
public final class ChannelExceptions {
    private static final Logger LOG = Logger.getLogger("io.sourcemesh.proxy.network.ChannelErrors");

    /**
     * Counts an exception on an accepted channel: a handler whoever accepted it put in its pipeline
     * (one it has there anyway, so a connection holds no channel attribute for it).
     */
    public interface Counter extends ChannelHandler {
        void countException();
    }

    private ChannelExceptions() {}

    public static void caught(ChannelHandlerContext ctx, Throwable cause) {
        Channel ch = ctx.channel();
        Counter count = ch.pipeline().get(Counter.class);
        if (count != null) {
            count.countException();
        }
        LOG.fine(() -> "closing " + ch + " after " + cause);
        ctx.close();
    }
}
