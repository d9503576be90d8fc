package io.sourcemesh.l4;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;

/**
 * First in an upstream pipeline: the PROXY header goes out before any other byte — ahead of the
 * first write (the router writes the request from the connect listener, before channelActive),
 * or at channelActive when nothing was written yet (a server-first protocol). It leaves the
 * pipeline once the header is written (a clean pipeline lets tcp_proxy splice).
 */
final class ProxyHeaderWriter extends ChannelDuplexHandler {
    private final ProxyHeader header;
    private boolean sent;

    ProxyHeaderWriter(ProxyHeader header) {
        this.header = header;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        sendOnce(ctx);
        ctx.write(msg, promise);
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (!sent) {
            sendOnce(ctx);
            ctx.flush();
        }
        ctx.fireChannelActive();
    }

    private void sendOnce(ChannelHandlerContext ctx) {
        if (!sent) {
            sent = true;
            ctx.write(header.encode(), ctx.voidPromise());
            ctx.pipeline().remove(this);
        }
    }
}
