package io.sourcemesh.proxy.jwt.filter;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoop;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import io.sourcemesh.l4.SourceBinding;
import io.sourcemesh.proxy.jwt.Jwks;
import io.sourcemesh.proxy.jwt.RemoteJwks;
import io.sourcemesh.proxy.upstream.ClusterManager;
import io.sourcemesh.proxy.upstream.ClusterRuntime;
import io.sourcemesh.proxy.upstream.UpstreamHost;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * One fetch of a remote JWKS (Envoy's JwksFetcherImpl): a GET of the URI's path, Host its authority, sent through the
 * named cluster of the proxy's config — its load balancer picks the host and its transport socket (TLS) carries the
 * request, so the cluster, not the URI, decides where it goes. A 200 with a key set Envoy's library reads is the
 * answer; anything else fails the fetch (a missing cluster at once; a connect failure, a reset or a 5xx after the
 * retry_policy's retries). The http_uri timeout bounds the whole fetch. HTTP/1.1 only: a cluster configured for HTTP/2
 * fails the fetch, saying so. Runs on {@code loop}, never blocking it.
 */
final class JwksFetch {
    /** Envoy's async client buffers a whole response; a key set is small. */
    private static final int MAX_BODY = 1 << 20;

    private final ClusterManager clusters;
    private final RemoteJwks config;
    private final EventLoop loop;
    private final CompletableFuture<Jwks> result = new CompletableFuture<>();
    private final long deadlineNanos;
    private int retriesLeft;
    private long backoffNanos;

    private JwksFetch(ClusterManager clusters, RemoteJwks config, EventLoop loop) {
        this.clusters = clusters;
        this.config = config;
        this.loop = loop;
        this.deadlineNanos = System.nanoTime() + config.timeout().toNanos();
        this.retriesLeft = config.retry() == null ? 0 : config.retry().numRetries();
        this.backoffNanos = config.retry() == null ? 0 : config.retry().baseInterval().toNanos();
    }

    /** The key set, or an exception saying why there is none. */
    static CompletableFuture<Jwks> start(ClusterManager clusters, RemoteJwks config, EventLoop loop) {
        JwksFetch f = new JwksFetch(clusters, config, loop);
        // On the loop, at once: a task a loop queues for itself from a timer can wait for its next I/O.
        if (loop.inEventLoop()) {
            f.attempt();
        } else {
            loop.execute(f::attempt);
        }
        if (!config.timeout().isZero()) {
            loop.schedule(() -> f.fail("timed out after " + config.timeout().toMillis() + " ms"),
                    config.timeout().toNanos(), TimeUnit.NANOSECONDS);
        }
        return f.result;
    }

    private void attempt() {
        if (result.isDone()) {
            return;
        }
        ClusterRuntime cluster = clusters == null ? null : clusters.get(config.cluster());
        if (cluster == null) {
            fail("cluster " + config.cluster() + " is not configured");
            return;
        }
        if (cluster.config().upstreamHttp().http2For(false)) {
            fail("cluster " + config.cluster() + " speaks HTTP/2; JWKS fetches are HTTP/1.1 only");
            return;
        }
        Optional<UpstreamHost> chosen = cluster.choose(null, null);
        if (chosen.isEmpty()) {
            cluster.noHealthyHost.inc();
            retryOr("no healthy upstream in cluster " + config.cluster());
            return;
        }
        UpstreamHost host = chosen.get();
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, config.pathAndQuery());
        request.headers().set(HttpHeaderNames.HOST, config.authority());
        cluster.rqTotal.inc();
        cluster.rqActive.inc();
        cluster.cxTotal.inc();
        cluster.cxHttp1Total.inc();
        cluster.cxActive.inc();
        host.requestStarted();
        host.connectionOpened();
        boolean[] answered = new boolean[1];
        var socket = host.transportSocket();
        socket.ready(clusters.connector().connect(loop, host.address(), SourceBinding.NONE, cluster.config().connectTimeout(),
                cluster.tcpKeepalive(), socket.pipeline(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(MAX_BODY),
                                new SimpleChannelInboundHandler<FullHttpResponse>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse response) {
                                        answered[0] = true;
                                        int code = response.status().code();
                                        host.requestFinished(code >= 500);
                                        cluster.codes.charge(code, false);
                                        answer(code, response.content().toString(StandardCharsets.UTF_8));
                                        ctx.close();
                                    }

                                    @Override
                                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                        ctx.close();
                                    }
                                });
                        ch.closeFuture().addListener(f -> {
                            cluster.cxActive.dec();
                            cluster.rqActive.dec();
                            host.connectionClosed();
                            if (!answered[0]) {
                                host.requestFinished(true);
                                retryOr("the connection to " + host.address() + " closed before a response (reset)");
                            }
                        });
                    }
                }))).addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                cluster.cxConnectFail.inc();
                host.connectFailed();
                answered[0] = true;
                if (!f.channel().isRegistered()) {
                    cluster.cxActive.dec();
                    cluster.rqActive.dec();
                    host.connectionClosed();
                }
                host.requestFinished(true);
                retryOr("connect to " + host.address() + " failed: " + f.cause());
                return;
            }
            f.channel().writeAndFlush(request);
            f.channel().config().setAutoRead(true);
            f.channel().read();
        });
    }

    private void answer(int code, String body) {
        if (code >= 500) {
            retryOr("answered " + code);
            return;
        }
        if (code != 200) {
            fail("answered " + code);
            return;
        }
        if (body.isEmpty()) {
            fail("answered 200 with an empty body");
            return;
        }
        try {
            result.complete(Jwks.parse(body));
        } catch (IllegalArgumentException e) {
            fail("the key set cannot be used: " + e.getMessage());
        }
    }

    /** A retriable failure: another try after the back-off while retries and time are left, else the fetch fails. */
    private void retryOr(String why) {
        if (result.isDone()) {
            return;
        }
        if (retriesLeft <= 0) {
            fail(why);
            return;
        }
        retriesLeft--;
        // Envoy's JitteredExponentialBackOffStrategy: a random wait up to the current interval, which doubles to the max.
        long wait = ThreadLocalRandom.current().nextLong(backoffNanos + 1);
        backoffNanos = Math.min(backoffNanos * 2, config.retry().maxInterval().toNanos());
        if (System.nanoTime() + wait >= deadlineNanos && !config.timeout().isZero()) {
            fail(why + " (no time left to retry)");
            return;
        }
        ClusterRuntime cluster = clusters.get(config.cluster());
        if (cluster != null) {
            cluster.rqRetry.inc();
        }
        loop.schedule(this::attempt, wait, TimeUnit.NANOSECONDS);
    }

    private void fail(String why) {
        result.completeExceptionally(new IllegalStateException("fetch of " + config.uri() + " through cluster "
                + config.cluster() + ": " + why));
    }
}
