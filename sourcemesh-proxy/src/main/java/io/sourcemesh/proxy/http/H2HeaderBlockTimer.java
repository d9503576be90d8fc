package io.sourcemesh.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * request_headers_timeout on an HTTP/2 connection. Envoy's stream exists from its first HEADERS frame and its timer
 * stops at the end of the header block; Netty's codec makes a stream only once the block is whole, so this handler, in
 * front of the codec, reads the frame headers going by (never the payloads) and times each header block from its HEADERS
 * frame to the frame that says END_HEADERS. A block left open that long (the client stalls in its CONTINUATIONs, and
 * no other frame may come between them) counts downstream_rq_header_timeout and closes the connection: GOAWAY, the
 * streams already taken finish. (Envoy answers that stream 408; Netty cannot write on a stream it has not made.)
 */
final class H2HeaderBlockTimer extends ChannelInboundHandlerAdapter {
    static final String NAME = "h2-header-block-timer";
    private static final int PREFACE_LENGTH = 24;
    private static final int FRAME_HEADER_LENGTH = 9;
    private static final byte HEADERS = 0x1;
    private static final byte PUSH_PROMISE = 0x5;
    private static final byte CONTINUATION = 0x9;
    private static final byte END_HEADERS = 0x4;

    private final HttpConnectionManagerFilter filter;
    private final long timeoutNanos;
    /** Bytes of the client preface still to pass. */
    private int prefaceLeft = PREFACE_LENGTH;
    /** The frame header being read, byte by byte across reads. */
    private final byte[] header = new byte[FRAME_HEADER_LENGTH];
    private int headerRead;
    /** Payload bytes of the current frame still to pass. */
    private long payloadLeft;
    private ScheduledFuture<?> timer;

    H2HeaderBlockTimer(HttpConnectionManagerFilter filter, long timeoutNanos) {
        this.filter = filter;
        this.timeoutNanos = timeoutNanos;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf bytes) {
            scan(ctx, bytes);
        }
        ctx.fireChannelRead(msg);
    }

    private void scan(ChannelHandlerContext ctx, ByteBuf bytes) {
        int i = bytes.readerIndex();
        int end = bytes.writerIndex();
        while (i < end) {
            if (prefaceLeft > 0) {
                int n = Math.min(prefaceLeft, end - i);
                prefaceLeft -= n;
                i += n;
            } else if (payloadLeft > 0) {
                int n = (int) Math.min(payloadLeft, end - i);
                payloadLeft -= n;
                i += n;
            } else {
                header[headerRead++] = bytes.getByte(i++);
                if (headerRead == FRAME_HEADER_LENGTH) {
                    headerRead = 0;
                    payloadLeft = ((header[0] & 0xffL) << 16) | ((header[1] & 0xff) << 8) | (header[2] & 0xff);
                    frame(ctx, header[3], header[4]);
                }
            }
        }
    }

    private void frame(ChannelHandlerContext ctx, byte type, byte flags) {
        if (type != HEADERS && type != PUSH_PROMISE && type != CONTINUATION) {
            return;
        }
        boolean ends = (flags & END_HEADERS) != 0;
        if (type != CONTINUATION && !ends && timer == null) {
            timer = ctx.executor().schedule(() -> timedOut(ctx), timeoutNanos, TimeUnit.NANOSECONDS);
        } else if (ends && timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    private void timedOut(ChannelHandlerContext ctx) {
        timer = null;
        if (ctx.channel().isActive()) {
            filter.rqHeaderTimeout.inc();
            ctx.channel().close();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
        ctx.fireChannelInactive();
    }
}
