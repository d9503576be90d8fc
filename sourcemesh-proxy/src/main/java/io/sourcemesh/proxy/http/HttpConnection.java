package io.sourcemesh.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.ReferenceCountUtil;
import io.sourcemesh.proxy.accesslog.AccessLog;
import io.sourcemesh.proxy.accesslog.ResponseFlag;
import io.sourcemesh.proxy.accesslog.StreamInfo;
import io.sourcemesh.proxy.config.Http2Options;
import io.sourcemesh.proxy.http.filter.HttpFilterChain;
import io.sourcemesh.proxy.network.ConnectionContext;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;

/**
 * One downstream HTTP/1.1 connection: decodes requests one at a time, hands each to an
 * {@link HttpStream} that routes and forwards it, and sends Envoy's local replies. Reads from the
 * client only when the current stream can take more (auto-read is off). Under codec_type AUTO or HTTP2
 * its first bytes (or ALPN) may make it an {@link H2Connection}, whose streams each get an instance of
 * their own on their child channel ({@link #forH2Stream}): one request, then the stream ends.
 */
final class HttpConnection extends ChannelInboundHandlerAdapter implements ChannelFutureListener {
    private final HttpConnectionManagerFilter filter;
    private final ConnectionContext connection;
    /**
     * Messages that arrived while a stream was still answering (pipelining, or epoll's EOF read);
     * made on first use, so an idle keep-alive connection holds no queue.
     */
    private ArrayDeque<Object> pending;
    private ChannelHandlerContext ctx;
    private HttpStream stream;
    private boolean closeAfterStream;
    /** Accepted while its listener drained ({@code ListenerRuntime.DRAINING}): each request's response closes it. */
    private boolean acceptedDraining;
    /** The response is out and the connection closes soon: what the client still sends is read and dropped. */
    private boolean lingering;
    /** The delayed close's timer while lingering: cancelled when the client closes first, so it holds nothing. */
    private io.netty.util.concurrent.ScheduledFuture<?> delayedClose;
    /** Envoy's default delayed_close_timeout (the field is not configurable here: HttpTranslator refuses it). */
    static final long DELAYED_CLOSE_MILLIS = 1000;
    private ConnectionTimers timers;
    /** The HTTP codec in front of this handler; null while parked (idle) or after a 101. */
    private ServerCodec codec;
    /** Inside a read burst from the client: what streams write upstream is flushed once at its end. */
    private boolean reading;
    /**
     * The last stream's {@link StreamInfo}, logged and let go by a stream that ended cleanly on a connection that
     * goes on: the next stream's, reset (a keep-alive connection makes one, not one per request). Without its
     * headers while kept, and dropped when the connection parks: an idle connection holds none.
     */
    private StreamInfo spareInfo;

    /** One HTTP/2 stream's (its child channel's), not a connection's: no connection stats, one request, then closed. */
    private final boolean h2Stream;
    /** codec_type AUTO or HTTP2 and the first bytes not decoded yet: they (or ALPN) choose HTTP/1 or HTTP/2. */
    private boolean choosingCodec;

    HttpConnection(HttpConnectionManagerFilter filter, ConnectionContext connection) {
        this(filter, connection, false);
    }

    private HttpConnection(HttpConnectionManagerFilter filter, ConnectionContext connection, boolean h2Stream) {
        this.filter = filter;
        this.connection = connection;
        this.h2Stream = h2Stream;
        // (a timers test makes one without a connection manager)
        this.choosingCodec = !h2Stream && filter != null
                && filter.config.limits().http2().codec() != Http2Options.Codec.HTTP1;
    }

    /** The connection manager of one HTTP/2 stream, on its child channel behind an {@link H2StreamCodec}. */
    static HttpConnection forH2Stream(HttpConnectionManagerFilter filter, ConnectionContext connection) {
        return new HttpConnection(filter, connection, true);
    }

    /** True for an HTTP/2 stream's connection manager: the access log's %PROTOCOL% is HTTP/2. */
    boolean h2Stream() {
        return h2Stream;
    }

    /** Asked by the codec before it decodes the connection's first bytes, while true. */
    boolean choosingCodec() {
        return choosingCodec;
    }

    /** Envoy's prior-knowledge check (ConnectionManagerUtility::determineNextProtocol): the bytes start with this. */
    private static final byte[] H2_PREFIX = "PRI * HTTP/2".getBytes(StandardCharsets.US_ASCII);

    /**
     * Envoy's codec choice (ConnectionManagerUtility::determineNextProtocol, then createCodec): HTTP2 always; AUTO by the
     * protocol ALPN negotiated, else HTTP/2 when the client's bytes start with the HTTP/2 connection preface. True when
     * the codec must not decode {@code in}: more bytes are needed to tell, or the connection became HTTP/2 (then the
     * codec's removal hands its bytes to the HTTP/2 frame codec).
     */
    boolean chooseCodec(ChannelHandlerContext codecCtx, ByteBuf in) {
        boolean h2;
        if (filter.config.limits().http2().codec() == Http2Options.Codec.HTTP2) {
            h2 = true;
        } else {
            SslHandler tls = ctx.pipeline().get(SslHandler.class);
            String alpn = tls == null ? null : tls.applicationProtocol();
            if (alpn != null) { // null when none was agreed: then the bytes tell, as Envoy's empty nextProtocol
                h2 = alpn.equals("h2");
            } else {
                int n = Math.min(in.readableBytes(), H2_PREFIX.length);
                for (int i = 0; i < n; i++) {
                    if (in.getByte(in.readerIndex() + i) != H2_PREFIX[i]) {
                        n = -1;
                        break;
                    }
                }
                if (n >= 0 && n < H2_PREFIX.length) {
                    return true; // so far a prefix of the preface: wait for more (the codec asks for it)
                }
                h2 = n == H2_PREFIX.length;
            }
        }
        choosingCodec = false;
        if (h2) {
            timers.stop(); // an HTTP/2 connection keeps its own idle clock (H2Connection); its streams have theirs
            ChannelPipeline p = ctx.pipeline();
            ((ServerCodec) codecCtx.handler()).leave();
            H2Connection.install(p, codecCtx.name(), filter, connection);
            p.remove(this);
            p.remove(codecCtx.handler()); // done once it returns from decoding: its bytes go on to the frame codec
            codec = null;
        }
        return h2;
    }

    /** A codec for this connection: at install, and when a parked connection wakes. */
    ServerCodec newCodec() {
        codec = new ServerCodec(filter.decoderConfig, this);
        return codec;
    }

    /**
     * Idle for {@link ConnectionTimers#PARK_AFTER_NANOS}: the codec (its decoder, encoder, parsers and
     * scratch buffer, ~0.45 KB, and its pipeline context) leaves the pipeline until the client's next
     * byte, if it holds nothing a fresh codec would not.
     */
    void onParkDue() {
        if (stream == null) {
            spareInfo = null; // nor a StreamInfo kept for the next request
        }
        if (stream == null && pending == null && !closeAfterStream && codec != null && !ctx.isRemoved()
                && ctx.channel().isActive() && codec.parkable()) {
            ctx.pipeline().remove(codec);
            codec = null;
        }
    }

    /** The first bytes after a park: a fresh codec takes its place again and decodes them. */
    private void unpark(ChannelHandlerContext ctx, Object bytes) throws Exception {
        ServerCodec fresh = newCodec();
        ctx.pipeline().addBefore(ctx.name(), "http-codec", fresh);
        fresh.channelRead(ctx.pipeline().context(fresh), bytes);
    }

    HttpConnectionManagerFilter filter() {
        return filter;
    }

    ConnectionContext connection() {
        return connection;
    }

    Channel channel() {
        return ctx.channel();
    }

    /** The stream being answered, or null between requests. */
    HttpStream stream() {
        return stream;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        acceptedDraining = ctx.channel().hasAttr(io.sourcemesh.proxy.listener.ListenerRuntime.DRAINING);
    }

    /** Not {@code @Sharable}: answered here, not looked up in Netty's per-thread class map when added (once per connection). */
    @Override
    public boolean isSharable() {
        return false;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (!h2Stream) {
            filter.cxTotal.inc();
            filter.cxActive.inc();
        }
        timers = new ConnectionTimers(this, ctx.channel().eventLoop(), filter.timeouts);
        // Not channelInactive: a 101 takes this handler out of the pipeline.
        io.sourcemesh.proxy.network.ChannelErrors.whenClosed(ctx.channel(), this);
        timers.connectionIdle();
        ctx.read();
    }

    /** The connection closed: its clocks stop (a pending check would hold the closed connection until it fires). */
    @Override
    public void operationComplete(ChannelFuture closed) {
        if (!h2Stream) {
            filter.cxActive.dec();
        }
        timers.stop();
        if (delayedClose != null) {
            delayedClose.cancel(false);
            delayedClose = null;
        }
    }

    /** Raw bytes from the client (before decoding): starts request_headers_timeout, feeds stream_idle_timeout. */
    void bytesArrived() {
        if (timers != null) {
            timers.bytesArrived(stream != null);
        }
    }

    /** The loop's clock (null before the connection is active). */
    LoopClock clock() {
        return timers == null ? null : timers.clock();
    }

    /** Now, as of the event being handled ({@link LoopClock#now}). */
    long now() {
        return timers.clock().now();
    }

    /** A new stream's {@link StreamInfo}, starting now: the last stream's when it left one. */
    StreamInfo newStreamInfo() {
        StreamInfo spare = spareInfo;
        if (spare == null) {
            return connection.newStream(now());
        }
        spareInfo = null;
        return connection.reuseStream(spare, now());
    }

    /** Activity on the current stream seen by the stream itself (upstream reads, completed writes). */
    void streamActivity() {
        timers.activity();
    }

    void onIdleTimeout() {
        if (stream == null && ctx.channel().isActive()) {
            filter.cxIdleTimeout.inc();
            ctx.close();
        }
    }

    void onRequestHeadersTimeout() {
        if (stream == null && ctx.channel().isActive()) {
            filter.rqHeaderTimeout.inc();
            // Envoy answers the half-read request 408 and closes (conn_manager_impl.cc onRequestHeaderTimeout): a stream
            // with no head of its own, whose local reply is logged like any other.
            stream = new HttpStream(this, HEADLESS.retainedDuplicate());
            timers.streamStarted();
            stream.startHeaderTimeout();
        }
    }

    /** The request a stream stands for when its head never arrived: nothing of it is read or logged. */
    private static final FullHttpRequest HEADLESS = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, io.netty.handler.codec.http.HttpMethod.GET,
            "/", Unpooled.EMPTY_BUFFER);

    void onRequestTimeout() {
        if (stream != null && !stream.requestComplete()) {
            stream.onDownstreamTimeout("request timeout", null, "request_overall_timeout");
        }
    }

    void onStreamIdleTimeout() {
        if (stream != null) {
            filter.rqIdleTimeout.inc();
            stream.onDownstreamTimeout("stream timeout", io.sourcemesh.proxy.accesslog.ResponseFlag.STREAM_IDLE_TIMEOUT,
                    "stream_idle_timeout");
        }
    }

    /** Envoy answers "Expect: 100-continue" itself and strips it before forwarding (as Netty's HttpServerExpectContinueHandler). */
    private static final FullHttpResponse CONTINUE = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE,
            Unpooled.EMPTY_BUFFER);

    static {
        CONTINUE.headers().set(HttpHeaderNames.CONTENT_LENGTH, 0);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (codec == null && stream == null && msg instanceof ByteBuf) { // parked (after a 101 the stream is the tunnel)
            unpark(ctx, msg);
            return;
        }
        reading = true;
        if (stream == null && closeAfterStream) {
            // The stream that ended this connection was answered at once (a refused CONNECT or upgrade, a local reply)
            // while the decoder still had bytes of the same read: they are never a request (Envoy's codec stops there).
            // While it lingers, the rest of an answered request's body is read and dropped.
            ReferenceCountUtil.release(msg);
            if (lingering) {
                ctx.read();
            }
            return;
        }
        if (msg instanceof HttpRequest request && HttpUtil.is100ContinueExpected(request)) {
            ctx.writeAndFlush(CONTINUE.retainedDuplicate()).addListener(ChannelFutureListener.CLOSE_ON_FAILURE);
            request.headers().remove(HttpHeaderNames.EXPECT);
        }
        if (stream != null && (stream.requestComplete() || stream.upgraded())) {
            if (pending == null) {
                pending = new ArrayDeque<>(4);
            }
            pending.add(msg);
            return;
        }
        dispatch(msg);
    }

    private void dispatch(Object msg) {
        if (stream == null) {
            if (msg instanceof HttpRequest request) {
                H2cUpgrade.strip(request.headers()); // Envoy's codec serves an h2c upgrade as plain HTTP/1.1
                stream = new HttpStream(this, request);
                if (acceptedDraining || filter != null && filter.drain != null && filter.drain.drainClose()) {
                    drainClose(); // Envoy's drain decision at the response: Connection: close, or on HTTP/2 the GOAWAYs
                }
                timers.streamStarted();
                stream.start();
            } else {
                ReferenceCountUtil.release(msg); // the tail of a request we already answered
                ctx.read();
            }
            return;
        }
        if (msg instanceof HttpContent content && (content.decoderResult().isFailure()
                || (content instanceof io.netty.handler.codec.http.LastHttpContent last
                        && RequestValidator.forbiddenTrailers(last.trailingHeaders())))) {
            // Malformed body framing or trailers: Envoy answers 400 and closes; nothing after it is parsed.
            ReferenceCountUtil.release(content);
            closeAfterCurrentStream();
            stream.onRequestCodecError();
        } else if (msg instanceof HttpContent content) {
            stream.onRequestContent(content);
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    /** End of a read burst from the client: one flush upstream for all it carried. */
    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        reading = false;
        if (stream != null) {
            stream.onDownstreamReadComplete();
        }
        ctx.fireChannelReadComplete();
    }

    boolean reading() {
        return reading;
    }

    /** Asks the client for more of the current request body. */
    void readMore() {
        ctx.read();
    }

    /** The current stream's request has fully arrived. */
    void requestComplete() {
        timers.requestComplete();
        if (h2Stream) {
            // A read kept pending: a RST_STREAM from the client is seen at once (the child channel then closes).
            ctx.read();
        }
    }

    /** Called by the stream when it has been fully answered and logged. */
    void streamDone(HttpStream done, boolean keepAlive) {
        if (stream != done) {
            return;
        }
        stream = null;
        if (h2Stream) {
            // The stream's one request is answered: its channel closes once the response's last frame is written.
            ChannelFuture last = done.lastWriteFlushed();
            if (last == null || last.isDone()) {
                endH2Stream();
            } else {
                last.addListener(f -> endH2Stream());
            }
            return;
        }
        timers.connectionIdle();
        if (!keepAlive || closeAfterStream) {
            // A close the client did not ask for (a malformed request, a refused upgrade, an answer before the request
            // ended, a drain) may meet bytes it is still sending: it lingers, as Envoy's delayed close. One the client
            // asked for (Connection: close, HTTP/1.0) closes as the response's last write completes.
            boolean linger = closeAfterStream;
            closeAfterStream = true; // nothing the decoder still holds is dispatched
            // Closed once the response's last write completes: no empty write (a promise, a listener and an
            // outbound entry per closed connection) to wait on.
            ChannelFuture last = done.lastWriteFlushed();
            if (linger) {
                if (last == null) {
                    lingerThenClose();
                } else {
                    last.addListener((ChannelFutureListener) this::closeWhenClientStops); // at once when already written
                }
            } else if (last == null || last.isDone()) {
                ctx.close();
            } else {
                last.addListener(ChannelFutureListener.CLOSE);
            }
            releasePending();
            return;
        }
        // Ended clean (logged, its upstream pooled or closed, its clocks disarmed): nothing of it writes there any more.
        spareInfo = done.info();
        spareInfo.dropHeaders();
        while (pending != null && !pending.isEmpty() && (stream == null || !stream.requestComplete())) {
            dispatch(pending.poll());
        }
        if (pending != null && pending.isEmpty()) {
            pending = null;
        }
        if (stream == null && pending == null) {
            ctx.read();
        }
    }

    /**
     * Closing on a client still sending (the rest of a body, what followed a malformed request) would reset the
     * connection (unread bytes make close() send RST), and a reset can discard the response in the client's socket
     * before it is read: Envoy's delayed close. The response is out; what the client still sends is read and dropped
     * until it closes, or for {@link #DELAYED_CLOSE_MILLIS} (Envoy's default delayed_close_timeout), then it closes.
     */
    private void closeWhenClientStops(ChannelFuture written) {
        if (written.isSuccess()) {
            lingerThenClose();
        } else {
            ctx.close();
        }
    }

    private void lingerThenClose() {
        if (!ctx.channel().isActive()) {
            return;
        }
        lingering = true;
        delayedClose = ctx.executor().schedule(() -> ctx.close(), DELAYED_CLOSE_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS);
        ctx.read();
    }

    private void releasePending() {
        if (pending != null) {
            pending.forEach(ReferenceCountUtil::release);
            pending = null;
        }
    }

    /**
     * An HTTP/2 stream whose request has not ended (answered early, a timeout) is reset with NO_ERROR first, as Envoy's
     * doEndStream resets it (LocalReset, which its codec sends as NO_ERROR); closing the channel alone would send CANCEL.
     */
    private void endH2Stream() {
        if (ctx.channel() instanceof io.netty.handler.codec.http2.Http2StreamChannel ch && ch.isActive()) {
            io.netty.handler.codec.http2.Http2Stream.State state = ch.stream().state();
            if (state == io.netty.handler.codec.http2.Http2Stream.State.OPEN
                    || state == io.netty.handler.codec.http2.Http2Stream.State.HALF_CLOSED_LOCAL) {
                ctx.writeAndFlush(new io.netty.handler.codec.http2.DefaultHttp2ResetFrame(io.netty.handler.codec.http2.Http2Error.NO_ERROR))
                        .addListener(ChannelFutureListener.CLOSE);
                return;
            }
        }
        ctx.close();
    }

    void closeAfterCurrentStream() {
        closeAfterStream = true;
    }

    /**
     * This stream's response ends the connection: on HTTP/1 it says Connection: close; an HTTP/2 stream asks its
     * connection to start the GOAWAY sequence instead, which lets the stream and the others in flight finish.
     */
    private void drainClose() {
        if (h2Stream) {
            ctx.channel().parent().pipeline().fireUserEventTriggered(io.sourcemesh.proxy.listener.ListenerRuntime.Drain.INSTANCE);
        } else {
            closeAfterStream = true;
        }
    }

    /** True once this connection is draining: its current response says Connection: close. */
    boolean closing() {
        return closeAfterStream;
    }

    /** The route timeout of this connection's streams: one of the connection's clocks. */
    ConnectionTimers routeTimer() {
        return timers;
    }

    /**
     * Envoy's local reply: a small text/plain response generated by the proxy itself (404 NR,
     * 503 UF/UH, 504 UT, ...), logged with the flag and details that explain it.
     */
    ChannelFuture sendLocalReply(StreamInfo info, boolean keepAlive, HttpVersion version, int status, String body,
            ResponseFlag flag, String details) {
        return sendLocalReply(info, keepAlive, version, status, body, flag, details, h -> { }, HttpFilterChain.empty());
    }

    /**
     * {@code headers} adds to the reply before it is written (a redirect's location); then the stream's HTTP filters
     * encode it, as Envoy's sendLocalReplyViaFilterChain runs every encoder filter on a local reply (a CORS filter that
     * saw an allowed origin adds Access-Control-Allow-Origin to a 503 as to an upstream's answer).
     */
    ChannelFuture sendLocalReply(StreamInfo info, boolean keepAlive, HttpVersion version, int status, String body,
            ResponseFlag flag, String details, java.util.function.Consumer<io.netty.handler.codec.http.HttpHeaders> headers,
            HttpFilterChain encoders) {
        if (flag != null) {
            info.addResponseFlag(flag);
        }
        info.responseCodeDetails(details);
        ByteBuf content = body.isEmpty() ? Unpooled.EMPTY_BUFFER : Unpooled.copiedBuffer(body, StandardCharsets.UTF_8);
        FullHttpResponse response = new DefaultFullHttpResponse(version, HttpResponseStatus.valueOf(status), content);
        response.headers().set(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes());
        if (content.isReadable()) {
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN);
        }
        response.headers().set(HttpHeaderNames.DATE, httpDate());
        response.headers().set(HttpHeaderNames.SERVER, filter.serverName);
        if (!keepAlive) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (version == HttpVersion.HTTP_1_0) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        headers.accept(response.headers());
        encoders.encodeHeaders(response);
        info.responseCode(status);
        info.responseHeaders(response.headers());
        info.addBytesSent(content.readableBytes());
        return ctx.writeAndFlush(response);
    }

    static String httpDate() {
        return DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now(ZoneOffset.UTC));
    }

    void log(StreamInfo info) {
        int code = info.responseCode();
        if (code >= 100 && code < 600) {
            filter.rqByClass[code / 100].inc();
        }
        for (int i = 0, n = filter.accessLogs.size(); i < n; i++) { // indexed: no iterator per request
            filter.accessLogs.get(i).log(info);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        releasePending();
        // An HTTP/2 stream whose response's last frame was written closes with it: the write's listener ends the stream.
        if (stream != null && !(h2Stream && stream.responseComplete())) {
            stream.onDownstreamClosed();
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == io.sourcemesh.proxy.listener.ListenerRuntime.Drain.INSTANCE) {
            if (stream == null) {
                ctx.close();
            } else {
                closeAfterCurrentStream();
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        io.sourcemesh.proxy.network.ChannelErrors.caught(ctx, cause);
    }

    /** Leaves the HTTP codec behind after a 101: from now on this connection carries raw bytes. */
    void removeHttpHandlers() {
        timers.cancelAll();
        if (h2Stream) {
            ctx.pipeline().get(H2StreamCodec.class).tunnel(); // an extended CONNECT: the stream's DATA are the bytes now
        } else {
            ctx.pipeline().remove("http-codec");
        }
        codec = null;
    }
}
