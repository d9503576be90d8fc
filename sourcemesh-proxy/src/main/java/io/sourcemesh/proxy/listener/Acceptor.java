package io.sourcemesh.proxy.listener;

import io.netty.channel.Channel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.sourcemesh.l4.transport.Transport;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The listening channel's handler: what Netty's {@code ServerBootstrap} acceptor and a
 * {@code ChannelInitializer} did for each accepted connection, in one step. The listener's handler
 * ({@link ListenerRuntime.Accepted}) goes into the connection's pipeline before it is registered,
 * instead of an initializer that each connection's pipeline added, ran, and removed again (with
 * Netty's concurrent set of initializers in progress). The connection's settings are written
 * directly, not looked up option by option in the bootstrap's map.
 */
final class Acceptor extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = Logger.getLogger(Acceptor.class.getName());

    private final ListenerRuntime listener;
    private final Transport transport;

    Acceptor(ListenerRuntime listener, Transport transport) {
        this.listener = listener;
        this.transport = transport;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        Channel child = (Channel) msg;
        try {
            ChannelConfig config = child.config();
            config.setAutoRead(false);
            config.setRecvByteBufAllocator(ListenerRuntime.RECV_ALLOCATOR);
            transport.acceptedOptions(config);
            listener.accepted(child);
            transport.group().register(child).addListener(f -> {
                if (!f.isSuccess()) {
                    forceClose(child, f.cause());
                }
            });
        } catch (Throwable t) {
            forceClose(child, t);
        }
    }

    private static void forceClose(Channel child, Throwable cause) {
        child.unsafe().closeForcibly();
        LOG.log(Level.WARNING, "failed to register an accepted channel: " + child, cause);
    }

    /**
     * An accept failed (e.g. out of file descriptors): stop accepting for a second, as Netty's acceptor does,
     * so the loop does not spin on the same error.
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ChannelConfig config = ctx.channel().config();
        if (config.isAutoRead()) {
            config.setAutoRead(false);
            ctx.channel().eventLoop().schedule(() -> config.setAutoRead(true), 1, TimeUnit.SECONDS);
        }
        ctx.fireExceptionCaught(cause);
    }
}
