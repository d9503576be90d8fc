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
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * One fetch of a remote JWKS (Envoy's JwksFetcherImpl): a GET of the URI's path, Host its authority, sent through the
 * named cluster of the proxy's config — its load balancer picks the host and its transport socket (TLS) carries the
 * request, so the cluster, not the URI, decides where it goes. A 200 with a key set Envoy's library reads is the
 * answer; anything else fails the fetch (a missing cluster at once; a connect failure, a reset or a 5xx after the
 * retry_policy's retries). The http_uri timeout bounds the whole fetch: a fetch that times out closes its connection.
 * Its connections are counted as the cluster's others (upstream_cx_*, the host's, the circuit breaker's). HTTP/1.1
 * only: a cluster configured for HTTP/2 fails the fetch, saying so. Runs on {@code loop}, never blocking it.
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
    /** The http_uri timeout's timer, cancelled when the fetch ends (null: no timeout). */
    private volatile ScheduledFuture<?> timeout;
    /** The next try, waiting for its back-off; on the loop only. */
    private ScheduledFuture<?> retry;
    /** The current try's connection while it is open, closed when the fetch ends first (a timeout); on the loop only. */
    private Channel channel;

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
        return begin(clusters, config, loop).result;
    }

    /** A fetch begun: its result, and its timer for a test to see it cancelled. */
    static JwksFetch begin(ClusterManager clusters, RemoteJwks config, EventLoop loop) {
        JwksFetch f = new JwksFetch(clusters, config, loop);
        // The timer first, so a fetch that ends inline finds it to cancel.
        if (!config.timeout().isZero()) {
            f.timeout = loop.schedule(() -> f.fail("timed out after " + config.timeout().toMillis() + " ms"),
                    config.timeout().toNanos(), TimeUnit.NANOSECONDS);
        }
        // On the loop, at once: a task a loop queues for itself from a timer can wait for its next I/O.
        if (loop.inEventLoop()) {
            f.attempt();
        } else {
            loop.execute(f::attempt);
        }
        return f;
    }

    CompletableFuture<Jwks> result() {
        return result;
    }

    ScheduledFuture<?> timer() {
        return timeout;
    }

    private void attempt() {
        retry = null;
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
        Attempt a = new Attempt(cluster, host);
        cluster.rqTotal.inc();
        cluster.rqActive.inc();
        host.requestStarted();
        // Counted as every upstream connection is (upstream_cx_total/_active, the host's, the circuit breaker's).
        cluster.connectionOpened(host, false);
        var socket = host.transportSocket();
        socket.ready(clusters.connector().connect(loop, host.address(), SourceBinding.NONE, cluster.config().connectTimeout(),
                cluster.tcpKeepalive(), socket.pipeline(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        channel = ch;
                        ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(MAX_BODY),
                                new SimpleChannelInboundHandler<FullHttpResponse>() {
                                    @Override
                                    protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse response) {
                                        a.answered(response.status().code(), response.content().toString(StandardCharsets.UTF_8));
                                        ctx.close();
                                    }

                                    @Override
                                    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                                        ctx.close();
                                    }
                                });
                        ch.closeFuture().addListener(f -> a.closed(ch));
                    }
                }))).addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                a.connectFailed(f.channel(), f.cause());
                return;
            }
            a.connected = true;
            if (result.isDone() || !f.channel().isActive()) {
                f.channel().close(); // the fetch ended (timed out) while this connected, or the connection is gone
                a.reset();
                return;
            }
            f.channel().writeAndFlush(request);
            f.channel().config().setAutoRead(true);
            f.channel().read();
        });
    }

    /**
     * One try's request and connection, each counted out exactly once: a connect that fails inline (a refused port on
     * loopback) closes the channel before its connect listener runs, so both callbacks see the end of the try.
     */
    private final class Attempt {
        final ClusterRuntime cluster;
        final UpstreamHost host;
        /** The connect succeeded: a close before the response is a reset (before it, the connect listener decides). */
        boolean connected;
        private boolean finished;
        private boolean connectionGone;

        Attempt(ClusterRuntime cluster, UpstreamHost host) {
            this.cluster = cluster;
            this.host = host;
        }

        /** The request's one outcome; false when it had one already. */
        private boolean finish(boolean failed) {
            if (finished) {
                return false;
            }
            finished = true;
            cluster.rqActive.dec();
            host.requestFinished(failed);
            return true;
        }

        private void connectionGone(Channel ch) {
            if (!connectionGone) {
                connectionGone = true;
                cluster.connectionClosed(host);
            }
            if (channel == ch) {
                channel = null;
            }
        }

        void answered(int code, String body) {
            if (finish(code >= 500)) {
                cluster.codes.charge(code, false);
                answer(code, body);
            }
        }

        void connectFailed(Channel ch, Throwable cause) {
            if (!result.isDone()) { // not the fetch's own close of a connect it no longer waits for
                cluster.connectFailed(host, cause);
            }
            connectionGone(ch);
            if (finish(true)) {
                retryOr("connect to " + host.address() + " failed: " + cause);
            }
        }

        void closed(Channel ch) {
            connectionGone(ch);
            if (connected) {
                reset();
            }
        }

        void reset() {
            if (finish(true)) {
                retryOr("the connection to " + host.address() + " closed before a response (reset)");
            }
        }
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
            complete(Jwks.parse(body));
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
        retry = loop.schedule(this::attempt, wait, TimeUnit.NANOSECONDS);
    }

    private void complete(Jwks keys) {
        if (!result.isDone()) {
            stopTimers(); // before the result: whoever sees it sees no timer left
            result.complete(keys);
            closeConnection();
        }
    }

    private void fail(String why) {
        if (!result.isDone()) {
            stopTimers();
            result.completeExceptionally(new IllegalStateException("fetch of " + config.uri() + " through cluster "
                    + config.cluster() + ": " + why));
            closeConnection(); // after the result: its close then retries nothing
        }
    }

    /** The fetch is over: its timeout and a waiting retry are cancelled. */
    private void stopTimers() {
        ScheduledFuture<?> t = timeout;
        if (t != null) {
            t.cancel(false);
        }
        if (retry != null) {
            retry.cancel(false);
            retry = null;
        }
    }

    /** The fetch is over: a connection still open (a timed-out fetch's) is closed. */
    private void closeConnection() {
        if (channel != null) {
            channel.close();
        }
    }
}
