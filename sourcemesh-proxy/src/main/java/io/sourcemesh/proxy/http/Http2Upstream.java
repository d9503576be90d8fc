package io.sourcemesh.proxy.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2GoAwayFrame;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2PingFrame;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2SettingsFrame;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.ScheduledFuture;
import io.sourcemesh.l4.SourceBinding;
import io.sourcemesh.proxy.config.ClusterConfig;
import io.sourcemesh.proxy.upstream.ClusterRuntime;
import io.sourcemesh.proxy.upstream.MultiplexedConnection;
import io.sourcemesh.proxy.upstream.UpstreamHost;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * One HTTP/2 connection to an upstream host (Envoy's HTTP/2 pool's ActiveClient), made on the downstream connection's
 * event loop and pooled there by {@link ClusterRuntime#multiplexed}: each request is a stream of its own, an
 * {@link Http2StreamChannel} whose pipeline turns frames into the HttpObjects the {@link Router} already speaks
 * ({@link Http2StreamFrameToHttpObjectCodec}), so to an {@link UpstreamRequest} a stream is another kind of connection.
 * Plaintext connections speak h2c with prior knowledge; a TLS one offers ALPN "h2" (the cluster's translation).
 *
 * <p>Streams share a connection up to its limit: the cluster's http2_protocol_options.max_concurrent_streams, lowered to
 * the peer's SETTINGS_MAX_CONCURRENT_STREAMS once its SETTINGS came (streams wait for that first SETTINGS, so none is
 * refused for a limit not yet known). max_requests_per_connection counts streams; at the last one, at
 * max_connection_duration or on the peer's GOAWAY the connection drains: no new stream, closed when the last one ended.
 * Idle (no stream) for the cluster's idle_timeout, it is closed. connection_keepalive PINGs it ({@link H2Keepalive}).
 */
final class Http2Upstream extends ChannelInboundHandlerAdapter implements MultiplexedConnection {
    static final String CODEC = "h2-frame-codec";
    /** The multiplexer's handler of streams the peer opens: none is taken (a push is refused). */
    static final io.netty.channel.ChannelHandler REFUSE_PUSHES = new RefusePushes();

    private final ClusterRuntime cluster;
    private final UpstreamHost host;
    private final ClusterConfig.Http2Settings settings;
    private final LoopClock clock;
    private Channel channel;
    /** Connected (and handshaken) and the peer's first SETTINGS came: streams may open. */
    private boolean ready;
    private boolean connectFailed;
    /** The connect (and handshake) succeeded: a close from now on ends the waiting requests as a termination. */
    private boolean connected;
    private boolean draining;
    /** Streams open on the connection. */
    private int streams;
    /** Requests given this connection before it was ready, in order. */
    private final ArrayDeque<UpstreamRequest> waiting = new ArrayDeque<>();
    /** Streams at once: the cluster's setting, then at most the peer's. */
    private int limit;
    /** Streams this connection may still be given (max_requests_per_connection); -1: no limit. */
    private int remaining;
    private long idleSince;
    private ScheduledFuture<?> idleTimer;
    private final Runnable idleCheck = this::idleCheck;
    /** connection_keepalive's PINGs, when set. */
    private H2Keepalive keepalive;

    private Http2Upstream(ClusterRuntime cluster, UpstreamHost host, LoopClock clock) {
        this.cluster = cluster;
        this.host = host;
        this.settings = cluster.config().upstreamHttp().http2();
        this.clock = clock;
        this.limit = settings.maxConcurrentStreams();
        int max = cluster.config().maxRequestsPerConnection();
        this.remaining = max > 0 ? max : -1;
    }

    /**
     * An attempt as a stream on a pooled connection of this loop that has room, or on a new one; null when there is
     * none with room and {@code admit} asked the circuit breaker, which refused a new connection (the request waits).
     */
    static UpstreamRequest stream(Router router, HttpStream stream, ClusterRuntime cluster, UpstreamHost host,
            SourceBinding binding, boolean admit) {
        Http2Upstream connection = (Http2Upstream) cluster.multiplexed(host, binding);
        if (connection == null) {
            if (admit && !cluster.connectionAllowed(host)) {
                return null;
            }
            connection = connect(stream.connection(), cluster, host, binding);
        }
        UpstreamRequest attempt = UpstreamRequest.onStream(router, stream, cluster, host, binding, connection);
        connection.take(attempt);
        return attempt;
    }

    private static Http2Upstream connect(HttpConnection downstream, ClusterRuntime c, UpstreamHost h, SourceBinding binding) {
        Http2Upstream connection = new Http2Upstream(c, h, downstream.clock());
        c.connectionOpened(h, true);
        var socket = h.transportSocket();
        ChannelFuture f = socket.ready(downstream.filter().connector.connect(downstream.channel().eventLoop(), h.address(), binding,
                c.config().connectTimeout(), c.tcpKeepalive(), socket.pipeline(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        connection.channel = ch;
                        ch.pipeline().addLast(new ClockedReads(connection.clock));
                        connection.settings.keepalive().ifPresent(k -> {
                            connection.keepalive = new H2Keepalive(k, c.h2KeepaliveTimeout);
                            ch.pipeline().addLast(H2Keepalive.NAME, connection.keepalive);
                        });
                        ch.pipeline().addLast(CODEC, connection.frameCodec());
                        ch.pipeline().addLast(new Http2MultiplexHandler(REFUSE_PUSHES));
                        ch.pipeline().addLast(connection);
                        ch.closeFuture().addListener(x -> {
                            c.connectionClosed(h);
                            connection.closed();
                        });
                    }
                }, binding)));
        connection.channel = f.channel();
        c.addMultiplexed(h, binding, connection);
        f.addListener((ChannelFutureListener) result -> connection.connected(result));
        return connection;
    }

    private Http2FrameCodec frameCodec() {
        Http2Settings initial = Http2Settings.defaultSettings()
                .pushEnabled(false)
                .maxConcurrentStreams(settings.maxConcurrentStreams())
                .initialWindowSize(settings.initialStreamWindowSize())
                .headerTableSize(settings.hpackTableSize())
                .maxHeaderListSize(HttpConnectionManagerFilter.MAX_HEADER_BYTES);
        return Http2FrameCodecBuilder.forClient().initialSettings(initial).validateHeaders(true).build();
    }

    private void connected(ChannelFuture result) {
        if (!result.isSuccess()) {
            connectFailed = true;
            if (!result.channel().isRegistered()) {
                closed(); // never registered: its close future's listener was never added
                cluster.connectionClosed(host);
            }
            cluster.connectFailed(host, result.cause()); // once for the connection, not per waiting request
            UpstreamRequest r;
            while ((r = waiting.pollFirst()) != null) {
                r.connectFailed(result.cause());
            }
            result.channel().close();
            return;
        }
        connected = true;
        long nanos = cluster.maxConnectionDurationNanos();
        if (nanos >= 0) {
            ScheduledFuture<?> timer = channel.eventLoop().schedule(this::maxDurationReached, nanos, TimeUnit.NANOSECONDS);
            channel.closeFuture().addListener(x -> timer.cancel(false));
        }
        channel.config().setAutoRead(true); // frames of every stream come on it: always read (each stream has its own flow control)
    }

    /** A request given to this connection: its stream opens now, or once the connection is ready. */
    private void take(UpstreamRequest attempt) {
        cancelIdle();
        if (remaining > 0 && --remaining == 0) {
            // Envoy's attachStreamToClient: the connection's last stream counts upstream_cx_max_requests and drains it.
            cluster.cxMaxRequests.inc();
            draining = true;
        }
        if (ready && streams < limit) {
            open(attempt);
        } else {
            waiting.addLast(attempt);
        }
    }

    private void open(UpstreamRequest attempt) {
        streams++;
        Future<Http2StreamChannel> f = new Http2StreamChannelBootstrap(channel)
                .option(ChannelOption.AUTO_READ, false)
                .handler(new ChannelInitializer<Http2StreamChannel>() {
                    @Override
                    protected void initChannel(Http2StreamChannel ch) {
                        ch.pipeline().addLast(UpstreamRequest.CODEC, new Http2StreamFrameToHttpObjectCodec(false, false));
                        ch.pipeline().addLast(UpstreamRequest.HANDLER, new UpstreamRequest.Handler(null, cluster));
                        ch.closeFuture().addListener(x -> streamEnded());
                    }
                })
                .open();
        f.addListener(o -> {
            if (o.isSuccess()) {
                attempt.attachStream((Channel) o.getNow());
            } else {
                streams--; // never opened: no close future fires for it
                attempt.streamFailed();
                afterStream();
            }
        });
    }

    /** An attempt given up before its stream opened (a retry, a timeout, the client gone). */
    void cancel(UpstreamRequest attempt) {
        if (waiting.remove(attempt)) {
            afterStream();
        }
    }

    private void streamEnded() {
        streams--;
        afterStream();
    }

    /** A stream ended or left the queue: a waiting one opens in its place, a drained connection closes, an idle one waits. */
    private void afterStream() {
        while (ready && streams < limit && !waiting.isEmpty()) {
            open(waiting.pollFirst());
        }
        if (streams == 0 && waiting.isEmpty()) {
            if (draining) {
                channel.close();
                return;
            }
            idle();
        }
        cluster.streamCapacityFreed();
    }

    /**
     * The peer's limit left requests queued here beyond what it takes at once: each goes to another connection of the
     * loop with room, or a new one (as Envoy's pool moves pending streams once a connection's capacity is known).
     */
    private void spill() {
        int room = Math.max(0, limit - streams);
        if (waiting.size() <= room) {
            return;
        }
        ArrayDeque<UpstreamRequest> over = new ArrayDeque<>();
        while (waiting.size() > room) {
            over.addFirst(waiting.pollLast());
        }
        for (UpstreamRequest r : over) {
            Http2Upstream other = (Http2Upstream) cluster.multiplexed(host, r.binding());
            if (other == null) {
                other = connect(r.downstream(), cluster, host, r.binding());
            }
            r.movedTo(other);
            other.take(r);
        }
    }

    @Override
    public boolean acceptsStream() {
        return !draining && !connectFailed && remaining != 0 && streams + waiting.size() < limit
                && channel.isOpen();
    }

    @Override
    public void drain() {
        draining = true;
        if (streams == 0 && waiting.isEmpty() && ready) {
            channel.close();
        }
    }

    @Override
    public Channel channel() {
        return channel;
    }

    /** The connection's frames the multiplexer did not take for a stream: the peer's SETTINGS, GOAWAY and PING ACKs. */
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (msg instanceof Http2PingFrame ping && ping.ack() && keepalive != null) {
                keepalive.acked();
            } else if (msg instanceof Http2SettingsFrame s) {
                Long peerMax = s.settings().maxConcurrentStreams();
                if (peerMax != null) {
                    limit = (int) Math.min(settings.maxConcurrentStreams(), Math.max(0, peerMax));
                }
                if (!ready) {
                    ready = true;
                    Http2FrameCodec codec = (Http2FrameCodec) ctx.pipeline().get(CODEC);
                    int grow = settings.initialConnectionWindowSize() - 65535;
                    if (grow > 0) {
                        try {
                            codec.connection().local().flowController().incrementWindowSize(codec.connection().connectionStream(), grow);
                        } catch (io.netty.handler.codec.http2.Http2Exception e) {
                            ctx.close();
                            return;
                        }
                    }
                }
                afterStream();
                spill();
                ctx.flush();
            } else if (msg instanceof Http2GoAwayFrame) {
                // Envoy's onGoAway: the connection drains. The codec closes the streams past the last stream id the
                // peer will process (each told first, UpstreamRequest.Handler: a refused stream).
                draining = true;
                UpstreamRequest r;
                while ((r = waiting.pollFirst()) != null) {
                    r.refusedBeforeStream();
                }
                if (streams == 0) {
                    ctx.close();
                }
            }
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }

    private void maxDurationReached() {
        if (draining || !channel.isActive()) {
            return;
        }
        draining = true;
        cluster.cxMaxDurationReached.inc();
        if (streams == 0 && waiting.isEmpty()) {
            channel.close();
        }
    }

    /**
     * The connection closed: requests still waiting for a stream end as a connection termination — once it connected; a
     * connect that failed closes the channel too, possibly before its future says so, and {@link #connected} fails them.
     */
    private void closed() {
        draining = true;
        if (idleTimer != null) {
            idleTimer.cancel(false);
            idleTimer = null;
        }
        UpstreamRequest r;
        while (connected && (r = waiting.pollFirst()) != null) {
            r.streamFailed();
        }
    }

    /**
     * No stream: Envoy's codec client idle timer. Stamped, not armed per request: one timer per connection re-checks
     * the stamp when it fires, so a connection that carries one request after another allocates no timer per request.
     */
    private void idle() {
        long timeout = cluster.idleTimeoutNanos();
        if (timeout < 0 || !channel.isActive()) {
            return;
        }
        idleSince = System.nanoTime();
        if (idleTimer == null) {
            idleTimer = channel.eventLoop().schedule(idleCheck, timeout, TimeUnit.NANOSECONDS);
        }
    }

    private void cancelIdle() {
        idleSince = 0;
    }

    private void idleCheck() {
        idleTimer = null;
        if (streams > 0 || !waiting.isEmpty() || idleSince == 0 || !channel.isActive()) {
            return; // busy again: the next idle moment arms it anew
        }
        long left = idleSince + cluster.idleTimeoutNanos() - System.nanoTime();
        if (left > 0) {
            idleTimer = channel.eventLoop().schedule(idleCheck, left, TimeUnit.NANOSECONDS);
            return;
        }
        cluster.cxIdleTimeout.inc();
        channel.close();
    }

    /** A read from the upstream is one event of the loop's clock, as {@link UpstreamCodec}'s: its streams' parts take one now. */
    private static final class ClockedReads extends ChannelInboundHandlerAdapter {
        private final LoopClock clock;

        ClockedReads(LoopClock clock) {
            this.clock = clock;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            clock.eventStarted();
            try {
                ctx.fireChannelRead(msg);
            } finally {
                clock.eventEnded();
            }
        }
    }

    /** A server push is refused (SETTINGS_ENABLE_PUSH is 0): a stream the peer opens is closed at once. */
    private static final class RefusePushes extends ChannelInboundHandlerAdapter {
        @Override
        public void handlerAdded(ChannelHandlerContext ctx) {
            ctx.close();
        }

        @Override
        public boolean isSharable() {
            return true;
        }
    }
}
