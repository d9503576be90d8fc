package io.sourcemesh.proxy.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerAdapter;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.DefaultHttp2FrameReader;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2EventAdapter;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * HTTP/2 frames as a client writes them, byte for byte (for raw-socket and embedded tests that must send what curl
 * never would: an uppercase header name, a bad :path, a corrupt preface), and the frames a server wrote, read back.
 */
public final class H2Frames {
    public static final byte[] PREFACE = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

    /**
     * One frame read back: its type (Http2FrameTypes), stream, and what it said (GOAWAY: stream is its last-stream-id;
     * PING: data its payload as a number, errorCode 1 for an ACK).
     */
    public record Frame(byte type, int stream, Http2Headers headers, String data, long errorCode, boolean endStream) {}

    private final ByteBuf out = Unpooled.buffer();
    private final Http2HeadersEncoder encoder = new DefaultHttp2HeadersEncoder(Http2HeadersEncoder.NEVER_SENSITIVE, false);

    /** The client preface and an empty SETTINGS. */
    public H2Frames preface() {
        out.writeBytes(PREFACE);
        header(0, 0x4, 0, 0);
        return this;
    }

    private void header(int length, int type, int flags, int stream) {
        out.writeMedium(length).writeByte(type).writeByte(flags).writeInt(stream);
    }

    /** A HEADERS frame with these name/value pairs as given (no validation: uppercase names pass). */
    public H2Frames headers(int stream, boolean endStream, String... nameValues) {
        Http2Headers h = new DefaultHttp2Headers(false);
        for (int i = 0; i < nameValues.length; i += 2) {
            h.add(nameValues[i], nameValues[i + 1]);
        }
        ByteBuf block = Unpooled.buffer();
        try {
            encoder.encodeHeaders(stream, h, block);
        } catch (Http2Exception e) {
            throw new IllegalStateException(e);
        }
        header(block.readableBytes(), 0x1, 0x4 | (endStream ? 0x1 : 0), stream);
        out.writeBytes(block);
        block.release();
        return this;
    }

    /** A GET of {@code path} on {@code stream}, its HEADERS ending it. */
    public H2Frames get(int stream, String path) {
        return headers(stream, true, ":method", "GET", ":scheme", "http", ":path", path, ":authority", "app");
    }

    public H2Frames data(int stream, boolean endStream, String body) {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        header(b.length, 0x0, endStream ? 0x1 : 0, stream);
        out.writeBytes(b);
        return this;
    }

    /** RST_STREAM with this error code (8: CANCEL). */
    public H2Frames rst(int stream, int errorCode) {
        header(4, 0x3, 0, stream);
        out.writeInt(errorCode);
        return this;
    }

    /** A PING (or its ACK) with this payload. */
    public H2Frames ping(boolean ack, long payload) {
        header(8, 0x6, ack ? 0x1 : 0, 0);
        out.writeLong(payload);
        return this;
    }

    /** A PRIORITY frame: {@code stream} depends on stream 0, weight 16. */
    public H2Frames priority(int stream) {
        header(5, 0x2, 0, stream);
        out.writeInt(0).writeByte(15);
        return this;
    }

    public H2Frames windowUpdate(int stream, int increment) {
        header(4, 0x8, 0, stream);
        out.writeInt(increment);
        return this;
    }

    /** Arbitrary bytes (a corrupt frame). */
    public H2Frames raw(byte[] bytes) {
        out.writeBytes(bytes);
        return this;
    }

    public byte[] bytes() {
        byte[] b = new byte[out.readableBytes()];
        out.getBytes(out.readerIndex(), b);
        return b;
    }

    public ByteBuf buffer() {
        return out.copy();
    }

    /** The frames in {@code bytes} (a server's: no preface), as many as are whole, read with a fresh HPACK table. */
    public static List<Frame> read(ByteBuf bytes) {
        try (Reader r = new Reader()) {
            return r.read(bytes);
        }
    }

    /** A reader for one connection's frames: its HPACK table lives as long as it does. */
    public static final class Reader implements AutoCloseable {
        private final EmbeddedChannel scratch = new EmbeddedChannel(new ChannelHandlerAdapter() { });
        private final DefaultHttp2FrameReader reader = new DefaultHttp2FrameReader(false);

        public List<Frame> read(ByteBuf bytes) {
            List<Frame> frames = new ArrayList<>();
            ChannelHandlerContext ctx = scratch.pipeline().firstContext();
            try {
                while (bytes.readableBytes() >= 9 && bytes.readableBytes() >= 9 + bytes.getUnsignedMedium(bytes.readerIndex())) {
                    int before = bytes.readableBytes();
                    reader.readFrame(ctx, bytes, new Collector(frames));
                    if (bytes.readableBytes() == before) {
                        break;
                    }
                }
            } catch (Http2Exception e) {
                throw new IllegalStateException(e);
            }
            return frames;
        }

        @Override
        public void close() {
            reader.close();
            scratch.finishAndReleaseAll();
        }
    }

    private static final class Collector extends Http2EventAdapter {
        private final List<Frame> frames;

        Collector(List<Frame> frames) {
            this.frames = frames;
        }

        @Override
        public int onDataRead(ChannelHandlerContext c, int streamId, ByteBuf data, int padding, boolean endOfStream) {
            frames.add(new Frame((byte) 0, streamId, null, data.toString(StandardCharsets.UTF_8), 0, endOfStream));
            return data.readableBytes() + padding;
        }

        @Override
        public void onHeadersRead(ChannelHandlerContext c, int streamId, Http2Headers headers, int padding, boolean end) {
            frames.add(new Frame((byte) 1, streamId, headers, null, 0, end));
        }

        @Override
        public void onHeadersRead(ChannelHandlerContext c, int streamId, Http2Headers headers, int dependency, short weight,
                boolean exclusive, int padding, boolean end) {
            onHeadersRead(c, streamId, headers, padding, end);
        }

        @Override
        public void onRstStreamRead(ChannelHandlerContext c, int streamId, long errorCode) {
            frames.add(new Frame((byte) 3, streamId, null, null, errorCode, false));
        }

        @Override
        public void onSettingsRead(ChannelHandlerContext c, io.netty.handler.codec.http2.Http2Settings settings) {
            frames.add(new Frame((byte) 4, 0, null, settings.toString(), 0, false));
        }

        @Override
        public void onGoAwayRead(ChannelHandlerContext c, int lastStreamId, long errorCode, ByteBuf debugData) {
            frames.add(new Frame((byte) 7, lastStreamId, null, debugData.toString(StandardCharsets.UTF_8), errorCode, false));
        }

        @Override
        public void onPingRead(ChannelHandlerContext c, long data) {
            frames.add(new Frame((byte) 6, 0, null, Long.toString(data), 0, false));
        }

        @Override
        public void onPingAckRead(ChannelHandlerContext c, long data) {
            frames.add(new Frame((byte) 6, 0, null, Long.toString(data), 1, false));
        }

        @Override
        public void onWindowUpdateRead(ChannelHandlerContext c, int streamId, int increment) {
            frames.add(new Frame((byte) 8, streamId, null, Integer.toString(increment), 0, false));
        }
    }
}
