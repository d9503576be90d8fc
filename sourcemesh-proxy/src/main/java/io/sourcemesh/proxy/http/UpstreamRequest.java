package io.sourcemesh.proxy.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2ResetFrame;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.ReferenceCountUtil;
import io.sourcemesh.proxy.upstream.ClusterRuntime;
import io.sourcemesh.l4.SourceBinding;
import io.sourcemesh.proxy.upstream.UpstreamHost;
import java.net.InetSocketAddress;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One attempt of a request on one upstream connection (Envoy's {@code UpstreamRequest}): a pooled
 * connection taken over or a new one made on the downstream connection's event loop; the request
 * head and body written up, the response handed to the {@link Router} as it arrives, and at the
 * end the connection given back to the pool or closed. A retry is a new {@code UpstreamRequest};
 * the one it replaces is detached and hears nothing more from its connection.
 */
final class UpstreamRequest implements ChannelFutureListener {
    static final String HANDLER = "sourcemesh-upstream";
    static final String CODEC = "http-client-codec";

    /** Where this attempt is. Response progress is the stream's ({@link HttpStream.State}). */
    enum State {
        /** A new connection is being made. */
        CONNECTING,
        /** On its connection; the request body is still going up. */
        SENDING,
        /** On its connection; the whole request went up (a pooled connection needs this to be reused). */
        SENT,
        /** Replaced by a retry, tunnelled away, or handed back at the stream's end: its connection's events are ignored. */
        DETACHED
    }

    private final Router router;
    private final HttpStream stream;
    private final ClusterRuntime cluster;
    private final UpstreamHost host;
    private final SourceBinding binding;
    /** Taken from the idle pool (a stale one may be closed by the upstream before it answers). */
    private final boolean pooled;
    private State state;
    private Channel channel;
    /** Its connection's handler, found once when attached (not looked up by name per request). */
    private Handler handler;
    /** Writes up were made inside a client read burst: flushed once at its end. */
    private boolean flushPending;
    /** An interim (1xx) head was dropped: its end, which the decoder delivers apart, is dropped with it. */
    private boolean interim;
    /** Its HTTP/2 connection when this attempt is a stream (its channel then is the stream's); null on HTTP/1.1. */
    private Http2Upstream h2;
    /** The peer reset the stream (RST_STREAM): its error code; -1 when it did not. */
    private long resetCode = -1;
    /** The peer refused the stream unprocessed: RST_STREAM REFUSED_STREAM, or past a GOAWAY's last stream id. */
    private boolean refused;

    private UpstreamRequest(Router router, HttpStream stream, ClusterRuntime cluster, UpstreamHost host, SourceBinding binding,
            boolean pooled) {
        this(router, stream, cluster, host, binding, pooled, null);
    }

    private UpstreamRequest(Router router, HttpStream stream, ClusterRuntime cluster, UpstreamHost host, SourceBinding binding,
            boolean pooled, Http2Upstream h2) {
        this.h2 = h2;
        this.router = router;
        this.stream = stream;
        this.cluster = cluster;
        this.host = host;
        this.binding = binding;
        this.pooled = pooled;
        this.state = State.CONNECTING;
    }

    /** An attempt on an idle pooled connection of this event loop; null when there is none. */
    static UpstreamRequest pooled(Router router, HttpStream stream, ClusterRuntime cluster, UpstreamHost host, SourceBinding binding) {
        Channel idle = cluster.pollIdle(host, binding);
        if (idle == null) {
            return null;
        }
        UpstreamRequest r = new UpstreamRequest(router, stream, cluster, host, binding, true);
        r.attach(idle);
        return r;
    }

    /** An attempt on a new connection. */
    static UpstreamRequest connect(Router router, HttpStream stream, ClusterRuntime cluster, UpstreamHost host, SourceBinding binding) {
        UpstreamRequest r = new UpstreamRequest(router, stream, cluster, host, binding, false);
        r.connect();
        return r;
    }

    /** An attempt as a stream of {@code connection}, attached once its stream opens ({@link #attachStream}). */
    static UpstreamRequest onStream(Router router, HttpStream stream, ClusterRuntime cluster, UpstreamHost host,
            SourceBinding binding, Http2Upstream connection) {
        return new UpstreamRequest(router, stream, cluster, host, binding, false, connection);
    }

    State state() {
        return state;
    }

    /** Queued on another HTTP/2 connection before its stream opened. */
    void movedTo(Http2Upstream connection) {
        h2 = connection;
    }

    SourceBinding binding() {
        return binding;
    }

    /** The downstream connection this attempt serves (its loop and connector make a new upstream connection). */
    HttpConnection downstream() {
        return stream.connection();
    }

    /** Whether this attempt is an HTTP/2 stream. */
    boolean http2() {
        return h2 != null;
    }

    /** The peer reset this attempt's stream (RST_STREAM, or refused past a GOAWAY). */
    boolean remoteReset() {
        return resetCode >= 0 || refused;
    }

    /** The peer refused the stream without processing it (REFUSED_STREAM, GOAWAY): Envoy's remote_refused_stream_reset. */
    boolean refused() {
        return refused;
    }

    /** Its stream opened: attached as a connection is. */
    void attachStream(Channel streamChannel) {
        if (stream.done() || state == State.DETACHED) {
            streamChannel.close();
            return;
        }
        attach(streamChannel);
    }

    /** Its HTTP/2 connection failed to connect: as a connect failure of its own (the connection counted it once). */
    void connectFailed(Throwable cause) {
        if (stream.done() || state == State.DETACHED) {
            return;
        }
        state = State.DETACHED;
        router.onConnectFailed(this, cause);
    }

    /** Its stream could not open (the connection closed first): the connection's termination, as Envoy's pool reports it. */
    void streamFailed() {
        if (stream.done() || state == State.DETACHED) {
            return;
        }
        state = State.DETACHED;
        router.onUpstreamClosed(this);
    }

    /** The connection's GOAWAY came before this attempt's stream opened: refused unprocessed. */
    void refusedBeforeStream() {
        refused = true;
        streamFailed();
    }

    boolean pooledConnection() {
        return pooled;
    }

    /** On a connection and still this stream's. */
    boolean attached() {
        return state == State.SENDING || state == State.SENT;
    }

    private void connect() {
        HttpConnection downstream = stream.connection();
        UpstreamHost h = host;
        ClusterRuntime c = cluster;
        c.connectionOpened(h, false);
        var socket = h.transportSocket();
        ChannelFuture f = socket.ready(downstream.filter().connector.connect(downstream.channel().eventLoop(), host.address(), binding,
                cluster.config().connectTimeout(), cluster.tcpKeepalive(), socket.pipeline(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        // Pooled connections serve only streams of this loop, so of its clock.
                        UpstreamCodec codec = new UpstreamCodec(HttpConnectionManagerFilter.MAX_HEADER_BYTES, downstream.clock());
                        ch.pipeline().addLast(CODEC, codec);
                        ch.pipeline().addLast(HANDLER, new Handler(codec, c));
                        ch.closeFuture().addListener(x -> c.connectionClosed(h));
                    }
                }, binding)));
        f.addListener((ChannelFutureListener) result -> {
            if (!result.isSuccess()) {
                if (!result.channel().isRegistered()) {
                    c.connectionClosed(h);
                }
                c.connectFailed(h, result.cause());
                router.onConnectFailed(this, result.cause());
                return;
            }
            armMaxDuration(result.channel(), c);
            if (stream.done() || state == State.DETACHED) {
                result.channel().close();
                return;
            }
            attach(result.channel());
        });
    }

    /**
     * Envoy's connection duration timer (ActiveClient::onConnectionDurationTimeout,
     * source/common/conn_pool/conn_pool_base.cc), armed once connected: at the cluster's
     * max_connection_duration the connection drains — closed at once when idle, else after the
     * response in flight, and never given a new request. Per connection, not per request.
     */
    private static void armMaxDuration(Channel ch, ClusterRuntime c) {
        long nanos = c.maxConnectionDurationNanos();
        if (nanos < 0) {
            return;
        }
        Handler h = handlerOf(ch);
        ScheduledFuture<?> timer = ch.eventLoop().schedule(() -> h.maxDurationReached(ch), nanos,
                TimeUnit.NANOSECONDS);
        ch.closeFuture().addListener(x -> timer.cancel(false));
    }

    private void attach(Channel ch) {
        channel = ch;
        state = State.SENDING;
        handler = handlerOf(ch);
        handler.owner = this;
        cluster.outlierConnectSuccess(host); // Envoy's onPoolReady: LOCAL_ORIGIN_CONNECT_SUCCESS, a pooled connection too
        if (h2 != null) {
            stream.info().upstreamProtocol("HTTP/2");
            stream.info().upstreamLocalAddress((InetSocketAddress) ch.localAddress()).upstreamTls(host.transportSocket().tlsInfo(ch.parent()));
        } else if (handler.remainingStreams > 0 && --handler.remainingStreams == 0) {
            // Envoy's attachStreamToClient (source/common/conn_pool/conn_pool_base.cc): the stream that takes a
            // connection's last one of max_requests_per_connection counts upstream_cx_max_requests and drains it —
            // closed when this stream ends, never pooled again.
            cluster.cxMaxRequests.inc();
        }
        if (h2 == null) {
            stream.info().upstreamProtocol("HTTP/1.1");
            handler.codec.upgradeAsked(router.upgrade());
            stream.info().upstreamLocalAddress((InetSocketAddress) ch.localAddress()).upstreamTls(host.transportSocket().tlsInfo(ch));
        }
        if (h2 != null && router.bodyless()) {
            // A request without a body is one HEADERS frame that ends the stream, as Envoy's codec sends it.
            router.releaseQueuedBody();
            HttpRequest r = router.request();
            ch.write(new DefaultFullHttpRequest(r.protocolVersion(), r.method(), r.uri(), Unpooled.EMPTY_BUFFER, r.headers(),
                    EmptyHttpHeaders.INSTANCE), ch.voidPromise());
            r.headers().remove(HttpConversionUtil.ExtensionHeaderNames.SCHEME.text());
            state = State.SENT;
            flush();
            router.startTimeout();
            ch.read();
            return;
        }
        ch.write(router.request(), ch.voidPromise()); // failures reach Handler.exceptionCaught, which closes
        if (h2 != null) {
            // The stream codec took the scheme from this header (the connection's: TLS or not) and wrote :scheme; a retry
            // on HTTP/1.1 or the access log must not see it.
            router.request().headers().remove(HttpConversionUtil.ExtensionHeaderNames.SCHEME.text());
        }
        ChannelFuture last = null;
        HttpContent queued;
        while ((queued = router.pollQueuedBody()) != null) {
            last = writeBody(queued);
        }
        if (stream.requestComplete() && state == State.SENDING) {
            ch.write(LastHttpContent.EMPTY_LAST_CONTENT, ch.voidPromise()); // a retry of a body-less request
            state = State.SENT;
        }
        flush();
        if (last != null) {
            last.addListener((ChannelFutureListener) this::afterBodyWrite);
        } else if (!stream.requestComplete()) {
            stream.connection().readMore();
        }
        if (stream.requestComplete()) {
            router.startTimeout();
        }
        ch.read();
    }

    /** A piece of the request body, for an attached attempt. */
    void sendData(HttpContent content) {
        if (content instanceof LastHttpContent && !content.content().isReadable() && state == State.SENT) {
            content.release();
            return;
        }
        if (stream.requestComplete()) {
            // The last part: nothing reads on after it, so no future to wait on.
            stream.info().addBytesReceived(content.content().readableBytes());
            state = State.SENT;
            channel.write(content, channel.voidPromise());
            flush();
            router.startTimeout();
            return;
        }
        ChannelFuture f = writeBody(content);
        flush();
        f.addListener((ChannelFutureListener) this::afterBodyWrite);
    }

    private ChannelFuture writeBody(HttpContent content) {
        stream.info().addBytesReceived(content.content().readableBytes());
        if (content instanceof LastHttpContent) {
            state = State.SENT;
        }
        return channel.write(content);
    }

    private void afterBodyWrite(ChannelFuture f) {
        if (!f.isSuccess()) {
            return; // the connection's close reports the failure
        }
        if (!stream.requestComplete() && !stream.done()) {
            stream.connection().readMore();
        }
    }

    /**
     * Within a read burst from the client (a request head and its body often come in one), the
     * writes upstream are flushed once when the burst ends; otherwise (after a connect, or when
     * pipelined requests are taken up) at once.
     */
    private void flush() {
        if (stream.connection().reading()) {
            flushPending = true;
        } else {
            channel.flush();
        }
    }

    void flushIfPending() {
        if (flushPending) {
            flushPending = false;
            if (channel != null) {
                channel.flush();
            }
        }
    }

    // ---- the response side -------------------------------------------------------------------

    private void onMessage(HttpObject msg) {
        stream.connection().streamActivity();
        if (stream.done()) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (stream.responseComplete() || msg.decoderResult().isFailure()) {
            // More than the one response we asked for, or a malformed one: it never reaches the client,
            // and the connection is closed rather than pooled (Envoy: upstream protocol error).
            ReferenceCountUtil.release(msg);
            router.onProtocolError(this);
            return;
        }
        if (interim) {
            // The interim response's end (no body: the decoder knows a 1xx has none); the final response follows.
            interim = !(msg instanceof LastHttpContent);
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpResponse response) {
            int code = response.status().code();
            if (code == 100 || (code > 101 && code < 200)) {
                // Envoy, without proxy_100_continue (Istio's default), swallows 100, 102, 103 and 104 — its router takes
                // them (onUpstream1xxHeaders: charged as an upstream code, no retry after) — and its upstream request
                // drops any other 1xx unseen: the client gets the final response only. Its end goes too, or it would end
                // the stream.
                if (code <= 104) {
                    router.onInterimHeaders(code);
                }
                interim = !(msg instanceof LastHttpContent);
                ReferenceCountUtil.release(msg);
                return;
            }
            if (!router.onResponseHeaders(response)) {
                ReferenceCountUtil.release(msg); // this answer is dropped: another attempt follows
                return;
            }
            if (code == 101 && router.upgrade()) {
                state = State.DETACHED;
                channel.pipeline().remove(HANDLER);
                channel.pipeline().remove(CODEC);
                stream.switchToTunnel(channel);
                return;
            }
        }
        if (msg instanceof HttpContent content && !(msg instanceof HttpResponse)) { // a whole response went with its head
            stream.encodeData(content);
        }
    }

    /** End of one upstream read burst: flush to the client, read on once the client took it. */
    private void onReadComplete() {
        if (stream.done()) {
            return;
        }
        ChannelFuture f = stream.flushResponse();
        if (f == null) {
            if (!stream.responseComplete()) {
                channel.read();
            }
            return;
        }
        if (stream.responseComplete()) {
            // The read the pool keeps pending, asked for now, within the read event: io_uring's multishot
            // recv (the buffer ring) stays armed instead of being cancelled here and armed again at the
            // release. Bytes past the response end this connection's reuse (Router.onProtocolError).
            channel.read();
        }
        f.addListener(this); // operationComplete: this object as the listener, not a lambda per response
    }

    /** The response data flushed at the end of a read burst was written (or failed): finish, or read on. */
    @Override
    public void operationComplete(ChannelFuture w) {
        if (!w.isSuccess()) {
            stream.onDownstreamClosed();
            return;
        }
        if (stream.responseComplete()) {
            // The write's completion is an event of its own: the stream's end and the idle clock take one reading.
            LoopClock clock = stream.connection().clock();
            clock.eventStarted();
            try {
                stream.finish();
            } finally {
                clock.eventEnded();
            }
        } else if (!stream.done() && attached()) {
            channel.read();
        }
    }

    /**
     * Given up (replaced by a retry, timed out, the stream reset): its connection is closed and
     * its events go nowhere — the router's own close never comes back to it as an upstream reset.
     */
    void abandon() {
        state = State.DETACHED;
        if (channel == null && h2 != null) {
            h2.cancel(this);
        }
        if (channel != null) {
            handler.owner = null;
            channel.close();
        }
    }

    /**
     * The stream ended: the connection goes back to the pool when {@code reusable} (the upstream
     * allows keep-alive and the whole response came), the whole request went up and nothing is
     * left unread on it; otherwise it is closed.
     */
    void release(boolean reusable) {
        boolean sent = state == State.SENT;
        state = State.DETACHED;
        handler.owner = null;
        if (h2 != null) {
            // A stream is never reused: closed, which resets it (RST_STREAM CANCEL) unless both sides already ended it.
            if (flushPending) {
                flushPending = false;
                channel.flush();
            }
            channel.close();
            return;
        }
        UpstreamCodec codec = handler.codec; // still in the pipeline: a tunnel, which took it out, is never released
        boolean spokePast = codec.hasUnreadBytes();
        if (spokePast) {
            // Bytes past the response not yet a message of their own (a head still incomplete): Envoy's codec client
            // calls that "extraneous data after response complete", a protocol error
            cluster.upstreamProtocolError.inc();
        }
        boolean clean = !spokePast && !codec.awaitingResponse();
        if (flushPending) {
            flushPending = false;
            channel.flush();
        }
        if (reusable && sent && clean && channel.isActive() && !handler.draining && handler.remainingStreams != 0) {
            // Pooled with a read pending: the socket's read interest stays on (no epoll_ctl to
            // clear it now and set it again for the next request), and an idle connection that
            // speaks or closes is seen at once (Handler closes it) instead of answering the next
            // request with stale bytes.
            channel.read();
            cluster.release(channel, host, binding);
        } else {
            channel.close();
        }
    }

    /** A connection's handler: the last in its pipeline (checked, else found by name). */
    private static Handler handlerOf(Channel ch) {
        return ch.pipeline().last() instanceof Handler h ? h : (Handler) ch.pipeline().get(HANDLER);
    }

    /** The upstream connection's handler; {@code owner} is the attempt using it, null while pooled. */
    static final class Handler extends ChannelInboundHandlerAdapter {
        final UpstreamCodec codec;
        /** Its cluster: an idle connection that talks is counted there. */
        private final ClusterRuntime cluster;
        UpstreamRequest owner;
        /** Past max_connection_duration: closed when its stream ends, not pooled. */
        boolean draining;
        /** Streams this connection may still carry (max_requests_per_connection); 0: spent, -1: no limit. */
        int remainingStreams;

        Handler(UpstreamCodec codec, ClusterRuntime cluster) {
            this.codec = codec;
            this.cluster = cluster;
            int max = cluster.config().maxRequestsPerConnection();
            this.remainingStreams = max > 0 ? max : -1;
        }

        /** The duration timer fired: counted once, drained (an idle, pooled connection is closed now). */
        void maxDurationReached(Channel ch) {
            if (draining || !ch.isActive()) {
                return;
            }
            draining = true;
            cluster.cxMaxDurationReached.inc();
            if (owner == null) {
                ch.close(); // its close takes it out of the idle pool
            }
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (codec == null) { // an HTTP/2 stream
                if (owner == null) {
                    ReferenceCountUtil.release(msg); // a stream given up: what still comes goes nowhere
                    return;
                }
                if (msg instanceof HttpResponse r) {
                    Http2Responses.asHttp1(r, owner.router.request().method());
                }
                owner.onMessage((HttpObject) msg);
                return;
            }
            if (owner == null) {
                // An idle connection must not talk: dropped and closed. Envoy's codec client counts it as a protocol
                // error (a response no request asked for), unless it is the 408 a server sends before it closes an idle
                // connection (CodecClient::onData's premature-response exception).
                if (ctx.channel().isActive() && cluster != null
                        && !(msg instanceof HttpResponse r && r.decoderResult().isSuccess() && r.status().code() == 408)) {
                    cluster.upstreamProtocolError.inc();
                }
                ReferenceCountUtil.release(msg);
                ctx.close();
                return;
            }
            owner.onMessage((HttpObject) msg); // within the codec's read event (UpstreamCodec.channelRead)
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (owner != null) {
                owner.onReadComplete();
            }
        }

        /** An HTTP/2 stream's RST_STREAM, or a GOAWAY past it: noted before the stream's close reports it. */
        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof Http2ResetFrame reset) {
                if (owner != null) {
                    owner.resetCode = reset.errorCode();
                    owner.refused = reset.errorCode() == Http2Error.REFUSED_STREAM.code();
                }
            } else if (evt instanceof Http2GoAwayFrame) {
                // The peer will not process this stream (past the GOAWAY's last stream id): nothing closes it for us, so
                // it is given up here (RST_STREAM CANCEL) and its close reports it refused, as nghttp2 does for Envoy.
                if (owner != null) {
                    owner.refused = true;
                }
                ReferenceCountUtil.release(evt);
                ctx.close();
                return;
            } else {
                ctx.fireUserEventTriggered(evt);
                return;
            }
            ReferenceCountUtil.release(evt);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (owner != null) {
                owner.router.onUpstreamClosed(owner);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
