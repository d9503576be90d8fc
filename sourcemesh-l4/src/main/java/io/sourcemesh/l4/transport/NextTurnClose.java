package io.sourcemesh.l4.transport;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.uring.IoUringSocketChannel;
import java.util.concurrent.RejectedExecutionException;

/**
 * A close of an io_uring connection, carried out on its loop's next turn; on epoll and NIO at once. For the handler
 * every connection has first (its {@code close} calls this), so it acts only when closing: no per-request cost.
 *
 * <p>Why (Netty 4.2.18, {@code AbstractIoUringChannel.AbstractUringUnsafe}): a close issued while a read is handled
 * ({@code readComplete}) with a write still in the ring is delayed ({@code delayedClose}: {@code canCloseNow()} is false
 * while WRITE_SCHEDULED is set) and the channel stays active; when the read's handler asked for the next read
 * ({@code read()}: {@code readPending}), {@code readComplete}'s end calls {@code doBeginReadNow()}, whose
 * {@code schedulePollIn()} checks {@code isActive()} but not {@code delayedClose}, and arms a POLLIN after
 * {@code cancelOps()} ran (seen: ioState 0x19 and a pollInId when the write completes). The write completes and the
 * IORING_OP_CLOSE goes in, yet the socket stays ESTABLISHED, owned by no fd, until the peer sends again (then an RST)
 * or the idle timeout. Closed a turn later, the read is over and its POLLIN is one {@code cancelOps()} cancels.
 */
public final class NextTurnClose {
    private NextTurnClose() {}

    /**
     * Closes {@code ctx}'s channel onward from {@code ctx}: on io_uring after the event being handled, else now. A
     * channel not active (a connect that failed) closes now: no POLLIN can be armed for it, and its close is counted
     * before the failure's reply reaches the client.
     */
    public static void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        if (ctx.channel() instanceof IoUringSocketChannel && ctx.channel().isActive()) {
            try {
                ctx.executor().execute(() -> ctx.close(promise));
                return;
            } catch (RejectedExecutionException e) {
                // The loop is shutting down: it closes its channels itself; this close goes through now.
            }
        }
        ctx.close(promise);
    }

    /**
     * A first handler that does only this, for pipelines with no first handler of their own (upstream connections, the
     * L4 forwarders' clients): shared, and only on the close path (Netty skips it for reads, writes and flushes).
     */
    public static ChannelHandler handler() {
        return Handler.INSTANCE;
    }

    /** The handler {@link #handler} returns; a type of its own so a pipeline check can tell it passes bytes by. */
    @ChannelHandler.Sharable
    public static final class Handler extends ChannelOutboundHandlerAdapter {
        private static final Handler INSTANCE = new Handler();

        private Handler() {}

        @Override
        public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
            NextTurnClose.close(ctx, promise);
        }
    }
}
