package io.sourcemesh.proxy.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * request_headers_timeout on an HTTP/2 connection. Envoy's stream exists from its first HEADERS frame and its timer
 * stops at the end of the header block; Netty's codec makes a stream only once the block is whole, so this timer is
 * told of each inbound frame header by {@link H2FloodGuard} in front of the codec (one reading of the frame headers
 * for both, never the payloads) and times each header block from its HEADERS frame to the frame that says
 * END_HEADERS. A block left open that long (the client stalls in its CONTINUATIONs, and
 * no other frame may come between them) is Envoy's onRequestHeaderTimeout: {@link H2Connection#headerBlockTimedOut}
 * opens the stream and it is answered 408 and reset, the connection goes on. The rest of the block, if it comes, is
 * still decoded (HPACK state) and dropped by the codec as a frame of a closed stream. A stream that cannot be opened
 * (a PUSH_PROMISE, an id Netty refuses) closes the connection instead (GOAWAY; the streams already taken finish).
 */
final class H2HeaderBlockTimer {
    private static final byte HEADERS = 0x1;
    private static final byte PUSH_PROMISE = 0x5;
    private static final byte CONTINUATION = 0x9;
    private static final byte END_HEADERS = 0x4;

    private final H2Connection connection;
    private final long timeoutNanos;
    private ScheduledFuture<?> timer;
    /** The stream whose header block is being timed (0 for a PUSH_PROMISE's, which no client may send). */
    private int timedStream;

    H2HeaderBlockTimer(H2Connection connection, long timeoutNanos) {
        this.connection = connection;
        this.timeoutNanos = timeoutNanos;
    }

    /** The header of an inbound frame the flood guard let through ({@code ctx}: a handler of the connection's pipeline). */
    void frame(ChannelHandlerContext ctx, byte type, byte flags, int streamId) {
        if (type != HEADERS && type != PUSH_PROMISE && type != CONTINUATION) {
            return;
        }
        boolean ends = (flags & END_HEADERS) != 0;
        if (type != CONTINUATION && !ends && timer == null) {
            timedStream = type == HEADERS ? streamId : 0;
            timer = ctx.executor().schedule(() -> timedOut(ctx), timeoutNanos, TimeUnit.NANOSECONDS);
        } else if (ends && timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    private void timedOut(ChannelHandlerContext ctx) {
        timer = null;
        if (!ctx.channel().isActive()) {
            return;
        }
        if (timedStream == 0 || !connection.headerBlockTimedOut(ctx, timedStream)) {
            connection.filter().rqHeaderTimeout.inc();
            ctx.channel().close();
        }
    }

    /** The connection closed: a block still timed holds nothing in the loop's timer queue. */
    void stop() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }
}
