package io.sourcemesh.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Flags;
import io.netty.handler.codec.http2.Http2FrameLogger;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.logging.LogLevel;
import io.sourcemesh.proxy.stats.Stats;

/**
 * Envoy's downstream {@code http2.*} codec stats (rooted at {@code http2.}, as Envoy's connection manager's codec
 * counts them), counted from the frames Netty's codec reads and writes: it tells a frame logger of each, and this one
 * logs nothing, it only counts the resets and GOAWAYs (each frame's method is overridden, so none of the base
 * logger's level checks or formatting runs). One per config version, shared by its connections.
 */
final class H2Stats extends Http2FrameLogger {
    /** RST_STREAM from clients. */
    final Stats.Counter rxReset;
    /** RST_STREAM sent (a malformed stream, a stream the proxy ended early). */
    final Stats.Counter txReset;
    /** A stream reset for a message that broke HTTP/2's rules (RFC 9113 §8: a bad header block, :path, content-length). */
    final Stats.Counter rxMessagingError;
    /**
     * The GOAWAY that ends a drain sent (Envoy's codec goAway(): after drain_timeout, or a close), not the shutdown
     * notice before it (last-stream-id 2^31-1) nor a connection error's.
     */
    final Stats.Counter goawaySent;
    /** Connections closed for a PING not answered in connection_keepalive's timeout. */
    final Stats.Counter keepaliveTimeout;
    /** Connections terminated by {@link H2FloodGuard}, one counter per limit (Envoy's codec stats of the same names). */
    final Stats.Counter outboundFlood;
    final Stats.Counter outboundControlFlood;
    final Stats.Counter inboundEmptyFramesFlood;
    final Stats.Counter inboundPriorityFramesFlood;
    final Stats.Counter inboundWindowUpdateFramesFlood;
    /** The connection ended by a protocol error of the client's (GOAWAY other than NO_ERROR): Envoy's HCM stat. */
    final Stats.Counter cxProtocolError;

    H2Stats(Stats stats, String hcmPrefix) {
        super(LogLevel.TRACE);
        rxReset = stats.counter("http2.rx_reset");
        txReset = stats.counter("http2.tx_reset");
        rxMessagingError = stats.counter("http2.rx_messaging_error");
        goawaySent = stats.counter("http2.goaway_sent");
        keepaliveTimeout = stats.counter("http2.keepalive_timeout");
        outboundFlood = stats.counter("http2.outbound_flood");
        outboundControlFlood = stats.counter("http2.outbound_control_flood");
        inboundEmptyFramesFlood = stats.counter("http2.inbound_empty_frames_flood");
        inboundPriorityFramesFlood = stats.counter("http2.inbound_priority_frames_flood");
        inboundWindowUpdateFramesFlood = stats.counter("http2.inbound_window_update_frames_flood");
        cxProtocolError = stats.counter(hcmPrefix + "downstream_cx_protocol_error");
    }

    @Override
    public void logRstStream(Direction direction, ChannelHandlerContext ctx, int streamId, long errorCode) {
        if (direction == Direction.INBOUND) {
            rxReset.inc();
            return;
        }
        txReset.inc();
        if (errorCode == Http2Error.PROTOCOL_ERROR.code()) {
            rxMessagingError.inc();
        }
    }

    @Override
    public void logGoAway(Direction direction, ChannelHandlerContext ctx, int lastStreamId, long errorCode, ByteBuf debugData) {
        if (direction == Direction.OUTBOUND) {
            if (errorCode != Http2Error.NO_ERROR.code()) {
                cxProtocolError.inc();
            } else if (lastStreamId != Integer.MAX_VALUE) {
                goawaySent.inc();
            }
        }
    }

    @Override
    public void logData(Direction direction, ChannelHandlerContext ctx, int streamId, ByteBuf data, int padding, boolean endStream) {
    }

    @Override
    public void logHeaders(Direction direction, ChannelHandlerContext ctx, int streamId, Http2Headers headers, int padding,
            boolean endStream) {
    }

    @Override
    public void logHeaders(Direction direction, ChannelHandlerContext ctx, int streamId, Http2Headers headers, int streamDependency,
            short weight, boolean exclusive, int padding, boolean endStream) {
    }

    @Override
    public void logPriority(Direction direction, ChannelHandlerContext ctx, int streamId, int streamDependency, short weight,
            boolean exclusive) {
    }

    @Override
    public void logSettingsAck(Direction direction, ChannelHandlerContext ctx) {
    }

    @Override
    public void logSettings(Direction direction, ChannelHandlerContext ctx, Http2Settings settings) {
    }

    @Override
    public void logPing(Direction direction, ChannelHandlerContext ctx, long data) {
    }

    @Override
    public void logPingAck(Direction direction, ChannelHandlerContext ctx, long data) {
    }

    @Override
    public void logPushPromise(Direction direction, ChannelHandlerContext ctx, int streamId, int promisedStreamId,
            Http2Headers headers, int padding) {
    }

    @Override
    public void logWindowsUpdate(Direction direction, ChannelHandlerContext ctx, int streamId, int windowSizeIncrement) {
    }

    @Override
    public void logUnknownFrame(Direction direction, ChannelHandlerContext ctx, byte frameType, int streamId, Http2Flags flags,
            ByteBuf data) {
    }
}
