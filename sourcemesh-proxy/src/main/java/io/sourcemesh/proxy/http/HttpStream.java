package io.sourcemesh.proxy.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.sourcemesh.proxy.accesslog.ResponseFlag;
import io.sourcemesh.proxy.accesslog.StreamInfo;
import io.sourcemesh.proxy.config.HeaderMutations;
import io.sourcemesh.proxy.config.RouteConfig;
import io.sourcemesh.proxy.http.filter.HttpFilterChain;
import io.sourcemesh.proxy.http.forwarded.Outcome;
import io.sourcemesh.proxy.network.ByteRelay;
import io.sourcemesh.proxy.upstream.ClusterRuntime;
import io.sourcemesh.proxy.upstream.SourceBinding;
import io.sourcemesh.proxy.upstream.UpstreamHost;
import io.sourcemesh.proxy.upstream.Upstreams;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Locale;
import java.util.Optional;

/**
 * One request/response exchange: client-address headers, route, then either a local reply or
 * the router — an upstream connection from the cluster's per-loop pool (or a new one on this
 * event loop), the request streamed up and the response streamed down, each side read only
 * after the other side's write completed.
 */
final class HttpStream {
    private static final String UPSTREAM_HANDLER = "sourcemesh-upstream";
    private static final AsciiString X_ENVOY_UPSTREAM_SERVICE_TIME = AsciiString.cached("x-envoy-upstream-service-time");

    private final HttpConnection downstream;
    private final HttpConnectionManagerFilter filter;
    private final HttpRequest request;
    private final StreamInfo info;
    private final boolean keepAlive;
    private final HttpVersion downstreamVersion;

    private boolean requestComplete;
    private boolean bodyForwarded;
    private boolean discardBody;
    private boolean done;
    private boolean upgrade;
    private boolean upgraded;

    private ClusterRuntime cluster;
    private UpstreamHost host;
    private SourceBinding binding;
    private Channel upstream;
    private boolean reusedConnection;
    private boolean retried;
    /** Body parts that came while connecting; made on first use (most requests have none). */
    private ArrayDeque<HttpContent> queuedBody;
    private boolean responseStarted;
    private boolean responseComplete;
    private boolean upstreamKeepAlive = true;
    private boolean closeDownstreamAfterResponse;
    private boolean downstreamWriteInFlight;
    private ChannelFuture lastDownstreamWrite;
    private long upstreamStartNanos;
    private boolean timeoutArmed;
    private boolean upstreamFlushPending;
    private Duration routeTimeout = HttpConnectionManagerFilter.DEFAULT_ROUTE_TIMEOUT;
    private RouteConfig.Forward forward;
    private int attempts;
    private HttpFilterChain filters = HttpFilterChain.empty();
    private HeaderMutations routeHeaders = HeaderMutations.NONE;
    private HeaderMutations vhostHeaders = HeaderMutations.NONE;
    private java.util.List<UpstreamHost> attemptedHosts;
    private java.util.List<Shadow> shadows;
    private boolean requestHeld;
    private boolean retryHeld;
    private ClusterRuntime.PendingRequest pending;
    private boolean internal;
    /** Null until resolved (by a filter asking, or the router). */
    private Optional<RouteConfig.VirtualHost> virtualHost;
    private Optional<RouteConfig.Route> route;

    HttpStream(HttpConnection downstream, HttpRequest request) {
        this.downstream = downstream;
        this.filter = downstream.filter();
        this.request = request;
        this.info = downstream.connection().newStream();
        this.keepAlive = HttpUtil.isKeepAlive(request);
        // Only 1.0 and 1.1 are spoken here: anything else is refused, and answered as 1.1 (never "HTTP/2.0 400").
        // (Netty labels a head it could not parse 1.0.)
        // Envoy answers 1.0 only when it accepts 1.0 (accept_http_10); its 426 to a 1.0 request is an HTTP/1.1 line.
        this.downstreamVersion = request.decoderResult().isSuccess() && request.protocolVersion() == HttpVersion.HTTP_1_0
                && filter.config.limits().acceptHttp10() ? HttpVersion.HTTP_1_0 : HttpVersion.HTTP_1_1;
    }

    boolean requestComplete() {
        return requestComplete;
    }

    boolean upgraded() {
        return upgraded;
    }

    void start() {
        filter.rqTotal.inc();
        filter.rqActive.inc();
        info.protocol(downstreamVersion.text());
        info.requestHeaders(request.headers());
        info.requestMethod(request.method().name());
        info.requestPath(request.uri());
        info.requestScheme(downstream.connection().tlsTerminated() ? "https" : "http");
        RequestValidator.Rejection bad = request.decoderResult().isFailure()
                ? RequestValidator.codecFailure(request.decoderResult().cause())
                : RequestValidator.check(request, filter.config.limits().maxHeadersCount(), filter.config.limits().acceptHttp10());
        if (bad != null) {
            info.addResponseFlag(ResponseFlag.DOWNSTREAM_PROTOCOL_ERROR);
            requestComplete = true;
            downstream.closeAfterCurrentStream();
            localReply(bad.status(), bad.body(), null, bad.details());
            return;
        }
        if (request.method() == io.netty.handler.codec.http.HttpMethod.CONNECT || request.headers().contains(HttpHeaderNames.UPGRADE)) {
            // Unless it becomes a tunnel, what follows on this connection is not HTTP: never parse it as a request.
            downstream.closeAfterCurrentStream();
        }
        HopByHopHeaders.removeNominated(request.headers()); // before the proxy sets its own headers
        Outcome client = filter.headerMutator.mutate(request.headers(), downstream.connection().remoteAddress(),
                downstream.connection().tlsTerminated());
        info.downstreamRemoteAddress(client.trustedClientAddress());
        internal = client.internal();

        if (filter.config.normalizePath()) {
            request.setUri(PathNormalizer.normalize(request.uri()));
        }
        // -- HTTP filters (envoy.filters.http.*), in order, before the router --
        if (!filter.httpFilters.isEmpty()) {
            filters = HttpFilterChain.create(filter.httpFilters, new StreamFilterCallbacks(this, downstream.channel(), downstream.connection(), info));
            boolean endStream = !HttpUtil.isTransferEncodingChunked(request) && HttpUtil.getContentLength(request, 0L) == 0;
            if (!filters.decodeHeaders(request, endStream)) {
                return; // a filter answered (sendLocalReply), or paused the chain until continueDecoding
            }
        }
        // -- end of HTTP filters --
        decoded();
    }

    /** A filter that paused the chain lets the request go on (e.g. a fault delay ran out). */
    void continueDecoding() {
        if (!done && !responseStarted && filters.continueDecoding()) {
            decoded();
        }
    }

    /** The route, resolved once: a filter may ask first (Envoy's cached route), the router uses the same. */
    Optional<RouteConfig.Route> route() {
        if (route == null) {
            route = filter.routes.route(request, virtualHost());
            // Envoy's refreshCachedRoute: the route's cluster is the stream's upstream cluster from here on,
            // so a request a filter answers (a fault abort) still logs %UPSTREAM_CLUSTER%.
            if (route.isPresent() && route.get().action() instanceof RouteConfig.Forward f && f.cluster().isPresent()
                    && filter.clusters.get(f.cluster().get()) != null) {
                info.upstreamClusterName(f.cluster().get());
            }
        }
        return route;
    }

    private Optional<RouteConfig.VirtualHost> virtualHost() {
        if (virtualHost == null) {
            virtualHost = filter.routes.virtualHost(request.headers().get(HttpHeaderNames.HOST));
        }
        return virtualHost;
    }

    /** Every filter let the request through: the router's part. */
    private void decoded() {
        Optional<RouteConfig.VirtualHost> virtualHost = virtualHost();
        if (virtualHost.map(RouteConfig.VirtualHost::includeRequestAttemptCount).orElse(false)) {
            request.headers().set("x-envoy-attempt-count", "1");
        }
        if (virtualHost.isPresent() && requiresTls(virtualHost.get().requireTls(), internal)) {
            // Envoy's require_tls: a 301 to the same URL over https, before any route is matched.
            String host = request.headers().get(HttpHeaderNames.HOST, "");
            localReply(301, "", null, "via_route", h -> h.set(HttpHeaderNames.LOCATION, "https://" + host + request.uri()));
            return;
        }
        Optional<RouteConfig.Route> route = route();
        if (route.isEmpty()) {
            filter.noRoute.inc();
            localReply(404, "", ResponseFlag.NO_ROUTE_FOUND, "route_not_found");
            return;
        }
        RouteConfig.Route r = route.get();
        info.routeName(r.name().isEmpty() ? null : r.name());
        routeHeaders = r.headers();
        vhostHeaders = virtualHost.map(RouteConfig.VirtualHost::headers).orElse(HeaderMutations.NONE);
        switch (r.action()) {
            case RouteConfig.DirectResponse d -> localReply(d.status(), d.body().orElse(""), null, "direct_response");
            case RouteConfig.Redirect redirect -> localReply(redirect.responseCode(), "", null, "via_route",
                    h -> h.set(HttpHeaderNames.LOCATION, Redirects.location(redirect, r.match(), request,
                            downstream.connection().tlsTerminated())));
            case RouteConfig.Forward forward -> forward(r, forward);
        }
    }

    private boolean requiresTls(RouteConfig.RequireTls requireTls, boolean internal) {
        if (requireTls == RouteConfig.RequireTls.NONE || downstream.connection().tlsTerminated()
                || "https".equalsIgnoreCase(request.headers().get("x-forwarded-proto"))) {
            return false;
        }
        return requireTls == RouteConfig.RequireTls.ALL || !internal;
    }

    private void forward(RouteConfig.Route route, RouteConfig.Forward forward) {
        this.forward = forward;
        String clusterName = forward.cluster().isPresent() ? forward.cluster().get()
                : Upstreams.pickWeighted(forward.weightedClusters());
        info.upstreamClusterName(clusterName);
        cluster = filter.clusters.get(clusterName);
        if (cluster == null) {
            filter.noCluster.inc();
            localReply(503, "", ResponseFlag.NO_CLUSTER_FOUND, "cluster_not_found");
            return;
        }
        Optional<UpstreamHost> chosen = cluster.choose(hashKey(forward), downstream.connection().localAddress());
        if (chosen.isEmpty()) {
            cluster.noHealthyHost.inc();
            localReply(503, "no healthy upstream", ResponseFlag.NO_HEALTHY_UPSTREAM, "no_healthy_upstream");
            return;
        }
        host = chosen.get();
        info.upstreamHost(host.address());
        routeTimeout = forward.timeout().orElse(HttpConnectionManagerFilter.DEFAULT_ROUTE_TIMEOUT);
        rewrite(route, forward);
        RouteHeaders.request(request.headers(), routeHeaders, vhostHeaders);
        prepareUpstreamRequest();
        if (upgrade && !filter.upgradeTypes.contains(request.headers().get(HttpHeaderNames.UPGRADE, "").toLowerCase(Locale.ROOT))) {
            host = null;
            localReply(403, "", null, "upgrade_failed");
            return;
        }
        startShadows(forward);
        binding = Upstreams.binding(cluster, downstream.connection(), downstream.connection().remoteAddress());
        if (!cluster.circuitBreaker().tryRequest()) {
            host = null;
            overflow();
            return;
        }
        requestHeld = true;
        cluster.rqTotal.inc();
        cluster.rqActive.inc();
        host.requestStarted();
        attempts = 1;
        upstreamStartNanos = System.nanoTime();
        if (takeConnection()) {
            return;
        }
        // Circuit breakers: at max_connections the request waits as pending, or overflows.
        if (!cluster.circuitBreaker().tryPending()) {
            overflow();
            return;
        }
        pending = this::resumePending;
        cluster.addPending(pending);
    }

    /** An idle pooled connection, or a new one when the circuit breakers allow it. */
    private boolean takeConnection() {
        Channel idle = cluster.pollIdle(host, binding);
        if (idle != null) {
            reusedConnection = true;
            attach(idle);
            return true;
        }
        if (cluster.connectionAllowed(host)) {
            connect();
            return true;
        }
        return false;
    }

    private boolean resumePending() {
        if (done || takeConnection()) {
            releasePending(false);
            return true;
        }
        return false;
    }

    private void releasePending(boolean dequeue) {
        if (pending != null) {
            if (dequeue) {
                cluster.removePending(pending);
            }
            pending = null;
            cluster.circuitBreaker().pendingDone();
        }
    }

    /** Envoy's pool overflow: 503 UO (upstream_rq_pending_overflow counted by the breaker). */
    private void overflow() {
        upstreamFailed(ResponseFlag.UPSTREAM_OVERFLOW, "overflow", "upstream_reset_before_response_started{overflow}", null);
    }

    /** request_mirror_policies: each sampled mirror gets a shadow of this request (never for upgrades). */
    private void startShadows(RouteConfig.Forward forward) {
        if (forward.mirrors().isEmpty() || upgrade) {
            return;
        }
        for (RouteConfig.MirrorPolicy m : forward.mirrors()) {
            ClusterRuntime mirror = filter.clusters.get(m.cluster());
            if (mirror == null || !m.fraction().sample()) {
                continue;
            }
            Shadow.start(mirror, request, downstream.channel().eventLoop(), filter.clusters.connector(), routeTimeout)
                    .ifPresent(s -> {
                        if (shadows == null) {
                            shadows = new java.util.ArrayList<>(1);
                        }
                        shadows.add(s);
                    });
        }
    }

    private String hashKey(RouteConfig.Forward forward) {
        for (RouteConfig.HashPolicy p : forward.hashPolicies()) {
            if (p.sourceIp()) {
                return info.downstreamRemoteAddress().getAddress().getHostAddress();
            }
            if (p.header().isPresent()) {
                String v = request.headers().get(p.header().get());
                if (v != null) {
                    return v;
                }
            }
        }
        return null;
    }

    private void rewrite(RouteConfig.Route route, RouteConfig.Forward forward) {
        HttpHeaders h = request.headers();
        if (forward.prefixRewrite().isPresent() && route.match().prefix().isPresent()) {
            String prefix = route.match().prefix().get();
            String uri = request.uri();
            h.set("x-envoy-original-path", uri);
            request.setUri(forward.prefixRewrite().get() + uri.substring(Math.min(prefix.length(), uri.length())));
            info.requestPath(request.uri());
        }
        forward.hostRewriteLiteral().ifPresent(host -> h.set(HttpHeaderNames.HOST, host));
    }

    /** Upstream requests are always HTTP/1.1 keep-alive; hop-by-hop headers stay on this hop. */
    private void prepareUpstreamRequest() {
        HttpHeaders h = request.headers();
        String connection = h.get(HttpHeaderNames.CONNECTION, "");
        upgrade = h.contains(HttpHeaderNames.UPGRADE) && connection.toLowerCase(Locale.ROOT).contains("upgrade");
        h.remove(HttpHeaderNames.CONNECTION);
        h.remove(HttpHeaderNames.KEEP_ALIVE);
        h.remove("proxy-connection");
        String fcc = filter.config.forwardClientCertDetails();
        if (fcc.equals("SANITIZE") || fcc.equals("SANITIZE_SET")) {
            h.remove("x-forwarded-client-cert");
        }
        if (!"trailers".equalsIgnoreCase(h.get(HttpHeaderNames.TE))) {
            h.remove(HttpHeaderNames.TE);
        }
        if (upgrade) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
        } else {
            h.remove(HttpHeaderNames.UPGRADE);
        }
        request.setProtocolVersion(HttpVersion.HTTP_1_1);
    }

    private void connect() {
        Channel down = downstream.channel();
        cluster.cxTotal.inc();
        cluster.cxActive.inc();
        host.connectionOpened();
        UpstreamHost h = host;
        ClusterRuntime c = cluster;
        c.connectionOpened(h);
        ChannelFuture f = filter.clusters.connector().connect(down.eventLoop(), host.address(), binding,
                cluster.config().connectTimeout(), new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast("http-client-codec", new UpstreamCodec(HttpConnectionManagerFilter.MAX_HEADER_BYTES));
                        ch.pipeline().addLast(UPSTREAM_HANDLER, new UpstreamHandler());
                        ch.closeFuture().addListener(x -> {
                            c.cxActive.dec();
                            h.connectionClosed();
                            c.connectionClosed(h);
                        });
                    }
                });
        f.addListener((ChannelFutureListener) result -> {
            if (!result.isSuccess()) {
                if (!result.channel().isRegistered()) {
                    c.cxActive.dec();
                    h.connectionClosed();
                    c.connectionClosed(h);
                }
                c.outlierResult(h, 503); // a local connect failure counts as a 503
                cluster.cxConnectFail.inc();
                if (result.cause() instanceof io.netty.channel.ConnectTimeoutException) {
                    cluster.cxConnectTimeout.inc();
                }
                host.connectFailed();
                if (retry(RouteConfig.RetryPolicy::onConnectFailure)) {
                    return;
                }
                upstreamFailed(ResponseFlag.UPSTREAM_CONNECTION_FAILURE, "connection failure",
                        "upstream_reset_before_response_started{connection_failure}", failureReason(result.cause()));
                return;
            }
            if (done) {
                result.channel().close();
                return;
            }
            attach(result.channel());
        });
    }

    /**
     * Tries again on another (or the same) host when the route's retry policy covers what went
     * wrong and attempts remain. Only body-less requests are retried (the body is streamed, not
     * buffered). When the last attempt fails too, the log says URX beside the failure's own flag.
     */
    private boolean retry(java.util.function.Predicate<RouteConfig.RetryPolicy> covers) {
        Optional<RouteConfig.RetryPolicy> policy = forward == null ? Optional.empty() : forward.retryPolicy();
        if (policy.isEmpty() || !covers.test(policy.get()) || done || responseStarted) {
            return false;
        }
        if (attempts > policy.get().numRetries() || !requestComplete || info.bytesReceived() > 0) {
            if (attempts > 1) {
                info.addResponseFlag(ResponseFlag.UPSTREAM_RETRY_LIMIT_EXCEEDED);
            }
            return false;
        }
        Optional<UpstreamHost> next = nextHost(policy.get());
        if (next.isEmpty()) {
            return false;
        }
        if (!retryHeld) {
            if (!cluster.circuitBreaker().tryRetry()) {
                return false; // max_retries: upstream_rq_retry_overflow
            }
            retryHeld = true;
        }
        attempts++;
        cluster.rqRetry.inc();
        if (upstream != null) {
            UpstreamHandler handler = (UpstreamHandler) upstream.pipeline().get(UPSTREAM_HANDLER);
            if (handler != null) {
                handler.owner = null;
            }
            upstream.close();
            upstream = null;
        }
        if (timeoutArmed) {
            downstream.routeTimer().disarm(this);
            timeoutArmed = false;
        }
        host.requestFinished(true);
        host = next.get();
        host.requestStarted();
        info.upstreamHost(host.address());
        if (request.headers().contains("x-envoy-attempt-count")) {
            request.headers().set("x-envoy-attempt-count", attempts);
        }
        bodyForwarded = false;
        reusedConnection = false;
        binding = Upstreams.binding(cluster, downstream.connection(), downstream.connection().remoteAddress());
        connect();
        return true;
    }

    /**
     * The host for the next attempt. With the previous_hosts predicate a host already tried is
     * re-picked up to host_selection_retry_max_attempts times, then taken anyway (Envoy's rule).
     */
    private Optional<UpstreamHost> nextHost(RouteConfig.RetryPolicy policy) {
        if (attemptedHosts == null) {
            attemptedHosts = new java.util.ArrayList<>();
        }
        attemptedHosts.add(host);
        Optional<UpstreamHost> next = cluster.choose(hashKey(forward), downstream.connection().localAddress());
        for (int i = 0; policy.previousHosts() && i < policy.hostSelectionMaxAttempts() && next.isPresent()
                && attemptedHosts.contains(next.get()); i++) {
            next = cluster.choose(hashKey(forward), downstream.connection().localAddress());
        }
        return next;
    }

    private static String failureReason(Throwable cause) {
        if (cause == null) {
            return null;
        }
        String m = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
        return "delayed connect error: " + m;
    }

    private void attach(Channel ch) {
        upstream = ch;
        ((UpstreamHandler) ch.pipeline().get(UPSTREAM_HANDLER)).owner = this;
        info.upstreamLocalAddress((InetSocketAddress) ch.localAddress());
        ch.write(request, ch.voidPromise()); // failures reach UpstreamHandler.exceptionCaught, which closes
        ChannelFuture last = null;
        while (queuedBody != null && !queuedBody.isEmpty()) {
            last = writeBody(queuedBody.poll());
        }
        if (requestComplete && !bodyForwarded) {
            ch.write(LastHttpContent.EMPTY_LAST_CONTENT, ch.voidPromise()); // a retry of a body-less request
            bodyForwarded = true;
        }
        flushUpstream();
        if (last != null) {
            last.addListener((ChannelFutureListener) f -> afterBodyWrite(f));
        } else if (!requestComplete) {
            downstream.readMore();
        }
        if (requestComplete) {
            startTimeout();
        }
        ch.read();
    }

    private ChannelFuture writeBody(HttpContent content) {
        info.addBytesReceived(content.content().readableBytes());
        if (content instanceof LastHttpContent) {
            bodyForwarded = true;
        }
        return upstream.write(content);
    }

    /** The request body's framing or trailers were malformed: 400 if we can still answer, then close both sides. */
    void onRequestCodecError() {
        requestComplete = true;
        upstreamKeepAlive = false;
        info.addResponseFlag(ResponseFlag.DOWNSTREAM_PROTOCOL_ERROR);
        if (done) {
            return;
        }
        if (!responseStarted) {
            localReply(400, "Bad Request", null, "http1.codec_error"); // finish() closes the upstream connection
        } else {
            if (upstream != null) {
                upstream.close();
            }
            info.responseCodeDetails("http1.codec_error");
            downstream.channel().close();
            finish();
        }
    }

    /** request_timeout or stream_idle_timeout fired: 408 while nothing was answered, else reset (Envoy). */
    void onDownstreamTimeout(String body, ResponseFlag flag, String details) {
        if (done) {
            return;
        }
        upstreamKeepAlive = false;
        downstream.closeAfterCurrentStream();
        if (!responseStarted) {
            requestComplete = true; // nothing more of this request is read
            localReply(408, body, flag, details);
        } else {
            if (flag != null) {
                info.addResponseFlag(flag);
            }
            info.responseCodeDetails(details);
            if (upstream != null) {
                upstream.close();
            }
            downstream.channel().close();
            finish();
        }
    }

    void onRequestContent(HttpContent content) {
        if (content instanceof LastHttpContent) {
            requestComplete = true;
            downstream.requestComplete();
        }
        if (!done && !discardBody) {
            filters.decodeData(content, requestComplete);
        }
        if (shadows != null) {
            shadows.forEach(s -> s.content(content));
        }
        if (done || discardBody) {
            info.addBytesReceived(content.content().readableBytes());
            content.release();
            if (requestComplete) {
                finish();
            } else {
                downstream.readMore();
            }
            return;
        }
        if (upstream == null) {
            // Still connecting (or answering locally): hold it; we stop reading until attach().
            if (queuedBody == null) {
                queuedBody = new ArrayDeque<>();
            }
            queuedBody.add(content);
            return;
        }
        if (content instanceof LastHttpContent && !content.content().isReadable() && bodyForwarded) {
            content.release();
            return;
        }
        if (requestComplete) {
            // The last part: nothing reads on after it, so no future to wait on.
            info.addBytesReceived(content.content().readableBytes());
            bodyForwarded = true;
            upstream.write(content, upstream.voidPromise());
            flushUpstream();
            startTimeout();
            return;
        }
        ChannelFuture f = writeBody(content);
        flushUpstream();
        f.addListener((ChannelFutureListener) this::afterBodyWrite);
    }

    /**
     * Within a read burst from the client (a request head and its body often come in one), the
     * writes upstream are flushed once when the burst ends; otherwise (after a connect, or when
     * pipelined requests are taken up) at once.
     */
    private void flushUpstream() {
        if (downstream.reading()) {
            upstreamFlushPending = true;
        } else {
            upstream.flush();
        }
    }

    void onDownstreamReadComplete() {
        if (upstreamFlushPending) {
            upstreamFlushPending = false;
            if (upstream != null) {
                upstream.flush();
            }
        }
    }

    private void afterBodyWrite(ChannelFuture f) {
        if (!f.isSuccess()) {
            return; // the upstream's closeFuture reports the failure
        }
        if (!requestComplete && !done) {
            downstream.readMore();
        }
    }

    private void startTimeout() {
        if (timeoutArmed || routeTimeout.isZero() || done) {
            return;
        }
        timeoutArmed = true;
        downstream.routeTimer().arm(this, routeTimeout.toNanos());
    }

    /** The route timeout ran out (called by the connection's {@link RouteTimer}). */
    void onTimeout() {
        if (done) {
            return;
        }
        cluster.rqTimeout.inc();
        filter.rqTimeout.inc();
        cluster.outlierResult(host, 504);
        upstreamKeepAlive = false;
        if (upstream != null) {
            upstream.close();
        }
        if (!responseStarted) {
            localReply(504, "upstream request timeout", ResponseFlag.UPSTREAM_REQUEST_TIMEOUT, "upstream_response_timeout");
        } else {
            info.addResponseFlag(ResponseFlag.UPSTREAM_REQUEST_TIMEOUT);
            info.responseCodeDetails("upstream_response_timeout");
            downstream.channel().close();
            finish();
        }
    }

    // ---- the response side -------------------------------------------------------------------

    void onUpstreamMessage(HttpObject msg) {
        downstream.streamActivity();
        if (done) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (responseComplete || msg.decoderResult().isFailure()) {
            // More than the one response we asked for, or a malformed one: it never reaches the client,
            // and the connection is closed rather than pooled (Envoy: upstream protocol error).
            ReferenceCountUtil.release(msg);
            upstreamProtocolError();
            return;
        }
        if (msg instanceof HttpResponse response) {
            int code = response.status().code();
            if (code == 100 || (code > 101 && code < 200)) {
                ReferenceCountUtil.release(msg); // Envoy drops interim responses it did not ask for
                return;
            }
            cluster.outlierResult(host, code);
            String grpcStatus = response.headers().get("grpc-status");
            if (retry(p -> p.onStatus(code) || p.onGrpcStatus(grpcStatus))) {
                ReferenceCountUtil.release(msg); // this answer is dropped: another attempt follows
                return;
            }
            onResponseHeaders(response);
            if (code == 101 && upgrade) {
                switchToTunnel();
                return;
            }
        }
        if (msg instanceof HttpContent content) {
            info.addBytesSent(content.content().readableBytes());
            if (msg instanceof LastHttpContent) {
                responseComplete = true;
            }
            if (!(msg instanceof HttpResponse)) {
                write(content);
            }
        }
    }

    private void onResponseHeaders(HttpResponse response) {
        responseStarted = true;
        info.responseCode(response.status().code());
        info.responseCodeDetails("via_upstream");
        HttpHeaders h = response.headers();
        upstreamKeepAlive = HttpUtil.isKeepAlive(response);
        long serviceMillis = (System.nanoTime() - upstreamStartNanos) / 1_000_000;
        h.set(X_ENVOY_UPSTREAM_SERVICE_TIME, serviceMillis);
        info.upstreamServiceTimeMillis(serviceMillis);
        h.set(HttpHeaderNames.SERVER, filter.serverName);
        boolean tunnel = response.status().code() == 101 && upgrade;
        if (!tunnel) {
            h.remove(HttpHeaderNames.CONNECTION);
            h.remove(HttpHeaderNames.KEEP_ALIVE);
            h.remove("proxy-connection");
        }
        response.setProtocolVersion(downstreamVersion);
        if (downstreamVersion == HttpVersion.HTTP_1_0 && HttpUtil.isTransferEncodingChunked(response)) {
            // An HTTP/1.0 client cannot read chunks: send the body raw and end it by closing.
            HttpUtil.setTransferEncodingChunked(response, false);
            closeDownstreamAfterResponse = true;
        }
        if (!keepAlive || closeDownstreamAfterResponse || downstream.closing()) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (downstreamVersion == HttpVersion.HTTP_1_0) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        // The router (last to decode, first to encode) finalizes the route's response headers, then the filters see them.
        RouteHeaders.response(h, routeHeaders, vhostHeaders);
        filters.encodeHeaders(response);
        info.responseHeaders(h);
        write(response);
    }

    private void write(HttpObject msg) {
        lastDownstreamWrite = downstream.channel().write(msg);
        downstreamWriteInFlight = true;
    }

    /** End of one upstream read burst: flush to the client, read on once the client took it. */
    void onUpstreamReadComplete() {
        if (done || upstream == null) {
            return;
        }
        if (!downstreamWriteInFlight) {
            if (!responseComplete) {
                upstream.read();
            }
            return;
        }
        downstreamWriteInFlight = false;
        ChannelFuture f = lastDownstreamWrite;
        downstream.channel().flush();
        f.addListener((ChannelFutureListener) w -> {
            if (!w.isSuccess()) {
                onDownstreamClosed();
                return;
            }
            if (responseComplete) {
                finish();
            } else if (!done && upstream != null) {
                upstream.read();
            }
        });
    }

    private void upstreamProtocolError() {
        if (upstreamKeepAlive || !responseComplete) {
            cluster.upstreamProtocolError.inc();
        }
        upstreamKeepAlive = false;
        if (responseComplete) {
            return; // the response already went out whole: finish() closes this connection instead of pooling it
        }
        Channel up = upstream;
        if (!responseStarted) {
            upstreamFailed(ResponseFlag.UPSTREAM_PROTOCOL_ERROR, "protocol error",
                    "upstream_reset_before_response_started{protocol_error}", null);
        } else {
            info.addResponseFlag(ResponseFlag.UPSTREAM_PROTOCOL_ERROR);
            info.responseCodeDetails("upstream_reset_after_response_started{protocol_error}");
            downstream.channel().flush();
            downstream.channel().close();
            finish();
        }
        if (up != null) {
            up.close();
        }
    }

    void onUpstreamClosed() {
        if (done || upgraded) {
            return;
        }
        upstreamKeepAlive = false;
        if (responseComplete) {
            return; // finish() runs when the last write completes
        }
        if (!responseStarted) {
            if (reusedConnection && !retried && requestComplete && info.bytesReceived() == 0) {
                // A pooled connection the upstream had already closed: try once on a fresh one.
                retried = true;
                reusedConnection = false;
                bodyForwarded = false;
                upstream = null;
                connect();
                return;
            }
            cluster.outlierResult(host, 500);
            if (retry(RouteConfig.RetryPolicy::onReset)) {
                return;
            }
            upstreamFailed(ResponseFlag.UPSTREAM_CONNECTION_TERMINATION, "connection termination",
                    "upstream_reset_before_response_started{connection_termination}", null);
        } else {
            info.addResponseFlag(ResponseFlag.UPSTREAM_CONNECTION_TERMINATION);
            info.responseCodeDetails("upstream_reset_after_response_started{connection_termination}");
            downstream.channel().flush();
            downstream.channel().close();
            finish();
        }
    }

    private void upstreamFailed(ResponseFlag flag, String reason, String details, String transportFailure) {
        if (done) {
            return;
        }
        if (transportFailure != null) {
            info.upstreamTransportFailureReason(transportFailure);
        }
        String body = "upstream connect error or disconnect/reset before headers. reset reason: " + reason
                + (transportFailure != null ? ", transport failure reason: " + transportFailure : "");
        localReply(503, body, flag, details);
    }

    void onDownstreamClosed() {
        if (done) {
            return;
        }
        if (!responseComplete) {
            info.addResponseFlag(ResponseFlag.DOWNSTREAM_CONNECTION_TERMINATION);
            if (info.responseCodeDetails() == null) {
                info.responseCodeDetails("downstream_remote_disconnect");
            }
        }
        upstreamKeepAlive = false;
        if (upstream != null) {
            upstream.close();
        }
        finish();
    }

    private void localReply(int status, String body, ResponseFlag flag, String details) {
        localReply(status, body, flag, details, h -> { });
    }

    private void localReply(int status, String body, ResponseFlag flag, String details,
            java.util.function.Consumer<HttpHeaders> headers) {
        if (done || responseStarted) {
            return;
        }
        responseStarted = true;
        responseComplete = true;
        ChannelFuture f = downstream.sendLocalReply(info, keepAlive && !downstream.closing(), downstreamVersion, status, body, flag,
                details, headers);
        releaseQueuedBody();
        discardBody = true;
        f.addListener((ChannelFutureListener) w -> {
            if (requestComplete || !w.isSuccess()) {
                finish();
            } else {
                downstream.readMore(); // drain the rest of the request body, then finish
            }
        });
    }

    /** An HTTP filter's local reply (RBAC's 403, a fault abort): the flags the filter set, its details. */
    void filterLocalReply(int status, String body, String details, java.util.function.Consumer<HttpHeaders> headers) {
        localReply(status, body, null, details, headers);
    }

    private void finish() {
        if (done) {
            return;
        }
        done = true;
        if (timeoutArmed) {
            downstream.routeTimer().disarm(this);
        }
        releasePending(true);
        releaseCounts(info.responseCode() >= 500 || info.responseCode() == 0);
        if (upstream != null && !upgraded) {
            UpstreamHandler handler = (UpstreamHandler) upstream.pipeline().get(UPSTREAM_HANDLER);
            if (handler != null) {
                handler.owner = null;
            }
            UpstreamCodec codec = (UpstreamCodec) upstream.pipeline().get("http-client-codec");
            boolean clean = codec != null && !codec.hasUnreadBytes() && !codec.awaitingResponse();
            if (upstreamFlushPending) {
                upstreamFlushPending = false;
                upstream.flush();
            }
            if (upstreamKeepAlive && responseComplete && bodyForwarded && clean && upstream.isActive()) {
                // Pooled with a read pending: the socket's read interest stays on (no epoll_ctl to
                // clear it now and set it again for the next request), and an idle connection that
                // speaks or closes is seen at once (UpstreamHandler closes it) instead of answering
                // the next request with stale bytes.
                upstream.read();
                cluster.release(upstream, host, binding);
            } else {
                upstream.close();
            }
        }
        releaseQueuedBody();
        logStream();
        boolean reuse = keepAlive && !closeDownstreamAfterResponse && requestComplete && !upgraded
                && downstream.channel().isActive() && !info.hasResponseFlag(ResponseFlag.UPSTREAM_CONNECTION_TERMINATION);
        if (timeoutArmed && !reuse) {
            downstream.routeTimer().close();
        }
        downstream.streamDone(this, reuse);
    }

    private void releaseQueuedBody() {
        if (queuedBody != null) {
            queuedBody.forEach(ReferenceCountUtil::release);
            queuedBody.clear();
        }
    }

    /** After a 101 both sides carry raw bytes (WebSocket and other upgrades): relay them as tcp_proxy does. */
    private void switchToTunnel() {
        upgraded = true;
        Channel down = downstream.channel();
        Channel up = upstream;
        down.flush();
        up.pipeline().remove(UPSTREAM_HANDLER);
        up.pipeline().remove("http-client-codec");
        downstream.removeHttpHandlers();
        down.pipeline().remove("http-connection-manager");
        up.pipeline().addLast(ByteRelay.to(down, info::addBytesSent, this::tunnelClosed));
        down.pipeline().addLast(ByteRelay.to(up, info::addBytesReceived, this::tunnelClosed));
        down.read();
        up.read();
    }

    void tunnelClosed() {
        if (!done) {
            done = true;
            releaseCounts(false);
            logStream();
        }
    }

    /** What a stream holds while it lives, given back once: circuit-breaker slots, active counts, the host's request. */
    private void releaseCounts(boolean failed) {
        if (requestHeld) {
            cluster.circuitBreaker().requestDone();
        }
        if (retryHeld) {
            cluster.circuitBreaker().retryDone();
        }
        filter.rqActive.dec();
        if (host != null) {
            host.requestFinished(failed);
            cluster.rqActive.dec();
        }
    }

    private void logStream() {
        filters.onStreamComplete();
        info.end();
        downstream.log(info);
    }

    /** The upstream connection's handler; {@code owner} is the stream using it, null while pooled. */
    static final class UpstreamHandler extends ChannelInboundHandlerAdapter {
        HttpStream owner;

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (owner == null) {
                ReferenceCountUtil.release(msg); // an idle pooled connection must not talk: drop it
                ctx.close();
                return;
            }
            owner.onUpstreamMessage((HttpObject) msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            if (owner != null) {
                owner.onUpstreamReadComplete();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (owner != null) {
                owner.onUpstreamClosed();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }

}
