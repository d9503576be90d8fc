package io.sourcemesh.proxy.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.DefaultHttp2PingFrame;
import io.netty.util.concurrent.ScheduledFuture;
import io.sourcemesh.proxy.config.Http2Keepalive;
import io.sourcemesh.proxy.stats.Stats;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * http2_protocol_options.connection_keepalive on one HTTP/2 connection, as Envoy's codec keeps it (ConnectionImpl's
 * sendKeepalive, onKeepaliveResponse, onKeepaliveResponseTimeout): a PING every interval plus up to jitter% of it; once
 * one is out, no frame read within the timeout closes the connection and counts {@code http2.keepalive_timeout}. It
 * sits before the frame codec, so any bytes read extend the wait (a busy connection's ACK may queue behind its DATA);
 * the connection's handler after the codec tells it of the PING's ACK ({@link #acked}).
 */
final class H2Keepalive extends ChannelInboundHandlerAdapter {
    static final String NAME = "h2-keepalive";

    private final Http2Keepalive settings;
    private final Stats.Counter timeouts;
    private ChannelHandlerContext ctx;
    private Channel channel;
    private ScheduledFuture<?> next;
    private ScheduledFuture<?> deadline;

    H2Keepalive(Http2Keepalive settings, Stats.Counter timeouts) {
        this.settings = settings;
        this.timeouts = timeouts;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        channel = ctx.channel();
        channel.closeFuture().addListener((ChannelFutureListener) f -> cancel());
        if (channel.isActive()) {
            scheduleNext();
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (next == null && deadline == null) {
            scheduleNext();
        }
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (deadline != null) {
            deadline.cancel(false);
            deadline = schedule(this::timedOut, settings.timeout().toNanos());
        }
        ctx.fireChannelRead(msg);
    }

    /** The peer's PING ACK: the wait ends, the next PING is due after another interval. */
    void acked() {
        if (deadline != null) {
            deadline.cancel(false);
            deadline = null;
        }
        if (next == null) {
            scheduleNext();
        }
    }

    private void scheduleNext() {
        if (!channel.isOpen()) {
            return;
        }
        long interval = settings.interval().toNanos();
        long jitter = (long) (interval * settings.jitterPercent() / 100);
        next = schedule(this::send, interval + (jitter > 0 ? ThreadLocalRandom.current().nextLong(jitter) : 0));
    }

    private void send() {
        next = null;
        if (deadline != null || !channel.isActive()) {
            return; // one PING at a time
        }
        channel.writeAndFlush(new DefaultHttp2PingFrame(System.currentTimeMillis()));
        deadline = schedule(this::timedOut, settings.timeout().toNanos());
    }

    private void timedOut() {
        deadline = null;
        timeouts.inc();
        // Envoy closes without flushing: from here, before the frame codec, so no GOAWAY waits on a peer that is gone.
        ctx.close();
    }

    private ScheduledFuture<?> schedule(Runnable task, long nanos) {
        return channel.eventLoop().schedule(task, nanos, TimeUnit.NANOSECONDS);
    }

    private void cancel() {
        if (next != null) {
            next.cancel(false);
            next = null;
        }
        if (deadline != null) {
            deadline.cancel(false);
            deadline = null;
        }
    }
}
