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
 * Content-Length, a body on a HEAD response); such a connection is closed, never reused. A head that
 * is not plain ({@link PlainHeads}) is taken as Envoy's codec takes it ({@link ResponseHeads}) before
 * Netty's decoder frames its body; one Envoy refuses is a failed message (a protocol error), and so is
 * a head the upstream's close cut short. A 101 switches protocols only when the request asked for it.
 */
final class UpstreamCodec extends CombinedChannelDuplexHandler<UpstreamCodec.Decoder, UpstreamCodec.Encoder> {
    private final ArrayDeque<HttpMethod> sent = new ArrayDeque<>();
    /** The loop's clock: a read from the upstream is one event of it (null: none, a test's codec alone). */
    private final LoopClock clock;

    UpstreamCodec(int maxHeaderBytes) {
        this(maxHeaderBytes, null);
    }

    UpstreamCodec(int maxHeaderBytes, LoopClock clock) {
        this(maxHeaderBytes, clock, true);
    }

    /** {@code fastPath} false: every head taken by {@link ResponseHeads} (the reference {@code PlainHeadsDifferentialTest} holds the fast path to). */
    UpstreamCodec(int maxHeaderBytes, LoopClock clock, boolean fastPath) {
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
                .setTrailersFactory(SmallTrailers.FACTORY), sent, fastPath);
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

    /** Whether the request now on this connection asked to switch protocols (told by its attempt). */
    void upgradeAsked(boolean asked) {
        inboundHandler().upgradeAsked = asked;
    }

    static final class Decoder extends HttpResponseDecoder {
        static {
            ResponseHeads.initialize(); // before decode() is compiled: see ResponseHeads.initialize
        }

        private final ArrayDeque<HttpMethod> sent;
        private final PlainHeads plain;
        /** The longest head {@link ResponseHeads} takes: Netty's status-line and header limits together. */
        private final int maxHeadBytes;
        /** The request now on the connection asked to switch protocols. */
        boolean upgradeAsked;
        /** Netty decodes the message that begins next, and has not been given its head yet. */
        private boolean headPending;
        /** A head was refused, or cut short: nothing more on this connection is decoded. */
        private boolean refused;
        /** How far the head still arriving was searched; made when a head first has to wait for more bytes. */
        private ResponseHeads.Progress progress;

        Decoder(HttpDecoderConfig config, ArrayDeque<HttpMethod> sent, boolean fastPath) {
            super(config);
            this.sent = sent;
            this.maxHeadBytes = config.getMaxInitialLineLength() + config.getMaxHeaderSize();
            this.plain = new PlainHeads(false, fastPath ? Math.min(config.getMaxInitialLineLength(), config.getMaxHeaderSize()) / 2 : 0,
                    config.getMaxChunkSize(), this::isContentAlwaysEmpty);
        }

        /**
         * Plain responses by {@link PlainHeads}; any other head as Envoy's codec takes it ({@link ResponseHeads}),
         * rewritten plain for Netty's decoder, which frames the body.
         */
        @Override
        protected void decode(ChannelHandlerContext ctx, io.netty.buffer.ByteBuf buffer, List<Object> out) throws Exception {
            if (refused) {
                buffer.skipBytes(buffer.readableBytes());
                return;
            }
            boolean between = plain.betweenMessages();
            if (plain.decode(buffer, out)) {
                return;
            }
            int from = out.size();
            if (between) {
                headPending = true;
            }
            if (headPending) {
                ResponseHeads.Head head;
                ResponseHeads.Progress searched = progress != null ? progress : new ResponseHeads.Progress();
                try {
                    head = ResponseHeads.read(buffer, maxHeadBytes, upgradeAsked, searched);
                } catch (ResponseHeads.Refused e) {
                    refuse(buffer, out, e);
                    plain.afterNetty(out, from);
                    return;
                }
                if (head == null) {
                    progress = searched; // the rest of the head is still to come
                    return;
                }
                headPending = false;
                try {
                    super.decode(ctx, head.plain(), out);
                } finally {
                    head.plain().release();
                }
                HttpResponse response = responseIn(out, from);
                if (response != null && !head.http11()) {
                    // Any version but HTTP/1.1 is HTTP/1.0 to Envoy's codec (isHttp11): keep-alive only when asked for.
                    response.setProtocolVersion(io.netty.handler.codec.http.HttpVersion.HTTP_1_0);
                }
                if (response != null && head.unparsedContentLength() != null) {
                    // A 304's Content-Length that is not a number, forwarded as it came (ResponseHeads.Head).
                    response.headers().add(io.netty.handler.codec.http.HttpHeaderNames.CONTENT_LENGTH, head.unparsedContentLength());
                }
                plain.afterNetty(out, from); // the body (if any) is decoded from the buffer at the next call
                return;
            }
            super.decode(ctx, buffer, out);
            plain.afterNetty(out, from);
        }

        /** The response Netty's decoder made of the head it was given, among what it decoded from {@code from}. */
        private static HttpResponse responseIn(List<Object> out, int from) {
            for (int i = from; i < out.size(); i++) {
                if (out.get(i) instanceof HttpResponse r) {
                    return r;
                }
            }
            return null;
        }

        /** A failed message in place of what Envoy's codec refused; the rest of the connection is dropped. */
        private void refuse(io.netty.buffer.ByteBuf buffer, List<Object> out, Exception cause) {
            refused = true;
            headPending = false;
            buffer.skipBytes(buffer.readableBytes());
            HttpMessage failed = createInvalidMessage();
            failed.setDecoderResult(io.netty.handler.codec.DecoderResult.failure(cause));
            out.add(failed);
        }

        /**
         * The upstream closed: a head it began and did not end is a protocol error (Envoy hands the close to its codec
         * as the end of input: HPE_INVALID_EOF_STATE); a body read until the close ends here (Netty's decoder).
         */
        @Override
        protected void decodeLast(ChannelHandlerContext ctx, io.netty.buffer.ByteBuf in, List<Object> out) throws Exception {
            if (refused) {
                in.skipBytes(in.readableBytes());
                return;
            }
            if (headPending || (plain.betweenMessages() && in.isReadable())) {
                refuse(in, out, new ResponseHeads.Refused("HPE_INVALID_EOF_STATE"));
                return;
            }
            super.decodeLast(ctx, in, out);
        }

        /** Only when the request asked to switch protocols does a 101 end HTTP on the connection. */
        @Override
        protected boolean isSwitchingToNonHttp1Protocol(HttpResponse msg) {
            return upgradeAsked && super.isSwitchingToNonHttp1Protocol(msg);
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
                return true; // interim: the final response is still to come
            }
            HttpMethod method = sent.poll();
            // A 101 has no body either (balsa: no 1xx has one), not even a websocket one without Sec-WebSocket-Accept
            // (Netty reads Hixie-76's until the close): what follows it is the switched protocol's, or, when the request
            // asked for no switch, the next response.
            if (code == 101 || HttpMethod.HEAD.equals(method) || (HttpMethod.CONNECT.equals(method) && code >= 200 && code < 300)) {
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
                FlatHeaders.encode(headers, buf); // names in lower case, as Envoy's encoder writes them
            }
        }
    }
}
