package io.sourcemesh.cluster.network;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;

/**
 * Copies bytes from one channel to its peer, reading more only after the write drained; closing
 * either side closes both once queued bytes are flushed. Bytes read before the peer exists are held.
 */
final class Relay extends ChannelInboundHandlerAdapter {
    private Channel peer;
    private final ArrayDeque<Object> early = new ArrayDeque<>();
    private boolean inactive;

    Relay() {}

    Relay(Channel peer) {
        this.peer = peer;
    }

    /** Connects this side to its peer once the peer is up, flushing what was held. */
    void peer(ChannelHandlerContext ctx, Channel peer) {
        this.peer = peer;
        while (!early.isEmpty()) {
            peer.write(early.poll());
        }
        peer.flush();
        if (inactive) {
            closeOnFlush(peer);
        } else {
            ctx.read();
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (peer == null) {
            early.add(msg);
            return;
        }
        peer.writeAndFlush(msg).addListener((ChannelFutureListener) f -> {
            if (f.isSuccess()) {
                ctx.channel().read();
            } else {
                ctx.close();
            }
        });
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        inactive = true;
        if (peer != null) {
            closeOnFlush(peer);
        } else {
            early.forEach(ReferenceCountUtil::release);
            early.clear();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }

    static void closeOnFlush(Channel ch) {
        if (ch.isActive()) {
            ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
    }
}
