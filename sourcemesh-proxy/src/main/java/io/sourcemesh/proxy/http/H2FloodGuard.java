package io.sourcemesh.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.util.ReferenceCountUtil;
import io.sourcemesh.proxy.config.Http2FloodLimits;

/**
 * Envoy's HTTP/2 flood protection on one downstream connection (source/common/http/http2/protocol_constraints.cc,
 * codec_impl.cc), between the socket (or TLS) and Netty's frame codec, reading only the 9-byte frame headers going by
 * in both directions. Outbound: frames written but not yet taken by the socket, all of them (max_outbound_frames) and
 * the PING and SETTINGS acknowledgements and RST_STREAMs among them (max_outbound_control_frames) — a client that
 * sends PINGs and never reads their acks. Inbound: consecutive DATA, HEADERS or CONTINUATION frames with no payload
 * and no END_STREAM, PRIORITY frames beyond the limit per opened stream, WINDOW_UPDATEs beyond 1 + 2 × (streams +
 * limit × DATA frames sent). Over a limit the connection is terminated, counted in http2.outbound_flood,
 * outbound_control_flood, inbound_empty_frames_flood, inbound_priority_frames_flood or
 * inbound_window_update_frames_flood; the frame that broke it never reaches the codec. The inbound frame headers it
 * reads are also request_headers_timeout's ({@link H2HeaderBlockTimer}), so the bytes are scanned once for both.
 */
final class H2FloodGuard extends ChannelDuplexHandler {
    static final String NAME = "h2-flood-guard";
    private static final int PREFACE_LENGTH = 24;
    private static final byte DATA = 0x0;
    private static final byte HEADERS = 0x1;
    private static final byte PRIORITY = 0x2;
    private static final byte RST_STREAM = 0x3;
    private static final byte SETTINGS = 0x4;
    private static final byte PING = 0x6;
    private static final byte WINDOW_UPDATE = 0x8;
    private static final byte CONTINUATION = 0x9;
    private static final byte END_STREAM = 0x1;
    private static final byte ACK = 0x1;
    private static final byte END_HEADERS = 0x4;

    private final Http2FloodLimits limits;
    private final H2Stats stats;
    private final H2FrameHeaders in = new H2FrameHeaders(PREFACE_LENGTH);
    private final H2FrameHeaders out = new H2FrameHeaders(0);

    private long outboundFrames;
    private long outboundControlFrames;
    private long outboundDataFrames;
    private long inboundStreams;
    private long consecutiveEmpty;
    private long priorityFrames;
    private long windowUpdates;
    private boolean terminated;
    private LoopClock clock;

    /**
     * The writes whose frames are counted and not yet taken by the socket, oldest first: each one's promise and what it
     * added to the counts (frames in the high half, control frames in the low), taken back by {@link #released} when
     * the promise completes. Netty completes them in order, so that is the head; one done out of order leaves a hole
     * (a null promise) popped once the head reaches it. At most max_outbound_frames entries, as each holds a frame.
     */
    private ChannelFuture[] pendingWrites = new ChannelFuture[16];
    private long[] pendingCounts = new long[16];
    private int head;
    private int pending;
    /** One listener for every write (a listener object per frame written, before). */
    private final ChannelFutureListener released = this::released;

    /** request_headers_timeout's, told of each inbound frame let through; null when that timeout is off. */
    private final H2HeaderBlockTimer headerBlocks;

    H2FloodGuard(Http2FloodLimits limits, H2Stats stats) {
        this(limits, stats, null);
    }

    H2FloodGuard(Http2FloodLimits limits, H2Stats stats, H2HeaderBlockTimer headerBlocks) {
        this.limits = limits;
        this.stats = stats;
        this.headerBlocks = headerBlocks;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        clock = LoopClock.of(ctx.channel().eventLoop());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (terminated) {
            ReferenceCountUtil.release(msg);
            return;
        }
        // One clock reading for the read, as ServerCodec's for HTTP/1: the streams it starts, their clocks and logs,
        // take the same now.
        clock.eventStarted();
        try {
            if (msg instanceof ByteBuf bytes && !scanInbound(ctx, bytes)) {
                ReferenceCountUtil.release(msg);
                terminate(ctx);
                return;
            }
            ctx.fireChannelRead(msg);
        } finally {
            clock.eventEnded();
        }
    }

    /** False when a frame in {@code bytes} broke a limit. */
    private boolean scanInbound(ChannelHandlerContext ctx, ByteBuf bytes) {
        int i = bytes.readerIndex();
        int end = bytes.writerIndex();
        while (i < end) {
            i = in.feed(bytes, i, end);
            if (in.complete) {
                if (!inboundFrame()) {
                    return false;
                }
                if (headerBlocks != null) {
                    headerBlocks.frame(ctx, in.type, in.flags, in.streamId);
                }
            }
        }
        return true;
    }

    /** Envoy's trackInboundFrames and checkInboundFrameLimits for the frame whose header (and pad length) was just read. */
    private boolean inboundFrame() {
        in.complete = false;
        switch (in.type) {
            case HEADERS, CONTINUATION, DATA -> {
                if (in.type != DATA && (in.flags & END_HEADERS) != 0) {
                    inboundStreams++;
                }
                long payload = in.length - in.padding;
                if (payload <= 0 && (in.flags & END_STREAM) == 0) {
                    consecutiveEmpty++;
                } else {
                    consecutiveEmpty = 0;
                }
            }
            case PRIORITY -> priorityFrames++;
            case WINDOW_UPDATE -> windowUpdates++;
            default -> { }
        }
        if (consecutiveEmpty > limits.maxConsecutiveInboundFramesWithEmptyPayload()) {
            stats.inboundEmptyFramesFlood.inc();
            return false;
        }
        if (priorityFrames > (long) limits.maxInboundPriorityFramesPerStream() * (1 + inboundStreams)) {
            stats.inboundPriorityFramesFlood.inc();
            return false;
        }
        if (windowUpdates > 1 + 2 * (inboundStreams + limits.maxInboundWindowUpdateFramesPerDataFrameSent() * outboundDataFrames)) {
            stats.inboundWindowUpdateFramesFlood.inc();
            return false;
        }
        return true;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (terminated) {
            ReferenceCountUtil.release(msg);
            promise.setFailure(new java.nio.channels.ClosedChannelException());
            return;
        }
        if (!(msg instanceof ByteBuf bytes)) {
            ctx.write(msg, promise);
            return;
        }
        int writeFrames = 0;
        int writeControlFrames = 0;
        int i = bytes.readerIndex();
        int end = bytes.writerIndex();
        while (i < end) {
            i = out.feed(bytes, i, end);
            if (out.complete) {
                out.complete = false;
                writeFrames++;
                if (out.type == DATA) {
                    outboundDataFrames++;
                } else if (out.type == RST_STREAM || (out.type == PING || out.type == SETTINGS) && (out.flags & ACK) != 0) {
                    writeControlFrames++;
                }
            }
        }
        if (writeFrames == 0) {
            ctx.write(msg, promise);
            return;
        }
        outboundFrames += writeFrames;
        outboundControlFrames += writeControlFrames;
        if (outboundFrames > limits.maxOutboundFrames() || outboundControlFrames > limits.maxOutboundControlFrames()) {
            (outboundFrames > limits.maxOutboundFrames() ? stats.outboundFlood : stats.outboundControlFlood).inc();
            outboundFrames -= writeFrames;
            outboundControlFrames -= writeControlFrames;
            ReferenceCountUtil.release(msg);
            promise.setFailure(new java.nio.channels.ClosedChannelException());
            terminate(ctx);
            return;
        }
        // (a void promise tells nothing of its write: only then is one made; Netty's frame codec passes real ones)
        ChannelPromise p = promise.unvoid();
        track(p, (long) writeFrames << 32 | writeControlFrames);
        p.addListener(released); // the promise's first listener: kept in a field of it, no array made
        ctx.write(msg, p);
    }

    private void track(ChannelFuture write, long counts) {
        if (pending == pendingWrites.length) {
            int n = pendingWrites.length;
            ChannelFuture[] writes = new ChannelFuture[n * 2];
            long[] counted = new long[n * 2];
            for (int k = 0; k < n; k++) {
                writes[k] = pendingWrites[(head + k) & (n - 1)];
                counted[k] = pendingCounts[(head + k) & (n - 1)];
            }
            pendingWrites = writes;
            pendingCounts = counted;
            head = 0;
        }
        int at = (head + pending) & (pendingWrites.length - 1);
        pendingWrites[at] = write;
        pendingCounts[at] = counts;
        pending++;
    }

    /** The socket took (or the connection dropped) one write's frames: they leave the outbound queue's counts. */
    private void released(ChannelFuture write) {
        int mask = pendingWrites.length - 1;
        for (int k = 0; k < pending; k++) {
            int at = (head + k) & mask;
            if (pendingWrites[at] == write) {
                long counts = pendingCounts[at];
                outboundFrames -= counts >>> 32;
                outboundControlFrames -= (int) counts;
                pendingWrites[at] = null;
                break;
            }
        }
        while (pending > 0 && pendingWrites[head] == null) {
            head = (head + 1) & mask;
            pending--;
        }
    }

    /** Frames counted as written and not yet taken by the socket, and the control frames among them (a test's measure). */
    long outboundFrames() {
        return outboundFrames;
    }

    long outboundControlFrames() {
        return outboundControlFrames;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (headerBlocks != null) {
            headerBlocks.stop();
        }
        ctx.fireChannelInactive();
    }

    /**
     * Envoy's handleCodecError for a flood: the connection closes, without a GOAWAY; what was queued and not yet
     * written is dropped (against a client that does not read, Envoy's flush only waits out its delayed close timeout).
     */
    private void terminate(ChannelHandlerContext ctx) {
        if (terminated) {
            return;
        }
        terminated = true;
        ctx.channel().close();
    }
}
