package io.sourcemesh.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandler;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.sourcemesh.proxy.network.ConnectionContext;
import io.sourcemesh.proxy.network.FirstAck;
import java.net.SocketAddress;
import java.util.ArrayDeque;
import java.util.List;

/**
 * The downstream HTTP/1.1 codec: what Netty's {@code HttpServerCodec} does (requests decoded,
 * responses encoded, a HEAD or CONNECT request's response framed as such, at most 128 pipelined
 * requests, close after a response to a request that had both Content-Length and Transfer-Encoding)
 * as one handler instead of a combined handler, its two inner contexts and the codec object, with
 * {@link PlainHeads} in front of Netty's request decoder and {@link FlatHeaders} written without an
 * iterator. An idle connection holds no scratch space beyond Netty's decoder's.
 */
final class ServerCodec extends HttpRequestDecoder implements ChannelOutboundHandler, PlainHeads.Owner {
    private static final int MAX_PIPELINE_DEPTH = 128;

    private final PlainHeads plain;
    private final Encoder encoder = new Encoder();
    /** Told of raw bytes before they are decoded (request_headers_timeout starts at the first); null in codec tests. */
    private final HttpConnection http;
    /** Methods of requests whose responses are still to be written, oldest first; made on the first pipelined request. */
    private ArrayDeque<HttpMethod> pipelined;
    /** The method of the oldest request not answered yet, when it is the only one. */
    private HttpMethod oldest;
    private boolean discard;
    /** Leaving the pipeline for HTTP/2's frame codec, which already writes behind it. */
    private boolean leaving;
    private boolean mustCloseAfterResponse;
    /** The longest head Netty's decoder takes (its request-line and header limits together). */
    private final int maxHeadBytes;
    /** Netty decodes the request that begins next, and has not seen its head yet (it may hold obs-fold to unfold). */
    private boolean headPending;
    /** How much of that head was searched for its end already (a head that trickles in is searched once). */
    private int headScanned;

    ServerCodec(HttpDecoderConfig config) {
        this(config, null);
    }

    ServerCodec(HttpDecoderConfig config, HttpConnection http) {
        this(config, http, true);
    }

    /** {@code fastPath} false: every request by Netty's decoder (the reference {@code PlainHeadsDifferentialTest} holds the fast path to). */
    ServerCodec(HttpDecoderConfig config, HttpConnection http, boolean fastPath) {
        super(config);
        this.http = http;
        maxHeadBytes = config.getMaxInitialLineLength() + config.getMaxHeaderSize();
        plain = new PlainHeads(true, fastPath ? Math.min(config.getMaxInitialLineLength(), config.getMaxHeaderSize()) / 2 : 0,
                config.getMaxChunkSize(), this);
    }

    /** Not {@code @Sharable}: answered here, not looked up in Netty's per-thread class map when made and when added. */
    @Override
    public boolean isSharable() {
        return false;
    }

    /**
     * The request line's version as Envoy's codec reads it (BalsaParser::isVersionValid): {@code HTTP/} then digit, '.',
     * digit, as written — {@code http/1.1}, which Netty's decoder upper-cases, is refused (400 http1.codec_error). A
     * version other than HTTP/1.1 is HTTP/1.0 to Envoy's codec (isHttp11): 426 low_version without accept_http_10,
     * served as 1.0 with it. (A plain head, with HTTP/1.1 or HTTP/1.0 as written, is {@link PlainHeads}'.)
     */
    @Override
    protected HttpMessage createMessage(String[] initialLine) throws Exception {
        String v = initialLine[2];
        if (v.length() != 8 || !v.startsWith("HTTP/") || !isDigit(v.charAt(5)) || v.charAt(6) != '.' || !isDigit(v.charAt(7))) {
            throw new IllegalArgumentException("invalid HTTP version: " + v);
        }
        return new io.netty.handler.codec.http.DefaultHttpRequest(
                v.equals("HTTP/1.1") ? io.netty.handler.codec.http.HttpVersion.HTTP_1_1 : io.netty.handler.codec.http.HttpVersion.HTTP_1_0,
                HttpMethod.valueOf(initialLine[0]), initialLine[1], headersFactory);
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    @Override
    public boolean contentAlwaysEmpty(HttpMessage message) {
        return isContentAlwaysEmpty(message);
    }

    /** Raw bytes from the client: noted here rather than by a handler (and pipeline context) of their own. */
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        LoopClock clock = http == null ? null : http.clock();
        if (clock == null) {
            super.channelRead(ctx, msg);
            return;
        }
        // One clock reading for the read: the timers, the streams it starts and their logs take the same now.
        clock.eventStarted();
        try {
            http.bytesArrived();
            super.channelRead(ctx, msg);
            ConnectionContext connection = http.connection();
            if (connection.firstAckDelayed()) {
                // HAProxy's rule: a first request not all here may be waiting for its ACK (FirstAck).
                if (midMessage()) {
                    FirstAck.sendNow(ctx.channel(), connection);
                } else {
                    connection.firstAckDelayed(false);
                }
            }
        } finally {
            clock.eventEnded();
        }
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out) throws Exception {
        if (discard) {
            buffer.skipBytes(buffer.readableBytes());
            return;
        }
        if (http != null && http.choosingCodec() && http.chooseCodec(ctx, buffer)) {
            return; // HTTP/2 (or not enough bytes yet to tell)
        }
        int oldSize = out.size();
        boolean between = plain.betweenMessages();
        if (between && buffer.isReadable() && !RequestValidator.mayStartRequest(buffer.getByte(buffer.readerIndex()))) {
            // Envoy's parser refuses it at this byte (HPE_INVALID_METHOD): one failed request (400 http1.codec_error,
            // then the connection closes) and nothing more is read, as after any message Netty's decoder refuses.
            buffer.skipBytes(buffer.readableBytes());
            discard = true;
            HttpRequest bad = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/", Unpooled.EMPTY_BUFFER);
            bad.setDecoderResult(DecoderResult.failure(new IllegalArgumentException("HPE_INVALID_METHOD")));
            out.add(bad);
        } else if (!plain.decode(buffer, out)) {
            if (between) {
                headPending = true;
            }
            ByteBuf unfolded = null;
            if (headPending) {
                int end = headEnd(buffer);
                if (end == 0 && !startLineRefused(buffer)) {
                    return; // the rest of the head is still to come
                }
                headPending = false;
                headScanned = 0;
                unfolded = end > 0 ? rewrite(buffer, end) : null;
            }
            if (unfolded != null) {
                try {
                    super.decode(ctx, unfolded, out);
                } finally {
                    unfolded.release();
                }
            } else {
                super.decode(ctx, buffer, out);
            }
            plain.afterNetty(out, oldSize);
        }
        int size = out.size();
        for (int i = oldSize; i < size; i++) {
            if (out.get(i) instanceof HttpRequest request && !enqueue(request.method())) {
                // As Netty's server codec: discard everything and close once the first response is written.
                mustCloseAfterResponse = true;
                discard = true;
                for (int j = i; j < size; j++) {
                    ReferenceCountUtil.release(out.get(j));
                }
                out.clear();
                throw new IllegalStateException("maxPipelineDepth exceeded: " + MAX_PIPELINE_DEPTH);
            }
        }
    }

    /**
     * Whether the request line is all here and no version ends it ({@code name/digits.digits}, what Netty's decoder takes):
     * Envoy's parser refuses such a line at once (e.g. a PROXY protocol header, or TLS, sent to a plaintext listener), so
     * it goes to Netty's decoder, which refuses it too, rather than waiting for a head's end that may never come.
     */
    static boolean startLineRefused(ByteBuf buffer) {
        int start = buffer.readerIndex();
        int limit = buffer.writerIndex();
        while (start < limit && (buffer.getByte(start) == '\r' || buffer.getByte(start) == '\n')) {
            start++; // the empty lines a client may send before a request (Netty's decoder skips them too)
        }
        int lf = buffer.indexOf(start, limit, (byte) '\n');
        if (lf < 0) {
            return false;
        }
        int end = lf > start && buffer.getByte(lf - 1) == '\r' ? lf - 1 : lf;
        int i = end - 1;
        int minor = 0;
        while (i >= start && Character.isDigit(buffer.getByte(i))) {
            i--;
            minor++;
        }
        if (minor == 0 || i < start || buffer.getByte(i) != '.') {
            return true;
        }
        i--;
        int major = 0;
        while (i >= start && Character.isDigit(buffer.getByte(i))) {
            i--;
            major++;
        }
        if (major == 0 || i < start || buffer.getByte(i) != '/') {
            return true;
        }
        int slash = i;
        while (i >= start && buffer.getByte(i) > ' ' && buffer.getByte(i) < 0x7f) {
            i--;
        }
        return i == slash - 1 || i < start; // no protocol name, or the line is the version alone
    }

    /**
     * Where the head at the reader index ends, as balsa finds it: after a line (not the first) that is empty or a lone
     * CR, so lines may end in a bare LF ({@code quiche/balsa/balsa_frame.cc} ProcessHeaders); 0 while it may still
     * come; -1 when Netty's decoder is to judge it as it is (more than its limits take).
     */
    private int headEnd(ByteBuf buffer) {
        int start = buffer.readerIndex();
        int n = Math.min(buffer.readableBytes(), maxHeadBytes);
        for (int i = headScanned; i < n; i++) {
            if (buffer.getByte(start + i) == '\n' && i > 0) {
                byte before = buffer.getByte(start + i - 1);
                // the line this LF ends is empty, or a lone CR, and follows another line
                if (before == '\n' || (before == '\r' && i >= 2 && buffer.getByte(start + i - 2) == '\n')) {
                    headScanned = 0;
                    return i + 1;
                }
            }
        }
        if (buffer.readableBytes() >= maxHeadBytes) {
            headScanned = 0;
            return -1;
        }
        headScanned = n;
        return 0;
    }

    /**
     * The head as Envoy's codec reads it, rewritten as the CRLF head Netty's strict decoder reads the same way, the
     * buffer advanced past it; null (nothing consumed) when it is that already. Balsa ends a line at a bare LF as at
     * CRLF; a line starting with SP or HT continues the header before it (obs-fold); and Envoy's BalsaParser removes
     * CR and LF from a value ({@code source/common/http/http1/balsa_parser.cc}, validateAndProcessHeadersOrTrailersImpl),
     * so {@code "a\r\n  b"} is {@code "a  b"} (where Netty's decoder would make {@code "a b"}) and a lone CR in a value
     * goes (disallow_lone_cr_in_request_headers is off in Envoy's policy). A continuation of the request line and a CR
     * before a name's colon are left for Netty's decoder to refuse, as Envoy refuses them; so is a lone CR in the request
     * line.
     */
    private static ByteBuf rewrite(ByteBuf buffer, int end) {
        int start = buffer.readerIndex();
        int limit = start + end;
        int firstEol = buffer.indexOf(start, limit, (byte) '\n');
        boolean plain = true;
        for (int i = start; i < limit && plain; i++) {
            byte c = buffer.getByte(i);
            if (c == '\n') {
                byte next = i + 1 < limit ? buffer.getByte(i + 1) : 0;
                plain = i > start && buffer.getByte(i - 1) == '\r' && (i == firstEol || (next != ' ' && next != '\t'));
            } else if (c == '\r') {
                plain = i > firstEol ? i + 1 < limit && buffer.getByte(i + 1) == '\n' : true;
            }
        }
        if (plain) {
            return null;
        }
        // An unpooled array: off the hot path, and a head that is gone leaves no pooled heap chunk behind it.
        ByteBuf head = io.netty.buffer.Unpooled.buffer(end + 16);
        int lineStart = start;
        boolean first = true;
        boolean header = false; // a header line is open (continuations join it)
        while (lineStart < limit) {
            int lf = buffer.indexOf(lineStart, limit, (byte) '\n');
            int lineEnd = lf > lineStart && buffer.getByte(lf - 1) == '\r' ? lf - 1 : lf;
            if (first) {
                head.writeBytes(buffer, lineStart, lineEnd - lineStart); // a lone CR in it stays, for Netty to refuse
                first = false;
            } else if (lineEnd == lineStart) {
                break; // the blank line
            } else {
                byte c = buffer.getByte(lineStart);
                boolean continuation = (c == ' ' || c == '\t') && header;
                if (!continuation) {
                    head.writeByte('\r').writeByte('\n'); // ends the line before
                    header = c != ' ' && c != '\t';
                }
                boolean value = continuation;
                for (int i = lineStart; i < lineEnd; i++) {
                    byte b = buffer.getByte(i);
                    if (b == ':') {
                        value = true;
                    }
                    if (b != '\r' || !value) {
                        head.writeByte(b);
                    }
                }
            }
            lineStart = lf + 1;
        }
        head.writeByte('\r').writeByte('\n').writeByte('\r').writeByte('\n');
        buffer.skipBytes(end);
        return head;
    }

    /** Bytes of a request are held or still due: a head not complete, or a body not all read. */
    private boolean midMessage() {
        return internalBuffer().isReadable() || !plain.betweenMessages();
    }

    /**
     * Whether the connection may drop this codec while idle and make a fresh one on its next byte:
     * no bytes held, no request unanswered, nothing decided for the connection (a close, a discard,
     * Netty's decoder in charge after a refused message or a protocol switch).
     */
    boolean parkable() {
        return !internalBuffer().isReadable() && plain.betweenMessages() && oldest == null && pipelined == null
                && !discard && !mustCloseAfterResponse;
    }

    @Override
    protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        plain.closing(in);
        headPending = false; // a head cut short is Netty's to judge
        headScanned = 0;
        super.decodeLast(ctx, in, out);
    }

    @Override
    protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
        super.handleTransferEncodingChunkedWithContentLength(message); // throws under RFC 9112 framing, as configured
        mustCloseAfterResponse = true;
    }

    private boolean enqueue(HttpMethod method) {
        int depth = (oldest != null ? 1 : 0) + (pipelined != null ? pipelined.size() : 0);
        if (depth >= MAX_PIPELINE_DEPTH) {
            return false;
        }
        if (oldest == null && (pipelined == null || pipelined.isEmpty())) {
            oldest = method;
        } else {
            if (pipelined == null) {
                pipelined = new ArrayDeque<>(4);
            }
            pipelined.add(method);
        }
        return true;
    }

    private HttpMethod poll() {
        HttpMethod m = oldest;
        if (m != null) {
            oldest = pipelined != null ? pipelined.poll() : null;
            if (pipelined != null && pipelined.isEmpty()) {
                pipelined = null;
            }
            return m;
        }
        return null;
    }

    /** Netty's response encoder, framing each response by the request it answers. */
    private final class Encoder extends HttpResponseEncoder {
        private HttpMethod method;

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
            if (mustCloseAfterResponse && msg instanceof LastHttpContent) {
                mustCloseAfterResponse = false;
                promise = promise.unvoid().addListener(ChannelFutureListener.CLOSE);
            }
            super.write(ctx, msg, promise);
        }

        @Override
        protected void sanitizeHeadersBeforeEncode(HttpResponse msg, boolean isAlwaysEmpty) {
            if (!isAlwaysEmpty && HttpMethod.CONNECT.equals(method) && msg.status().codeClass() == HttpStatusClass.SUCCESS) {
                msg.headers().remove(HttpHeaderNames.TRANSFER_ENCODING); // RFC 7230 §3.3.1
                return;
            }
            super.sanitizeHeadersBeforeEncode(msg, isAlwaysEmpty);
        }

        @Override
        protected boolean isContentAlwaysEmpty(HttpResponse msg) {
            int code = msg.status().code();
            if (msg.status().codeClass() == HttpStatusClass.INFORMATIONAL && code != 101) {
                return super.isContentAlwaysEmpty(msg); // an interim response answers no request of its own
            }
            // A 101 answers its request (an upgrade's, or, unasked, as the final response an upstream gave): no body
            method = poll();
            return code == 101 || HttpMethod.HEAD.equals(method) || super.isContentAlwaysEmpty(msg);
        }

        /** The status with Envoy's reason phrase for its code, not the upstream's (StatusLines). */
        @Override
        protected void encodeInitialLine(ByteBuf buf, HttpResponse response) {
            StatusLines.write(response.protocolVersion(), response.status().code(), buf);
        }

        @Override
        protected void encodeHeaders(HttpHeaders headers, ByteBuf buf) {
            if (headers instanceof FlatHeaders flat) {
                flat.encode(buf);
            } else {
                FlatHeaders.encode(headers, buf); // names in lower case, as Envoy's encoder writes them
            }
        }
    }

    // ---- outbound: responses through the encoder, everything else passed on ----------------------

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
        if (leaving) {
            ctx.write(msg, promise); // HTTP/2's frames, written while this codec is still leaving the pipeline
            return;
        }
        encoder.write(ctx, msg, promise);
    }

    /** The connection became HTTP/2 ({@link HttpConnection#chooseCodec}): from now on nothing is encoded here. */
    void leave() {
        leaving = true;
    }

    @Override
    public void bind(ChannelHandlerContext ctx, SocketAddress localAddress, ChannelPromise promise) {
        ctx.bind(localAddress, promise);
    }

    @Override
    public void connect(ChannelHandlerContext ctx, SocketAddress remoteAddress, SocketAddress localAddress, ChannelPromise promise) {
        ctx.connect(remoteAddress, localAddress, promise);
    }

    @Override
    public void disconnect(ChannelHandlerContext ctx, ChannelPromise promise) {
        ctx.disconnect(promise);
    }

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        ctx.close(promise);
    }

    @Override
    public void deregister(ChannelHandlerContext ctx, ChannelPromise promise) {
        ctx.deregister(promise);
    }

    @Override
    public void read(ChannelHandlerContext ctx) {
        ctx.read();
    }

    @Override
    public void flush(ChannelHandlerContext ctx) {
        ctx.flush();
    }
}
