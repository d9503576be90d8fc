package io.sourcemesh.proxy.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.CombinedChannelDuplexHandler;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestEncoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseDecoder;
import java.util.ArrayDeque;
import java.util.List;

/**
 * The upstream HTTP/1.1 codec: Netty's client codec, plus what a proxy needs to keep a pooled
 * connection honest. It knows which responses have no body (HEAD, 2xx to CONNECT, 1xx/204/304) and
 * tells whether bytes arrived past the end of the last response (an unsolicited response, bytes past
 * Content-Length, a body on a HEAD response); such a connection is closed, never reused.
 */
final class UpstreamCodec extends CombinedChannelDuplexHandler<UpstreamCodec.Decoder, UpstreamCodec.Encoder> {
    private final ArrayDeque<HttpMethod> sent = new ArrayDeque<>();
    /** The loop's clock: a read from the upstream is one event of it (null: none, a test's codec alone). */
    private final LoopClock clock;

    UpstreamCodec(int maxHeaderBytes) {
        this(maxHeaderBytes, null);
    }

    UpstreamCodec(int maxHeaderBytes, LoopClock clock) {
        this.clock = clock;
        Decoder decoder = new Decoder(new HttpDecoderConfig()
                .setMaxInitialLineLength(8192)
                .setMaxHeaderSize(maxHeaderBytes)
                .setMaxChunkSize(64 * 1024)
                // Netty's line scratch space serves only what PlainHeads passes on: it starts at a byte, not 128 per connection
                .setInitialBufferSize(1)
                .setStrictLineParsing(true)
                .setUseRfc9112TransferEncoding(true)
                .setAllowDuplicateContentLengths(false)
                .setHeadersFactory(FlatHeaders.FACTORY)
                .setTrailersFactory(SmallTrailers.FACTORY), sent);
        init(decoder, new Encoder(sent));
    }

    /**
     * Raw bytes from the upstream: one clock reading for all the read decodes to (the response's head and
     * body parts), so the service time, the stream's end and the timers take the same now.
     */
    @Override
    public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) throws Exception {
        if (clock == null) {
            super.channelRead(ctx, msg);
            return;
        }
        clock.eventStarted();
        try {
            super.channelRead(ctx, msg);
        } finally {
            clock.eventEnded();
        }
    }

    /** True when bytes wait in the decoder beyond the responses it has delivered. */
    boolean hasUnreadBytes() {
        return inboundHandler().unread() > 0;
    }

    /** True when a request was written whose response has not begun. */
    boolean awaitingResponse() {
        return !sent.isEmpty();
    }

    static final class Decoder extends HttpResponseDecoder {
        private final ArrayDeque<HttpMethod> sent;
        private final PlainHeads plain;

        Decoder(HttpDecoderConfig config, ArrayDeque<HttpMethod> sent) {
            super(config);
            this.sent = sent;
            this.plain = new PlainHeads(false, Math.min(config.getMaxInitialLineLength(), config.getMaxHeaderSize()) / 2,
                    config.getMaxChunkSize(), this::isContentAlwaysEmpty);
        }

        /** Plain responses by {@link PlainHeads}, the rest by Netty's decoder. */
        @Override
        protected void decode(ChannelHandlerContext ctx, io.netty.buffer.ByteBuf buffer, List<Object> out) throws Exception {
            if (!plain.decode(buffer, out)) {
                int from = out.size();
                super.decode(ctx, buffer, out);
                plain.afterNetty(out, from);
            }
        }

        @Override
        protected void decodeLast(ChannelHandlerContext ctx, io.netty.buffer.ByteBuf in, List<Object> out) throws Exception {
            plain.closing(in);
            super.decodeLast(ctx, in, out);
        }

        int unread() {
            return actualReadableBytes();
        }

        /** Common response header names are shared instances rather than a new name per header line. */
        @Override
        protected io.netty.util.AsciiString splitHeaderName(byte[] sb, int start, int length) {
            io.netty.util.AsciiString shared = SharedHeaderNames.find(sb, start, length);
            return shared != null ? shared : super.splitHeaderName(sb, start, length);
        }

        @Override
        protected boolean isContentAlwaysEmpty(HttpMessage msg) {
            int code = ((HttpResponse) msg).status().code();
            if (code >= 100 && code < 200 && code != 101) {
                return super.isContentAlwaysEmpty(msg); // interim: the final response is still to come
            }
            HttpMethod method = sent.poll();
            if (HttpMethod.HEAD.equals(method) || (HttpMethod.CONNECT.equals(method) && code >= 200 && code < 300)) {
                return true;
            }
            return super.isContentAlwaysEmpty(msg);
        }
    }

    static final class Encoder extends HttpRequestEncoder {
        private final ArrayDeque<HttpMethod> sent;

        Encoder(ArrayDeque<HttpMethod> sent) {
            this.sent = sent;
        }

        @Override
        protected void encode(ChannelHandlerContext ctx, Object msg, List<Object> out) throws Exception {
            if (msg instanceof HttpRequest request) {
                sent.offer(request.method());
            }
            super.encode(ctx, msg, out);
        }

        @Override
        protected void encodeHeaders(io.netty.handler.codec.http.HttpHeaders headers, io.netty.buffer.ByteBuf buf) {
            if (headers instanceof FlatHeaders flat) {
                flat.encode(buf);
            } else {
                super.encodeHeaders(headers, buf);
            }
        }
    }
}
