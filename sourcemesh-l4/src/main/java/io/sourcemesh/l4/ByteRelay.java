package io.sourcemesh.l4;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelConfig;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.function.LongConsumer;

/**
 * Copies the bytes one side reads to its peer. It reads on while what waits to be written to the
 * peer stays at or under {@link #BUFFER_LIMIT} (Envoy's per-connection buffer limit), so a read
 * and a write are in flight together; past it, or past its worker's {@link ReadAheadBudget}, it
 * reads again only once that write completed (everything queued before it too). A slow reader on
 * the far side therefore holds at most the limit plus one read in this process, all connections
 * of a worker together at most that budget plus one read each; TCP windows do the rest. Closing either side
 * closes the other once what is queued has been written. Bytes read before the peer exists are
 * held and sent first, also when this side closed meanwhile (a client that sends and closes at
 * once: io_uring reads it on POLLRDHUP before anyone asks); {@link #abandon} drops them if the peer
 * never comes. Used by tcp_proxy, by upgraded HTTP connections and by the local cluster's
 * L4 forwarders.
 */
public final class ByteRelay extends ChannelInboundHandlerAdapter {
    /**
     * Bytes a relay lets wait in user space for one socket before its source stops reading: Envoy's
     * default per_connection_buffer_limit_bytes (1 MiB), which bounds its tcp_proxy's buffers the same way.
     */
    public static final int BUFFER_LIMIT = 1 << 20;
    /** The largest single read: a bulk stream reads this much per system call or ring operation, not 64 KB. */
    public static final int MAX_READ = 256 << 10;
    private static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(BUFFER_LIMIT / 2, BUFFER_LIMIT);
    private static final AdaptiveRecvByteBufAllocator READS = new AdaptiveRecvByteBufAllocator(64, 2048, MAX_READ);

    private ChannelHandlerContext ctx;
    private Channel peer;
    private final LongConsumer onRead;
    private final Runnable onInactive;
    private final ArrayDeque<Object> early = new ArrayDeque<>();
    private boolean inactive;
    private ReadAheadBudget budget;

    private ByteRelay(Channel peer, LongConsumer onRead, Runnable onInactive) {
        this.peer = peer;
        this.onRead = onRead;
        this.onInactive = onInactive;
    }

    /** Relays to {@code peer}; {@code onRead} counts the bytes this side read, {@code onInactive} runs when it closes. */
    public static ByteRelay to(Channel peer, LongConsumer onRead, Runnable onInactive) {
        return new ByteRelay(peer, onRead, onInactive);
    }

    /** A relay whose peer is not connected yet: call {@link #peer} once it is. */
    public static ByteRelay pending(LongConsumer onRead, Runnable onInactive) {
        return new ByteRelay(null, onRead, onInactive);
    }

    /**
     * Sizes {@code ch}'s reads and write buffer for relaying: reads adapt up to {@link #MAX_READ},
     * writes queue up to {@link #BUFFER_LIMIT}. Only before the channel's first read does the read
     * size take (Netty keeps the handle it made then); a relay tunes the channel it is added to.
     */
    public static void tune(Channel ch) {
        ChannelConfig config = ch.config();
        config.setWriteBufferWaterMark(WATER_MARK);
        io.netty.channel.RecvByteBufAllocator reads = config.getRecvByteBufAllocator();
        if (reads.getClass() == AdaptiveRecvByteBufAllocator.class || reads instanceof io.sourcemesh.l4.transport.CompactRecvAllocator) {
            config.setRecvByteBufAllocator(READS); // Netty's default or a listener's; an allocator someone chose stays
        }
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        tune(ctx.channel());
    }

    /** Connects this side to its peer, sending what was held, then reads on. */
    public void peer(ChannelHandlerContext ctx, Channel peer) {
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
        if (!(msg instanceof ByteBuf buf)) {
            ReferenceCountUtil.release(msg); // a codec's leftover: nothing to relay
            ctx.read();
            return;
        }
        onRead.accept(buf.readableBytes());
        if (peer == null) {
            early.add(msg);
            return;
        }
        int n = buf.readableBytes();
        ChannelFuture written = peer.writeAndFlush(msg);
        if (written.isDone()) { // the socket took it all (or failed): nothing held
            if (written.isSuccess()) {
                ctx.read();
            } else {
                ctx.close();
            }
            return;
        }
        if (budget == null) {
            budget = ReadAheadBudget.current(); // here, on this channel's worker
        }
        if (peer.isWritable() && budget.take(n)) {
            ReadAheadBudget held = budget;
            written.addListener(f -> {
                held.give(n);
                if (!f.isSuccess()) {
                    ctx.close();
                }
            });
            ctx.read(); // while this write is in flight
        } else {
            written.addListener(readAfterWrite);
        }
    }

    private final ChannelFutureListener readAfterWrite = f -> {
        if (f.isSuccess()) {
            ctx.channel().read();
        } else {
            ctx.close();
        }
    };

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        inactive = true;
        onInactive.run();
        if (peer != null) {
            closeOnFlush(peer);
        }
        // else: peer() sends what was held, then closes; abandon() drops it if the peer never comes.
    }

    /** The peer will never come (its connect failed): releases what was held for it. */
    public void abandon() {
        early.forEach(ReferenceCountUtil::release);
        early.clear();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt instanceof IdleStateEvent) {
            ctx.close();
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ChannelExceptions.caught(ctx, cause); // counts only on a downstream channel (the attribute is on those)
    }

    /** Closes {@code ch} after everything written to it so far has been flushed. */
    public static void closeOnFlush(Channel ch) {
        if (ch.isActive()) {
            ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }
    }
}
