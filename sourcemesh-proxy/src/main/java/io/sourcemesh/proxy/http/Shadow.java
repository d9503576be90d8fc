package io.sourcemesh.proxy.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2Settings;
import io.netty.handler.codec.http2.Http2StreamChannelBootstrap;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.sourcemesh.proxy.upstream.CircuitBreaker;
import io.sourcemesh.proxy.upstream.ClusterRuntime;
import io.sourcemesh.l4.UpstreamConnector;
import io.sourcemesh.proxy.upstream.UpstreamHost;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Optional;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One shadow of a request for a route's request_mirror_policies (Envoy's shadow writer): a copy of the request, its
 * Host suffixed with "-shadow", goes to a host of the mirror cluster; its body follows as the original's arrives; the
 * answer is read and dropped. Envoy sends a shadow through its async client, a router of its own in the same cluster
 * manager, so a shadow is accounted as any request of the mirror cluster, through the same {@link ClusterRuntime}
 * calls the {@link Router} makes: admitted under the cluster's circuit breakers (max_requests, then max_connections
 * with max_pending_requests; over them it is dropped and counted in upstream_rq_pending_overflow), its connection
 * counted as the cluster's, its response charged to upstream_rq_&lt;code&gt; and reported to outlier detection, its
 * connect failures, resets and timeouts as the router reports them. It never affects the original request.
 */
final class Shadow implements ClusterRuntime.PendingRequest {
    /** Envoy's default per_connection_buffer_limit_bytes: the most of the body held while the shadow has no connection. */
    static final long MAX_QUEUED_BYTES = 1024 * 1024;
    private final ClusterRuntime cluster;
    private final UpstreamHost host;
    private final HttpRequest copy;
    private final EventLoop loop;
    private final UpstreamConnector connector;
    /** The original carried x-envoy-internal: the shadow's codes are charged under internal., as the original's. */
    private final boolean internal;
    private final ArrayDeque<HttpContent> pending = new ArrayDeque<>();
    private Channel channel;
    private ScheduledFuture<?> timer;
    /** Waiting for a connection under max_connections: it holds a pending slot of the circuit breaker. */
    private boolean waiting;
    /** Its connection is counted open in the cluster (connectionOpened) and not yet closed. */
    private boolean connectionOpen;
    /** Its connect succeeded: a close before the answer is then an upstream reset. */
    private boolean connected;
    /** Bytes of the original's body held until the shadow's connection is ready. */
    private long queuedBytes;
    /** A final response head came (charged and reported once). */
    private boolean answered;
    /** Inside an interim (1xx) response, whose end is not the shadow's. */
    private boolean interim;
    /** The request slot and active counts are given back. */
    private boolean done;

    private Shadow(ClusterRuntime cluster, UpstreamHost host, HttpRequest copy, EventLoop loop, UpstreamConnector connector,
            boolean internal) {
        this.cluster = cluster;
        this.host = host;
        this.copy = copy;
        this.loop = loop;
        this.connector = connector;
        this.internal = internal;
    }

    /**
     * request_mirror_policies: a shadow of {@code original} for each mirror whose cluster exists and whose runtime
     * fraction samples this request, unless the mirror cluster has no host or its circuit breakers refuse it.
     */
    static java.util.List<Shadow> startAll(java.util.List<io.sourcemesh.proxy.config.RouteConfig.MirrorPolicy> mirrors,
            io.sourcemesh.proxy.upstream.ClusterManager clusters, HttpRequest original, EventLoop loop, Duration timeout,
            boolean internal) {
        if (mirrors.isEmpty()) {
            return java.util.List.of();
        }
        java.util.List<Shadow> started = new java.util.ArrayList<>(1);
        for (io.sourcemesh.proxy.config.RouteConfig.MirrorPolicy m : mirrors) {
            ClusterRuntime mirror = clusters.get(m.cluster());
            if (mirror != null && m.fraction().sample()) {
                start(mirror, original, loop, clusters.connector(), timeout, internal).ifPresent(started::add);
            }
        }
        return started;
    }

    /**
     * Starts the shadow request: empty when the mirror cluster has no host, or its circuit breakers overflow (the shadow
     * is dropped, as Envoy's pool fails an async request with Overflow: a 503 charged, the original untouched).
     */
    static Optional<Shadow> start(ClusterRuntime cluster, HttpRequest original, EventLoop loop, UpstreamConnector connector,
            Duration timeout, boolean internal) {
        Optional<UpstreamHost> chosen = cluster.choose(null, null);
        if (chosen.isEmpty()) {
            cluster.noHealthyHost.inc();
            cluster.codes.charge(503, internal); // as the router's sendNoHealthyUpstreamResponse
            return Optional.empty();
        }
        CircuitBreaker breaker = cluster.circuitBreaker();
        if (!breaker.tryRequest()) { // max_requests: upstream_rq_pending_overflow counted by the breaker
            cluster.codes.charge(503, internal);
            return Optional.empty();
        }
        HttpRequest copy = new DefaultHttpRequest(HttpVersion.HTTP_1_1, original.method(), original.uri(), original.headers().copy());
        copy.headers().set(HttpHeaderNames.HOST, shadowHost(original.headers().get(HttpHeaderNames.HOST, "")));
        Shadow s = new Shadow(cluster, chosen.get(), copy, loop, connector, internal);
        cluster.rqTotal.inc();
        cluster.rqActive.inc();
        s.host.requestStarted();
        if (cluster.connectionAllowed(s.host)) {
            s.connect();
        } else if (breaker.tryPending()) { // max_connections: it waits for one, as the router's request would
            s.waiting = true;
            cluster.addPending(s);
        } else { // max_pending_requests: upstream_rq_pending_overflow counted by the breaker
            cluster.codes.charge(503, internal);
            s.finish(true);
            return Optional.empty();
        }
        if (!timeout.isZero() && !s.done) {
            s.timer = loop.schedule(s::timedOut, timeout.toNanos(), TimeUnit.NANOSECONDS);
        }
        return Optional.of(s);
    }

    /** A connection of the cluster closed on this loop: the waiting shadow connects now if max_connections allows. */
    @Override
    public boolean resume() {
        if (done) {
            return true;
        }
        if (!cluster.connectionAllowed(host)) {
            return false;
        }
        waiting = false;
        cluster.circuitBreaker().pendingDone();
        connect();
        return true;
    }

    private void connect() {
        // The mirror's upstream protocol; the shadow's downstream is the original request's, HTTP/1 here.
        boolean http2 = cluster.config().upstreamHttp().http2For(false);
        cluster.connectionOpened(host, http2);
        connectionOpen = true;
        var socket = host.transportSocket();
        socket.ready(connector.connect(loop, host.address(), cluster.defaultBinding(), cluster.config().connectTimeout(),
                cluster.tcpKeepalive(), socket.pipeline(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        if (http2) {
                            // The mirror cluster speaks HTTP/2: the shadow is the one stream of its own connection.
                            ch.pipeline().addLast(Http2FrameCodecBuilder.forClient()
                                    .initialSettings(Http2Settings.defaultSettings().pushEnabled(false)).build());
                            ch.pipeline().addLast(new Http2MultiplexHandler(Http2Upstream.REFUSE_PUSHES));
                        } else {
                            ch.pipeline().addLast(new HttpClientCodec());
                            ch.pipeline().addLast(new Reader());
                        }
                        ch.closeFuture().addListener(f -> connectionClosed());
                    }
                }))).addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                cluster.connectFailed(host, f.cause()); // outlier detection's LOCAL_ORIGIN_CONNECT_FAILED included
                if (!done) {
                    cluster.codes.charge(503, internal);
                }
                finish(true);
                if (!f.channel().isRegistered()) {
                    connectionClosed(); // else its close listener counts it
                }
                return;
            }
            if (done) { // timed out while connecting
                f.channel().close();
                return;
            }
            connected = true;
            cluster.outlierConnectSuccess(host); // Envoy's onPoolReady
            if (http2) {
                Channel connection = f.channel();
                connection.config().setAutoRead(true);
                new Http2StreamChannelBootstrap(connection).handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel stream) {
                        stream.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(false, false));
                        stream.pipeline().addLast(new Reader());
                        stream.closeFuture().addListener(x -> connection.close());
                    }
                }).open().addListener(o -> {
                    if (!o.isSuccess()) {
                        connection.close();
                        return;
                    }
                    send((Channel) o.getNow());
                });
                return;
            }
            send(f.channel());
        });
    }

    /** The shadow's connection (or HTTP/2 stream) is ready: the request and what came of its body go up. */
    private void send(Channel ready) {
        if (done) {
            ready.close();
            return;
        }
        channel = ready;
        channel.write(copy);
        while (!pending.isEmpty()) {
            channel.write(pending.poll());
        }
        channel.flush();
        channel.read();
    }

    /** Envoy's shadowAppendedHost: "-shadow" goes before any port. */
    static String shadowHost(String host) {
        int colon = host.lastIndexOf(':');
        boolean hasPort = colon > 0 && host.indexOf(']', colon) < 0 && host.substring(colon + 1).chars().allMatch(Character::isDigit);
        return hasPort ? host.substring(0, colon) + "-shadow" + host.substring(colon) : host + "-shadow";
    }

    /** A piece of the original request's body (not consumed: the original keeps its own reference). */
    void content(HttpContent content) {
        if (done) {
            return;
        }
        if (channel == null) {
            queuedBytes += content.content().readableBytes();
            if (queuedBytes > MAX_QUEUED_BYTES) {
                // Envoy's router resets a stream whose body overflows its buffer while no upstream takes it: a shadow
                // waiting for a connection under max_connections must not hold an upload in memory.
                cluster.codes.charge(503, internal);
                finish(true);
                return;
            }
            pending.add(content.retainedDuplicate());
        } else {
            HttpContent copy = content.retainedDuplicate();
            channel.writeAndFlush(copy);
        }
    }

    /**
     * The original's stream ended before its request did (Envoy's router cancels the shadow stream in onDestroy): the
     * shadow, whose body would never end, is reset — its connection closed, what it holds given back, nothing charged.
     */
    void cancel() {
        if (done) {
            return;
        }
        finish(true);
        if (channel != null) {
            channel.close();
        }
    }

    /** The final response head: charged to the cluster and reported to outlier detection, as the router does. */
    private void answered(int code) {
        answered = true;
        cluster.outlierResult(host, code);
        cluster.codes.charge(code, internal);
    }

    /** The route's timeout ran out (Envoy's async client timeout: the router's onResponseTimeout). */
    private void timedOut() {
        timer = null;
        if (done) {
            return;
        }
        if (!answered) {
            cluster.rqTimeout.inc();
            if (channel != null) {
                cluster.outlierLocalOriginFailure(host, 504); // LOCAL_ORIGIN_TIMEOUT
            }
            cluster.codes.charge(504, internal);
        }
        finish(!answered);
        if (channel != null) {
            channel.close();
        }
    }

    /** Its connection closed: counted once; before the answer it is the router's upstream reset (a 503). */
    private void connectionClosed() {
        if (!connectionOpen) {
            return;
        }
        connectionOpen = false;
        if (!done && connected && !answered) {
            cluster.outlierLocalOriginFailure(host, 503);
            cluster.codes.charge(503, internal);
        }
        finish(!answered);
        cluster.connectionClosed(host); // after finish: a waiting request finds the request slot free
    }

    /** What the shadow holds, given back once: its pending or request slot, the active counts, the host's request. */
    private void finish(boolean failed) {
        if (done) {
            return;
        }
        done = true;
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
        pending.forEach(ReferenceCountUtil::release);
        pending.clear();
        if (waiting) {
            waiting = false;
            cluster.removePending(this);
            cluster.circuitBreaker().pendingDone();
        }
        cluster.circuitBreaker().requestDone();
        cluster.rqActive.dec();
        host.requestFinished(failed);
    }

    /** Reads the shadow's answer and drops it; the connection closes after it. */
    private final class Reader extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof HttpResponse r) {
                int code = r.status().code();
                interim = code >= 100 && code < 200 && code != 101;
                if (!interim && !answered) {
                    answered(code);
                }
            }
            boolean last = msg instanceof LastHttpContent;
            ReferenceCountUtil.release(msg);
            if (last && interim) {
                interim = false; // an interim response's end: the final one follows
            } else if (last) {
                finish(false);
                ctx.close();
            }
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.read();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
