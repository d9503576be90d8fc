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
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.sourcemesh.proxy.upstream.ClusterRuntime;
import io.sourcemesh.l4.SourceBinding;
import io.sourcemesh.l4.UpstreamConnector;
import io.sourcemesh.proxy.upstream.UpstreamHost;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * One shadow of a request for a route's request_mirror_policies (Envoy's shadow writer): a copy of
 * the request, its Host suffixed with "-shadow", goes on its own connection to a host of the mirror
 * cluster; its body follows as the original's arrives; the answer is read and dropped. It never
 * affects the original request, and fails silently.
 */
final class Shadow {
    private final ClusterRuntime cluster;
    private final UpstreamHost host;
    private final ArrayDeque<HttpContent> pending = new ArrayDeque<>();
    private Channel channel;
    private boolean failed;
    private boolean finished;

    private Shadow(ClusterRuntime cluster, UpstreamHost host) {
        this.cluster = cluster;
        this.host = host;
    }

    /**
     * request_mirror_policies: a shadow of {@code original} for each mirror whose cluster exists and
     * whose runtime fraction samples this request.
     */
    static java.util.List<Shadow> startAll(java.util.List<io.sourcemesh.proxy.config.RouteConfig.MirrorPolicy> mirrors,
            io.sourcemesh.proxy.upstream.ClusterManager clusters, HttpRequest original, EventLoop loop, Duration timeout) {
        if (mirrors.isEmpty()) {
            return java.util.List.of();
        }
        java.util.List<Shadow> started = new java.util.ArrayList<>(1);
        for (io.sourcemesh.proxy.config.RouteConfig.MirrorPolicy m : mirrors) {
            ClusterRuntime mirror = clusters.get(m.cluster());
            if (mirror != null && m.fraction().sample()) {
                start(mirror, original, loop, clusters.connector(), timeout).ifPresent(started::add);
            }
        }
        return started;
    }

    /** Starts the shadow request; empty when the mirror cluster has no host. */
    static Optional<Shadow> start(ClusterRuntime cluster, HttpRequest original, EventLoop loop, UpstreamConnector connector,
            Duration timeout) {
        Optional<UpstreamHost> chosen = cluster.choose(null, null);
        if (chosen.isEmpty()) {
            cluster.noHealthyHost.inc();
            return Optional.empty();
        }
        Shadow s = new Shadow(cluster, chosen.get());
        // The mirror's upstream protocol; the shadow's downstream is the original request's, HTTP/1 here.
        boolean http2 = cluster.config().upstreamHttp().http2For(false);
        HttpRequest copy = new DefaultHttpRequest(HttpVersion.HTTP_1_1, original.method(), original.uri(), original.headers().copy());
        copy.headers().set(HttpHeaderNames.HOST, shadowHost(original.headers().get(HttpHeaderNames.HOST, "")));
        cluster.rqTotal.inc();
        cluster.rqActive.inc();
        cluster.cxTotal.inc();
        (http2 ? cluster.cxHttp2Total : cluster.cxHttp1Total).inc();
        cluster.cxActive.inc();
        s.host.requestStarted();
        s.host.connectionOpened();
        var socket = s.host.transportSocket();
        socket.ready(connector.connect(loop, s.host.address(), SourceBinding.NONE, cluster.config().connectTimeout(),
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
                            ch.pipeline().addLast(s.new Reader());
                        }
                        ch.closeFuture().addListener(f -> s.closed());
                    }
                }))).addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                cluster.cxConnectFail.inc();
                s.host.connectFailed();
                s.failed = true;
                s.pending.forEach(ReferenceCountUtil::release);
                s.pending.clear();
                if (!f.channel().isRegistered()) {
                    s.closed();
                }
                return;
            }
            if (http2) {
                Channel connection = f.channel();
                connection.config().setAutoRead(true);
                new Http2StreamChannelBootstrap(connection).handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel stream) {
                        stream.pipeline().addLast(new Http2StreamFrameToHttpObjectCodec(false, false));
                        stream.pipeline().addLast(s.new Reader());
                        stream.closeFuture().addListener(x -> connection.close());
                    }
                }).open().addListener(o -> {
                    if (!o.isSuccess()) {
                        connection.close();
                        return;
                    }
                    s.send((Channel) o.getNow(), copy, loop, timeout);
                });
                return;
            }
            s.send(f.channel(), copy, loop, timeout);
        });
        return Optional.of(s);
    }

    /** The shadow's connection (or HTTP/2 stream) is ready: the request and what came of its body go up. */
    private void send(Channel ready, HttpRequest copy, EventLoop loop, Duration timeout) {
        channel = ready;
        channel.write(copy);
        while (!pending.isEmpty()) {
            channel.write(pending.poll());
        }
        channel.flush();
        channel.read();
        if (!timeout.isZero()) {
            Channel c = channel;
            loop.schedule(() -> {
                c.close();
            }, timeout.toNanos(), TimeUnit.NANOSECONDS);
        }
    }

    /** Envoy's shadowAppendedHost: "-shadow" goes before any port. */
    static String shadowHost(String host) {
        int colon = host.lastIndexOf(':');
        boolean hasPort = colon > 0 && host.indexOf(']', colon) < 0 && host.substring(colon + 1).chars().allMatch(Character::isDigit);
        return hasPort ? host.substring(0, colon) + "-shadow" + host.substring(colon) : host + "-shadow";
    }

    /** A piece of the original request's body (not consumed: the original keeps its own reference). */
    void content(HttpContent content) {
        if (failed || finished) {
            return;
        }
        HttpContent copy = content.retainedDuplicate();
        if (channel == null) {
            pending.add(copy);
        } else {
            channel.writeAndFlush(copy);
        }
    }

    private void closed() {
        if (finished) {
            return;
        }
        finished = true;
        pending.forEach(ReferenceCountUtil::release);
        pending.clear();
        cluster.cxActive.dec();
        cluster.rqActive.dec();
        host.connectionClosed();
        host.requestFinished(false);
    }

    /** Reads the shadow's answer and drops it; the connection closes after it. */
    private final class Reader extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            boolean last = msg instanceof LastHttpContent;
            ReferenceCountUtil.release(msg);
            if (last) {
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
