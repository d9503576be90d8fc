package io.sourcemesh.proxy.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http2.DefaultHttp2GoAwayFrame;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2LocalFlowController;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2PingFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelOption;
import io.netty.util.concurrent.ScheduledFuture;
import io.sourcemesh.proxy.config.Http2Options;
import io.sourcemesh.proxy.listener.ListenerRuntime;
import io.sourcemesh.proxy.network.ChannelErrors;
import io.sourcemesh.proxy.network.ConnectionContext;
import java.util.concurrent.TimeUnit;

/**
 * One downstream HTTP/2 connection (Envoy's connection manager over its HTTP/2 codec): Netty's frame codec, then its
 * multiplexer giving each stream a child channel whose pipeline is an {@link H2StreamCodec} and an
 * {@link HttpConnection} of that one stream — so every stream takes the HTTP/1 request's path (normalisation, client
 * address headers, filters, router, local replies, access log). This handler holds what belongs to the connection:
 * its http2 stats, the PING keepalive ({@link H2Keepalive}), and Envoy's drain sequence (conn_manager_impl.cc
 * startDrainSequence, onDrainTimeout): on a drain, or no stream open for idle_timeout, a GOAWAY with last-stream-id
 * 2^31-1 (the shutdown notice: streams still come), then after drain_timeout the GOAWAY naming the last stream taken
 * (counted in http2.goaway_sent), and the close once the streams in flight end. The connection's settings are
 * http2_protocol_options'.
 */
final class H2Connection extends ChannelInboundHandlerAdapter {
    private final HttpConnectionManagerFilter filter;
    private final ConnectionContext connection;
    private int openStreams;
    /** Streams ended on this connection, and those of them ended early with no response (Envoy's premature resets). */
    private long closedStreams;
    private long prematureResets;
    private boolean prematureClose;
    private ScheduledFuture<?> idle;
    /** The drain sequence's timer, from the shutdown notice to the last GOAWAY; null when not draining (or done). */
    private ScheduledFuture<?> drainTimer;
    private boolean draining;
    private H2Keepalive keepalive;
    /** The loop's clock: a stream's start and end are read from it (within a read, the read's one reading). */
    private LoopClock clock;

    private H2Connection(HttpConnectionManagerFilter filter, ConnectionContext connection) {
        this.filter = filter;
        this.connection = connection;
    }

    /**
     * Puts HTTP/2 after {@code after} in {@code pipeline} (an active connection whose next bytes are the client's
     * connection preface): the frame codec sends the server's SETTINGS, then the connection window is opened to
     * initial_connection_window_size.
     */
    static void install(ChannelPipeline pipeline, String after, HttpConnectionManagerFilter filter, ConnectionContext connection) {
        Http2Options o = filter.config.limits().http2();
        Http2Settings settings = new Http2Settings()
                .maxConcurrentStreams(o.maxConcurrentStreams())
                .initialWindowSize(o.initialStreamWindowSize())
                .headerTableSize(o.hpackTableSize())
                .maxHeaderListSize(filter.config.limits().maxRequestHeadersKb() * 1024L);
        if (o.allowConnect()) {
            settings.connectProtocolEnabled(true); // RFC 8441: extended CONNECT (a WebSocket on a stream)
        }
        Http2FrameCodec codec = Http2FrameCodecBuilder.forServer()
                .initialSettings(settings)
                .frameLogger(filter.h2Stats)
                .validateHeaders(true)
                .validateRequiredPseudoHeaders(true)
                // a drain's GOAWAY waits for the streams in flight, bounded by their own timeouts (as an HTTP/1 drain)
                .gracefulShutdownTimeoutMillis(-1)
                // H2FloodGuard holds Envoy's limits (configurable); Netty's own, fixed ones would cut in first
                .encoderEnforceMaxQueuedControlFrames(0)
                .decoderEnforceMaxConsecutiveEmptyDataFrames(0)
                // rapid reset: Envoy's premature-reset accounting (streamClosed) rather than Netty's 200 RST_STREAMs in 30 s,
                // which would also cut off a client that cancels many streams it was answered on
                .decoderEnforceMaxRstFramesPerWindow(0, 0)
                .build();
        H2Connection h2 = new H2Connection(filter, connection);
        long headersTimeout = filter.timeouts.headersTimeout();
        // the header-block timer reads the frame headers the flood guard reads: one scan of the bytes for both
        H2HeaderBlockTimer headerBlocks = headersTimeout >= 0 ? new H2HeaderBlockTimer(h2, headersTimeout) : null;
        pipeline.addAfter(after, H2FloodGuard.NAME, new H2FloodGuard(o.flood(), filter.h2Stats, headerBlocks));
        String beforeCodec = H2FloodGuard.NAME;
        if (o.keepalive().isPresent()) {
            h2.keepalive = new H2Keepalive(o.keepalive().get(), filter.h2Stats.keepaliveTimeout);
            pipeline.addAfter(beforeCodec, H2Keepalive.NAME, h2.keepalive);
            beforeCodec = H2Keepalive.NAME;
        }
        pipeline.addAfter(beforeCodec, "h2-codec", codec);
        pipeline.addAfter("h2-codec", "h2-multiplex", new Http2MultiplexHandler(h2.new StreamInitializer()));
        pipeline.addAfter("h2-multiplex", "h2-connection", h2);
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        clock = LoopClock.of(ctx.channel().eventLoop());
        filter.cxHttp2Total.inc();
        filter.cxHttp2Active.inc();
        ctx.channel().closeFuture().addListener((ChannelFutureListener) f -> closed());
        connectionWindow(ctx);
        // Frames are read as they come: HTTP/2 flow control, per stream, is what holds a client back.
        ctx.channel().config().setAutoRead(true);
        idleFrom(ctx.channel());
        if (ctx.channel().hasAttr(ListenerRuntime.DRAINING)) {
            startDrain(ctx.channel()); // accepted while its listener drained: after the codec's SETTINGS, the GOAWAY sequence
        }
    }

    /**
     * The connection window becomes initial_connection_window_size (Netty's frame codec opened it to twice the stream
     * window already): a WINDOW_UPDATE for the difference, or, when smaller, fewer bytes given back until it is.
     */
    private void connectionWindow(ChannelHandlerContext ctx) {
        Http2Connection c = ctx.pipeline().get(Http2FrameCodec.class).connection();
        Http2LocalFlowController flow = c.local().flowController();
        int delta = filter.config.limits().http2().initialConnectionWindowSize() - flow.initialWindowSize(c.connectionStream());
        if (delta != 0) {
            try {
                flow.incrementWindowSize(c.connectionStream(), delta);
            } catch (Http2Exception e) {
                ctx.fireExceptionCaught(e);
            }
        }
        ctx.flush();
    }

    private void closed() {
        filter.cxHttp2Active.dec();
        if (idle != null) {
            idle.cancel(false);
            idle = null;
        }
        if (drainTimer != null) {
            drainTimer.cancel(false);
            drainTimer = null;
        }
    }

    /** No stream is open: the connection's idle_timeout starts (Envoy's connection idle timer for HTTP/2). */
    private void idleFrom(Channel parent) {
        long nanos = filter.timeouts.idleTimeout();
        if (nanos > 0 && parent.isActive() && !draining) {
            idle = parent.eventLoop().schedule(() -> {
                idle = null;
                if (openStreams == 0 && parent.isActive()) {
                    filter.cxIdleTimeout.inc();
                    startDrain(parent); // Envoy's onIdleTimeout on HTTP/2: the drain sequence
                }
            }, nanos, TimeUnit.NANOSECONDS);
        }
    }

    /** Envoy's startDrainSequence: the shutdown notice now, the last GOAWAY after drain_timeout. */
    private void startDrain(Channel parent) {
        if (draining || !parent.isActive()) {
            return;
        }
        draining = true;
        if (idle != null) {
            idle.cancel(false);
            idle = null;
        }
        // extraStreamIds past the last stream taken: the frame codec caps the id at 2^31-1 (nghttp2's shutdown notice).
        parent.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR).setExtraStreamIds(Integer.MAX_VALUE))
                .addListener(ChannelFutureListener.FIRE_EXCEPTION_ON_FAILURE);
        drainTimer = parent.eventLoop().schedule(() -> drainTimeout(parent), filter.config.limits().http2().drainTimeout().toNanos(),
                TimeUnit.NANOSECONDS);
    }

    /**
     * Envoy's onDrainTimeout: the GOAWAY naming the last stream taken, then the close — at once with no stream open, else
     * when the last one ends (the frame codec's close waits for them, as Envoy's checkForDeferredClose).
     */
    private void drainTimeout(Channel parent) {
        drainTimer = null;
        if (!parent.isActive()) {
            return;
        }
        parent.writeAndFlush(new DefaultHttp2GoAwayFrame(Http2Error.NO_ERROR)).addListener(ChannelFutureListener.FIRE_EXCEPTION_ON_FAILURE);
        parent.close();
    }

    private void streamOpened() {
        openStreams++;
        if (idle != null) {
            idle.cancel(false);
            idle = null;
        }
    }

    private void streamClosed(Channel parent, long opened, boolean responded) {
        if (--openStreams == 0) {
            idleFrom(parent);
        }
        closedStreams++;
        // Envoy's isPrematureRstStream: a stream that lived no more than premature_reset_min_stream_lifetime_seconds
        // (1; whole seconds, so under 2 s) and got no response
        if (!responded && clock.now() - opened < PREMATURE_LIFETIME_NANOS) {
            prematureResets++;
        }
        maybeCloseForPrematureResets(parent);
    }

    /** Envoy's overload.premature_reset_total_stream_count default. */
    static final long PREMATURE_RESET_TOTAL_STREAM_COUNT = 500;
    private static final long PREMATURE_LIFETIME_NANOS = TimeUnit.SECONDS.toNanos(2);

    /**
     * Envoy's maybeDrainDueToPrematureResets (conn_manager_impl.cc, the CVE-2023-44487 "rapid reset" mitigation): before
     * 500 streams have ended, half that many premature resets close the connection; after, premature resets making up
     * half of the streams ended do. The close is an abort (no GOAWAY), counted in downstream_rq_too_many_premature_resets.
     */
    private void maybeCloseForPrematureResets(Channel parent) {
        if (closedStreams < PREMATURE_RESET_TOTAL_STREAM_COUNT) {
            if (prematureResets * 2 < PREMATURE_RESET_TOTAL_STREAM_COUNT) {
                return;
            }
        } else if (prematureResets * 2 < closedStreams) {
            return;
        }
        if (parent.isActive() && !prematureClose) {
            prematureClose = true;
            filter.rqTooManyPrematureResets.inc();
            parent.close();
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == ListenerRuntime.Drain.INSTANCE) {
            startDrain(ctx.channel());
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    /** The connection's own frames the multiplexer passes on: a PING's ACK ends the keepalive's wait. */
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof Http2PingFrame ping && ping.ack() && keepalive != null) {
            keepalive.acked();
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (Http2CodecUtil.getEmbeddedHttp2Exception(cause) != null) {
            return; // a protocol error the frame codec answered itself (GOAWAY with its code, then close)
        }
        ChannelErrors.caught(ctx, cause);
    }

    /** Each stream's child channel: read on demand (its backpressure), window updates given back by its codec. */
    /** The stream whose header block ran out of request_headers_timeout, opened by {@link #headerBlockTimedOut}; 0 when none. */
    private int headerTimedOut;

    /**
     * request_headers_timeout ran out on {@code streamId}'s header block (H2HeaderBlockTimer). Envoy's stream exists from
     * its first HEADERS frame and is answered 408 "request header timeout", then reset (NO_ERROR: the request never
     * ended; conn_manager_impl.cc onRequestHeaderTimeout, doEndStream). Netty's codec makes a stream only at the end of
     * the block, so the stream is opened here, and its connection manager answers it as HTTP/1's does. False when it
     * cannot be (a stream id Netty would refuse): then the connection closes.
     */
    boolean headerBlockTimedOut(ChannelHandlerContext ctx, int streamId) {
        Http2Connection c = ctx.pipeline().get(Http2FrameCodec.class).connection();
        if (!c.remote().canOpenStream() || !c.remote().isValidStreamId(streamId) || c.streamMayHaveExisted(streamId)) {
            return false;
        }
        headerTimedOut = streamId;
        try {
            c.remote().createStream(streamId, false); // the multiplexer gives it a child channel now (StreamInitializer)
        } catch (Http2Exception e) {
            return false;
        } finally {
            headerTimedOut = 0;
        }
        return true;
    }

    HttpConnectionManagerFilter filter() {
        return filter;
    }

    private final class StreamInitializer extends ChannelInitializer<Http2StreamChannel> {
        @Override
        protected void initChannel(Http2StreamChannel ch) {
            ch.config().setAutoRead(false);
            ch.config().setOption(Http2StreamChannelOption.AUTO_STREAM_FLOW_CONTROL, false);
            Channel parent = ch.parent();
            streamOpened();
            HttpConnection stream = HttpConnection.forH2Stream(filter, connection);
            H2StreamCodec codec = new H2StreamCodec(filter, stream);
            long opened = clock.now();
            ch.closeFuture().addListener((ChannelFutureListener) f -> streamClosed(parent, opened, codec.responded()));
            ch.pipeline().addLast("h2-stream", codec);
            ch.pipeline().addLast("http-connection-manager", stream);
            if (headerTimedOut != 0 && ch.stream().id() == headerTimedOut) {
                ch.eventLoop().execute(stream::onRequestHeadersTimeout); // once the stream's channel is active
            }
        }
    }
}
