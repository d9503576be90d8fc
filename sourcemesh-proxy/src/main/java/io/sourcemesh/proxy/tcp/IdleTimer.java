package io.sourcemesh.proxy.tcp;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.sourcemesh.proxy.network.ByteTransparent;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * tcp_proxy's {@code idle_timeout}: closes the downstream connection when no byte was read from or
 * written to it for the timeout — what Netty's all-idle {@code IdleStateHandler} does, plus
 * {@link #activity()} for bytes that splice moves past the pipeline.
 */
final class IdleTimer extends ChannelDuplexHandler implements ByteTransparent {
    private final long timeoutNanos;
    private final Runnable onIdle;
    private ScheduledFuture<?> check;
    private long last;
    private boolean reading;

    IdleTimer(Duration timeout, Runnable onIdle) {
        this.timeoutNanos = timeout.toNanos();
        this.onIdle = onIdle;
    }

    /** Bytes moved on this connection outside the pipeline (spliced). */
    void activity() {
        last = System.nanoTime();
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (ctx.channel().isActive()) {
            start(ctx);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        start(ctx);
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        stop();
        ctx.fireChannelInactive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        stop();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        reading = true;
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (reading) {
            last = System.nanoTime();
            reading = false;
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        ctx.write(msg, promise.unvoid()).addListener((ChannelFutureListener) f -> last = System.nanoTime());
    }

    private void start(ChannelHandlerContext ctx) {
        if (check == null) {
            last = System.nanoTime();
            check = ctx.executor().schedule(() -> check(ctx), timeoutNanos, TimeUnit.NANOSECONDS);
        }
    }

    private void check(ChannelHandlerContext ctx) {
        if (!ctx.channel().isOpen()) {
            return;
        }
        long next = reading ? timeoutNanos : timeoutNanos - (System.nanoTime() - last);
        if (next <= 0) {
            onIdle.run();
            ctx.close();
            return;
        }
        check = ctx.executor().schedule(() -> check(ctx), next, TimeUnit.NANOSECONDS);
    }

    private void stop() {
        if (check != null) {
            check.cancel(false);
        }
    }
}
