package io.sourcemesh.proxy.http;

import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import io.sourcemesh.proxy.accesslog.ResponseFlag;
import io.sourcemesh.proxy.accesslog.StreamInfo;
import io.sourcemesh.proxy.config.HeaderMutations;
import io.sourcemesh.proxy.config.RouteConfig;
import io.sourcemesh.proxy.upstream.ClusterRuntime;
import io.sourcemesh.l4.SourceBinding;
import io.sourcemesh.proxy.upstream.LoadBalancer;
import io.sourcemesh.proxy.upstream.UpstreamHost;
import io.sourcemesh.proxy.upstream.UpstreamTransportSocket;
import io.sourcemesh.proxy.upstream.Upstreams;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * The terminal HTTP filter (Envoy's {@code envoy.filters.http.router}) for one stream: virtual
 * host and route, the router's own local replies (404 NR, 503 NC/UH/UO/UF/UC, 504 UT, redirects,
 * direct responses), cluster and host choice, circuit-breaker admission and the pending queue,
 * shadows, the route and per-try timeouts and retries. Each try is an {@link UpstreamRequest}; the response it
 * brings is encoded by the {@link HttpStream}. (About 650 lines: every decision here reads and
 * changes the same few fields — host, attempt, timer, slots — and splitting it further would
 * scatter one state machine; retries are already {@link RetryState}, header edits
 * {@link UpstreamHeaders}, the route a filter may ask for first {@link CachedRoute}.)
 */
final class Router {
    static final AsciiString X_ENVOY_UPSTREAM_SERVICE_TIME = AsciiString.cached("x-envoy-upstream-service-time");
    private static final AsciiString GRPC_STATUS = AsciiString.cached("grpc-status");
    private static final AsciiString X_ENVOY_UPSTREAM_RQ_TIMEOUT_MS = AsciiString.cached("x-envoy-upstream-rq-timeout-ms");
    private static final AsciiString X_ENVOY_UPSTREAM_RQ_PER_TRY_TIMEOUT_MS = AsciiString.cached("x-envoy-upstream-rq-per-try-timeout-ms");
    private static final AsciiString X_ENVOY_EXPECTED_RQ_TIMEOUT_MS = AsciiString.cached("x-envoy-expected-rq-timeout-ms");
    /** x-envoy-upstream-service-time values below a second, made once: most answers take less. */
    private static final AsciiString[] MILLIS = new AsciiString[1000];
    /**
     * x-envoy-expected-rq-timeout-ms values of whole seconds up to an hour (route timeouts are; 15 s is the default),
     * made on first use: the text is the same for every request of a route. Racy writes of an immutable value are benign.
     */
    private static final AsciiString[] WHOLE_SECONDS = new AsciiString[3601];

    static {
        for (int i = 0; i < MILLIS.length; i++) {
            MILLIS[i] = AsciiString.cached(Integer.toString(i));
        }
    }

    /** A timeout's milliseconds as header text; shared for whole seconds up to an hour. */
    static AsciiString timeoutText(long millis) {
        if (millis % 1000 != 0 || millis / 1000 >= WHOLE_SECONDS.length) {
            return millisText(millis);
        }
        int seconds = (int) (millis / 1000);
        AsciiString text = WHOLE_SECONDS[seconds];
        if (text == null) {
            text = new AsciiString(Long.toString(millis));
            WHOLE_SECONDS[seconds] = text;
        }
        return text;
    }

    /** {@code millis} as header text; shared below a second. */
    static AsciiString millisText(long millis) {
        return millis >= 0 && millis < MILLIS.length ? MILLIS[(int) millis] : new AsciiString(Long.toString(millis));
    }

    /** What the router holds on its cluster. */
    enum State {
        /** Not routed upstream (yet, or ever: the stream was answered locally); nothing held on a cluster. */
        IDLE,
        /** Admitted (a circuit-breaker request slot, rq_active, the host's request) and waiting in the pending queue. */
        PENDING,
        /** Admitted; an {@link UpstreamRequest} is under way, or was (it may have failed or overflowed). */
        ADMITTED,
        /** The stream ended: everything held was given back. */
        DONE
    }

    private final HttpStream stream;
    private final HttpConnectionManagerFilter filter;
    private final HttpRequest request;
    private final StreamInfo info;
    private State state = State.IDLE;
    private RouteConfig.Forward forward;
    private ClusterRuntime cluster;
    private UpstreamHost host;
    private SourceBinding binding;
    /** The request's upstream TLS names (the cluster's auto_sni, auto_san_validation); null: none. */
    private io.sourcemesh.l4.TlsNames tlsNames;
    private HeaderMutations routeHeaders = HeaderMutations.NONE;
    private HeaderMutations vhostHeaders = HeaderMutations.NONE;
    private Duration routeTimeout = HttpConnectionManagerFilter.DEFAULT_ROUTE_TIMEOUT;
    /** The request asks for an upgrade (Connection: upgrade + Upgrade). */
    private boolean upgrade;
    private UpstreamRequest current;
    private ClusterRuntime.PendingRequest pending;
    /** Body parts that came before an attempt was on a connection; made on first use (most requests have none). */
    private ArrayDeque<HttpContent> queuedBody;
    /** The route's retry policy's state; null when the route has none (no object and no lambdas per request). */
    private RetryState retries;
    /** A pooled connection found closed was retried once on a fresh one (with or without a retry policy). */
    private boolean staleConnectionRetried;
    private List<Shadow> shadows = List.of();
    /** The connection's route clock ({@link ConnectionTimers}) has this router's route timeout armed. */
    private boolean timeoutArmed;
    /**
     * Each attempt's per_try_timeout in nanoseconds, 0 for none: the retry policy's, or an internal request's
     * x-envoy-upstream-rq-per-try-timeout-ms; none when it is not below the route timeout (Envoy's
     * FilterUtility::finalTimeout). A field, not a timer object: the route clock holds the deadline.
     */
    private long perTryNanos;
    /** The route clock has the current attempt's per-try timeout armed. */
    private boolean attemptTimerArmed;
    /** The route timeout's and the current attempt's deadlines (the route clock's time) while armed; it holds the earlier. */
    private long routeDeadline;
    private long attemptDeadline;
    /** A retry waits out its back-off on the route clock until this deadline. */
    private boolean backOffArmed;
    private long backOffDeadline;
    /** The client is internal (x-envoy-internal): the upstream code stats go under internal., else external. */
    private boolean internalRequest;
    /**
     * The upstream sent an interim response Envoy's router takes (100, 102, 103, 104: onUpstream1xxHeaders): for the
     * router the response has started, though the connection manager swallowed it (no proxy_100_continue) — no retry
     * after it, and an upstream reset after it is "after response started", not charged as an upstream code.
     */
    private boolean interimSeen;
    /** The upstream connection may be pooled afterwards, as far as the stream knows (keep-alive, no reset). */
    private boolean upstreamReusable = true;
    private long upstreamStartNanos;
    /** A hash cookie this request lacked, made up for it: its value, and the Set-Cookie the response gets (one per policy). */
    private String generatedCookieValue;
    private String setCookie;
    private List<String> moreSetCookies;
    /** The request's consistent hash (when {@link #hashed}), made once: a retry picks with the same. */
    private boolean hashed;
    private long hash;
    /** Resolved once: by a filter asking for the route, or by {@link #decodeHeaders}. */
    private final CachedRoute cachedRoute;

    Router(HttpStream stream, HttpRequest request, StreamInfo info) {
        this.stream = stream;
        this.filter = stream.connection().filter();
        this.request = request;
        this.info = info;
        this.cachedRoute = new CachedRoute(filter, request, info);
    }

    State state() {
        return state;
    }

    HttpRequest request() {
        return request;
    }

    boolean upgrade() {
        return upgrade;
    }

    /** The connection manager allowed the client's upgrade (decided once, on the client's headers, before any filter). */
    void upgrading() {
        upgrade = true;
    }

    /** The attempt under way (or the last one); null before the first. */
    UpstreamRequest current() {
        return current;
    }

    /** The route (Envoy's cached route): a filter may ask before the router, which then uses the same. */
    Optional<RouteConfig.Route> route() {
        return cachedRoute.route();
    }

    /** As {@link #route()}, null when none matches (no Optional: a filter's per-stream check on the common path). */
    RouteConfig.Route routeOrNull() {
        return cachedRoute.routeOrNull();
    }

    /**
     * The request headers, after the filters let them through (at once, or when a paused chain
     * resumed): route, then answer locally or forward. {@code internal}: the client is internal.
     */
    void decodeHeaders(boolean internal) {
        internalRequest = internal;
        RouteConfig.VirtualHost virtualHost = cachedRoute.virtualHostOrNull();
        if (virtualHost != null && virtualHost.includeRequestAttemptCount()) {
            request.headers().set("x-envoy-attempt-count", "1");
        }
        if (virtualHost != null && UpstreamHeaders.requiresTls(virtualHost.requireTls(), internal, request,
                stream.connection().connection().tlsTerminated())) {
            // Envoy's require_tls: a 301 to the same URL over https, before any route is matched.
            String hostHeader = request.headers().get(HttpHeaderNames.HOST, "");
            stream.localReply(301, "", null, "via_route", h -> h.set(HttpHeaderNames.LOCATION, "https://" + hostHeader + request.uri()));
            return;
        }
        RouteConfig.Route r = cachedRoute.routeOrNull();
        if (r == null) {
            filter.noRoute.inc();
            stream.localReply(404, "", ResponseFlag.NO_ROUTE_FOUND, "route_not_found");
            return;
        }
        info.routeName(r.name().isEmpty() ? null : r.name());
        routeHeaders = r.headers();
        vhostHeaders = virtualHost != null ? virtualHost.headers() : HeaderMutations.NONE;
        // Not a pattern switch: its dispatch class would be built at the first request of every start (an AOT
        // cache does not hold it), a few ms on the first request's path.
        RouteConfig.RouteAction action = r.action();
        if (action instanceof RouteConfig.Forward f) {
            forward(r, f);
        } else if (action instanceof RouteConfig.DirectResponse d) {
            stream.localReply(d.status(), d.body().orElse(""), null, "direct_response");
        } else {
            RouteConfig.Redirect redirect = (RouteConfig.Redirect) action;
            stream.localReply(redirect.responseCode(), "", null, "via_route",
                    h -> h.set(HttpHeaderNames.LOCATION, Redirects.location(redirect, r.match(), request,
                            stream.connection().connection().tlsTerminated())));
        }
    }

    private void forward(RouteConfig.Route route, RouteConfig.Forward forward) {
        this.forward = forward;
        String clusterName = forward.cluster().isPresent() ? forward.cluster().get()
                : Upstreams.pickWeighted(forward.weightedClusters());
        info.upstreamClusterName(clusterName);
        cluster = cachedRoute.cluster(clusterName);
        if (cluster == null) {
            filter.noCluster.inc();
            stream.localReply(503, "", ResponseFlag.NO_CLUSTER_FOUND, "cluster_not_found");
            return;
        }
        hashRequest();
        Optional<UpstreamHost> chosen = cluster.choose(hashed, hash, stream.connection().connection().localAddress());
        if (chosen.isEmpty()) {
            cluster.noHealthyHost.inc();
            cluster.codes.charge(503, internalRequest); // Envoy's sendNoHealthyUpstreamResponse charges the 503
            stream.localReply(503, "no healthy upstream", ResponseFlag.NO_HEALTHY_UPSTREAM, "no_healthy_upstream");
            return;
        }
        host = chosen.get();
        info.upstreamHost(host.address());
        routeTimeout = forward.timeout().orElse(Duration.ZERO); // empty is the route's 0s: none (unset got 15 s in translation)
        long perTry = forward.retryPolicy().isPresent() ? forward.retryPolicy().get().perTryTimeout().toNanos() : 0;
        if (internalRequest) {
            // Only an internal request still carries Envoy's timeout headers (RequestHeaderMutator removes them from any
            // other): the router takes them over the route's and removes them (FilterUtility::finalTimeout).
            long ms = millisHeader(X_ENVOY_UPSTREAM_RQ_TIMEOUT_MS);
            if (ms >= 0) {
                routeTimeout = Duration.ofMillis(ms);
            }
            ms = millisHeader(X_ENVOY_UPSTREAM_RQ_PER_TRY_TIMEOUT_MS);
            if (ms >= 0) {
                perTry = ms * 1_000_000;
            }
        }
        perTryNanos = perTryNanos(perTry, routeTimeout);
        expectedTimeout(0);
        UpstreamHeaders.rewrite(request, route, forward, info);
        // Envoy's router reads them before the route's header mutations, its host rewrite included (getRequestHostValue).
        tlsNames = AutoSniNames.of(cluster.config().upstreamHttp().autoSni(), request.headers());
        RouteHeaders.request(request.headers(), routeHeaders, vhostHeaders);
        UpstreamHeaders.prepare(request, upgrade);
        info.attemptCount(1); // Envoy counts the try once the router will send it: before the pool's limits, after the upgrade check
        if (!upgrade) {
            shadows = Shadow.startAll(forward.mirrors(), filter.clusters, request, stream.connection().channel().eventLoop(),
                    routeTimeout, internalRequest);
        }
        binding = Upstreams.binding(cluster, host, stream.connection().connection(), stream.connection().connection().remoteAddress(),
                tlsNames);
        if (!cluster.circuitBreaker().tryRequest()) {
            host = null;
            overflow();
            return;
        }
        state = State.ADMITTED;
        cluster.rqTotal.inc();
        cluster.rqActive.inc();
        host.requestStarted();
        retries = forward.retryPolicy().isPresent() ? new RetryState(forward.retryPolicy().get(), cluster) : null;
        upstreamStartNanos = stream.connection().now();
        if (takeConnection()) {
            return;
        }
        // Circuit breakers: at max_connections the request waits as pending, or overflows.
        if (!cluster.circuitBreaker().tryPending()) {
            overflow();
            return;
        }
        state = State.PENDING;
        pending = this::resumePending;
        cluster.addPending(pending);
    }

    /** An attempt on an idle pooled connection, or on a new one when the circuit breakers allow it. */
    private boolean takeConnection() {
        if (http2Upstream()) {
            UpstreamRequest onStream = Http2Upstream.stream(this, stream, cluster, host, binding, true);
            if (onStream == null) {
                return false;
            }
            current = onStream;
            return true;
        }
        UpstreamRequest pooled = UpstreamRequest.pooled(this, stream, cluster, host, binding);
        if (pooled != null) {
            current = pooled;
            return true;
        }
        if (cluster.connectionAllowed(host)) {
            current = UpstreamRequest.connect(this, stream, cluster, host, binding);
            return true;
        }
        return false;
    }

    /**
     * This request goes upstream as an HTTP/2 stream: the cluster says HTTP/2, or the downstream's protocol and the
     * request came over HTTP/2 (use_downstream_protocol_config). An upgrade goes over HTTP/1.1 (HTTP/2 would need
     * extended CONNECT, allow_connect, which is not implemented).
     */
    private boolean http2Upstream() {
        return !upgrade && cluster.config().upstreamHttp().http2For(stream.connection().h2Stream());
    }

    /** A retry's attempt, or one again on a fresh connection: on a new connection (HTTP/1.1), or a stream (HTTP/2). */
    private UpstreamRequest nextAttempt() {
        return http2Upstream() ? Http2Upstream.stream(this, stream, cluster, host, binding, false)
                : UpstreamRequest.connect(this, stream, cluster, host, binding);
    }

    private boolean resumePending() {
        if (stream.done() || takeConnection()) {
            releasePending(false);
            return true;
        }
        return false;
    }

    private void releasePending(boolean dequeue) {
        if (state == State.PENDING) {
            if (dequeue) {
                cluster.removePending(pending);
            }
            pending = null;
            state = State.ADMITTED;
            cluster.circuitBreaker().pendingDone();
        }
    }

    /** Envoy's pool overflow: 503 UO (upstream_rq_pending_overflow counted by the breaker). */
    private void overflow() {
        upstreamFailed(503, ResponseFlag.UPSTREAM_OVERFLOW, "overflow", "overflow", null);
    }

    /**
     * The request's hash from the route's hash policies, as Envoy's HashPolicyImpl::generateHash
     * (source/common/http/hash_policy.cc): each policy that yields a hash is folded in (the hash so far rotated left
     * by one, then xor'ed: duplicate policies do not cancel out), up to the first terminal policy once there is a
     * hash; none yields one: no hash (a random host). A cookie policy with a ttl whose cookie is missing makes one up,
     * as Envoy's CookieHashMethod: that value is hashed and the response carries its Set-Cookie
     * ({@link #onResponseHeaders}).
     */
    private void hashRequest() {
        List<RouteConfig.HashPolicy> policies = forward.hashPolicies();
        for (int i = 0, n = policies.size(); i < n; i++) { // indexed: no iterator per request
            RouteConfig.HashPolicy p = policies.get(i);
            boolean found;
            long next = 0;
            if (!p.sourceIp() && p.header().isEmpty() && p.cookie().isEmpty() && p.queryParameter().isEmpty()) {
                continue; // connection_properties without source_ip: Envoy makes no method of it, its terminal flag unread
            }
            if (p.header().isPresent()) {
                List<String> values = request.headers().getAll(p.header().get());
                found = !values.isEmpty();
                if (found) {
                    next = HashKeys.headerHash(values);
                }
            } else {
                String key = HashKeys.key(p, request, info);
                if (key == null && p.cookie().isPresent() && p.cookie().get().ttlSeconds().isPresent()) {
                    key = generatedCookie(p.cookie().get());
                }
                found = key != null;
                if (found) {
                    next = LoadBalancer.hash(key);
                }
            }
            if (found) {
                hash = hashed ? Long.rotateLeft(hash, 1) ^ next : next;
                hashed = true;
            }
            if (p.terminal() && hashed) {
                return;
            }
        }
    }

    private String generatedCookie(RouteConfig.HashCookie cookie) {
        if (generatedCookieValue == null) {
            generatedCookieValue = HashKeys.generatedValue(stream.connection().connection().remoteAddress(),
                    stream.connection().connection().localAddress());
            setCookie = HashKeys.setCookie(cookie, generatedCookieValue);
        } else {
            // another cookie policy lacking its cookie: Envoy's router adds a Set-Cookie for each (the same value)
            if (moreSetCookies == null) {
                moreSetCookies = new java.util.ArrayList<>(1);
            }
            moreSetCookies.add(HashKeys.setCookie(cookie, generatedCookieValue));
        }
        return generatedCookieValue;
    }

    // ---- the request body ------------------------------------------------------------------------

    /** Every piece of the request body, also one that is discarded: the shadows get their copy. */
    void mirrorData(HttpContent content) {
        for (int i = 0, n = shadows.size(); i < n; i++) { // indexed: no iterator per body part
            shadows.get(i).content(content);
        }
        if (content instanceof LastHttpContent && !shadows.isEmpty()) {
            shadows = List.of(); // whole: they go on alone, whatever becomes of this stream (Envoy's decodeData end_stream)
        }
    }

    /** A piece of the request body for upstream; held while no attempt is on a connection. */
    void decodeData(HttpContent content) {
        if (current == null || !current.attached()) {
            // Still connecting, pending, or not routed yet: hold it; we stop reading until the attempt attaches.
            if (queuedBody == null) {
                queuedBody = new ArrayDeque<>();
            }
            queuedBody.add(content);
            return;
        }
        current.sendData(content);
    }

    /**
     * The request has no body: its head says none follows (no transfer-encoding, no content-length or 0: Envoy's codecs
     * decode such a head with end_stream, a GET on a pooled HTTP/2 connection included, whose stream opens before the
     * request's end is read) or the whole request came, and what is held of its body has no byte and no trailer. An
     * HTTP/2 stream then ends with its HEADERS.
     */
    boolean bodyless() {
        if (!stream.requestComplete() && !declaresNoBody(request.headers())) {
            return false;
        }
        if (queuedBody != null) {
            for (HttpContent c : queuedBody) {
                if (c.content().isReadable() || (c instanceof LastHttpContent l && !l.trailingHeaders().isEmpty())) {
                    return false;
                }
            }
        }
        return true;
    }

    private static boolean declaresNoBody(HttpHeaders h) {
        String length = h.get(HttpHeaderNames.CONTENT_LENGTH);
        return !h.contains(HttpHeaderNames.TRANSFER_ENCODING) && (length == null || length.equals("0"));
    }

    HttpContent pollQueuedBody() {
        return queuedBody == null ? null : queuedBody.poll();
    }

    void releaseQueuedBody() {
        if (queuedBody != null) {
            queuedBody.forEach(ReferenceCountUtil::release);
            queuedBody.clear();
        }
    }

    void onDownstreamReadComplete() {
        if (current != null) {
            current.flushIfPending();
        }
    }

    // ---- attempts, retries and the route timeout --------------------------------------------------

    void onConnectFailed(UpstreamRequest attempt, Throwable cause) {
        if (retry(RouteConfig.RetryPolicy::onConnectFailure)) {
            return;
        }
        if (cause instanceof UpstreamTransportSocket.HandshakeFailure tls) {
            // Envoy's details carry the transport failure reason, blanks made '_' (Filter::onUpstreamReset).
            String reason = tls.reason();
            upstreamFailed(503, ResponseFlag.UPSTREAM_CONNECTION_FAILURE, "connection failure",
                    reason == null ? "connection_failure" : "connection_failure," + reason.replace(' ', '_'), reason);
            return;
        }
        upstreamFailed(503, ResponseFlag.UPSTREAM_CONNECTION_FAILURE, "connection failure", "connection_failure",
                failureReason(cause));
    }

    /** Another attempt when the route's retry policy covers what went wrong ({@link RetryState}). */
    private boolean retry(Predicate<RouteConfig.RetryPolicy> covers) {
        if (retries == null || stream.done() || stream.responseStarted() || interimSeen || !retries.covers(covers)) {
            return false; // before the host supplier below is made
        }
        Optional<UpstreamHost> next = retries.next(stream.requestComplete() && info.bytesReceived() == 0, host,
                () -> cluster.choose(hashed, hash, stream.connection().connection().localAddress(), retries.retryPriority()), info);
        if (next.isEmpty()) {
            return false;
        }
        current.abandon();
        // The route timeout bounds every attempt together (Envoy's global timeout, armed once); the per-try one is the
        // attempt's and starts again when the next one has sent the request.
        disarmAttemptTimer();
        host.requestFinished(true);
        host = next.get();
        host.requestStarted();
        info.upstreamHost(host.address()).attemptCount(retries.attempts());
        if (request.headers().contains("x-envoy-attempt-count")) {
            request.headers().set("x-envoy-attempt-count", retries.attempts());
        }
        binding = Upstreams.binding(cluster, host, stream.connection().connection(), stream.connection().connection().remoteAddress(),
                tlsNames);
        // Envoy's router waits out the retry state's back-off before the next attempt (RetryStateImpl::enableBackoffTimer):
        // the route clock's slot holds it, so a retry allocates no timer; the route timeout still runs meanwhile.
        backOffArmed = true;
        cluster.rqRetryBackoffExponential.inc();
        backOffDeadline = stream.connection().routeTimer().clock().now() + retries.backOffMillis() * 1_000_000;
        armClock();
        return true;
    }

    /** The back-off before a retry is over: the next attempt goes up, on a new connection (Envoy's doRetry). */
    private void onBackOffDone() {
        backOffArmed = false;
        if (stream.done()) {
            return;
        }
        // Envoy's doRetry sets the timeout headers again, less the time since the request ended (the route timeout's
        // start here; before it, none has passed).
        expectedTimeout(timeoutArmed
                ? (stream.connection().routeTimer().clock().now() - (routeDeadline - routeTimeout.toNanos())) / 1_000_000 : 0);
        current = nextAttempt();
    }

    private static String failureReason(Throwable cause) {
        if (cause == null) {
            return null;
        }
        String m = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
        return "delayed connect error: " + m;
    }

    /**
     * The whole request went up on the current attempt: the route timeout starts (once for all attempts), and the
     * attempt's per-try timeout (Envoy's UpstreamRequest::setupPerTryTimeout, called once the pool is ready and the
     * downstream request has ended).
     */
    void startTimeout() {
        if (stream.done()) {
            return;
        }
        boolean arm = false;
        if (!timeoutArmed && !routeTimeout.isZero()) {
            timeoutArmed = true;
            routeDeadline = stream.connection().routeTimer().clock().now() + routeTimeout.toNanos();
            arm = true;
        }
        if (perTryNanos > 0 && !attemptTimerArmed) {
            attemptTimerArmed = true;
            attemptDeadline = stream.connection().routeTimer().clock().now() + perTryNanos;
            arm = true;
        }
        if (arm) {
            armClock();
        }
    }

    /** The route clock set to the earliest of the armed deadlines. */
    private void armClock() {
        long at = !attemptTimerArmed ? routeDeadline
                : !timeoutArmed || attemptDeadline - routeDeadline < 0 ? attemptDeadline : routeDeadline;
        if (backOffArmed && (!timeoutArmed && !attemptTimerArmed || backOffDeadline - at < 0)) {
            at = backOffDeadline;
        }
        stream.connection().routeTimer().armAt(this, at);
    }

    /**
     * The route clock's deadline came (called by the connection's {@link ConnectionTimers}, which cleared it): the
     * route timeout when it is due, else the attempt's per-try timeout; whichever is left is armed again.
     */
    void onClock(long now) {
        if (timeoutArmed && now - routeDeadline >= 0) {
            onTimeout();
            return;
        }
        if (attemptTimerArmed && now - attemptDeadline >= 0) {
            onPerTryTimeout();
        }
        if (backOffArmed && now - backOffDeadline >= 0) {
            onBackOffDone();
        }
        if (timeoutArmed() && !stream.done()) {
            armClock();
        }
    }

    /**
     * Tells the upstream how long it has, as Envoy's FilterUtility::setTimeoutHeaders (source/common/router/router.cc),
     * which every router without suppress_envoy_headers runs on each attempt: x-envoy-expected-rq-timeout-ms is the
     * per-try timeout, else the route timeout, at most what is left of the route timeout {@code elapsedMillis} after
     * the request ended (1 when nothing is); with neither timeout no header is set (a client's stays: only an internal
     * request still has one).
     */
    private void expectedTimeout(long elapsedMillis) {
        long global = routeTimeout.toMillis();
        long expected = perTryNanos > 0 ? perTryNanos / 1_000_000 : global;
        if (expected <= 0) {
            return;
        }
        if (global > 0) {
            expected = elapsedMillis >= global ? 1 : Math.min(expected, global - elapsedMillis);
        }
        request.headers().set(X_ENVOY_EXPECTED_RQ_TIMEOUT_MS, timeoutText(expected));
    }

    /** The per-try timeout when it is below the route timeout (or there is none), else none. */
    private static long perTryNanos(long nanos, Duration route) {
        return !route.isZero() && nanos >= route.toNanos() ? 0 : nanos;
    }

    /**
     * The request header's milliseconds, removed; -1 when it is absent or not a number (Envoy's SimpleAtoi fails: the
     * route's value stays, the header goes all the same).
     */
    private long millisHeader(AsciiString name) {
        HttpHeaders headers = request.headers();
        String raw = headers.get(name);
        if (raw == null) {
            return -1;
        }
        String value = raw.trim();
        headers.remove(name);
        if (value.isEmpty() || value.length() > 18) {
            return -1;
        }
        for (int i = 0; i < value.length(); i++) {
            if (value.charAt(i) < '0' || value.charAt(i) > '9') {
                return -1;
            }
        }
        return Long.parseLong(value);
    }

    /** The attempt's per-try timeout off; the route clock back to the route timeout, or off. */
    private void disarmAttemptTimer() {
        if (attemptTimerArmed) {
            attemptTimerArmed = false;
            if (timeoutArmed || backOffArmed) {
                armClock();
            } else {
                stream.connection().routeTimer().disarm(this);
            }
        }
    }

    /** The route clock has this router armed (its route timeout, its attempt's per-try timeout or a retry's back-off). */
    boolean timeoutArmed() {
        return timeoutArmed || attemptTimerArmed || backOffArmed;
    }

    /**
     * The current attempt's per_try_timeout ran out ({@link #onClock}), as Envoy's
     * onPerTryTimeout (source/common/router/router.cc, upstream_request.cc): ignored once the response has started
     * downstream (an interim one counts: the route timeout bounds the rest); else counted
     * (upstream_rq_per_try_timeout), reported to outlier detection as a timeout (a 504 there), the attempt reset, and
     * retried as a local reset (retry_on reset, 5xx or gateway-error: RetryStateImpl::wouldRetryFromReset) while
     * attempts remain; otherwise a 504 UT "upstream request timeout", details upstream_per_try_timeout.
     */
    void onPerTryTimeout() {
        attemptTimerArmed = false;
        if (stream.done() || stream.responseStarted() || interimSeen) {
            return;
        }
        cluster.rqPerTryTimeout.inc();
        cluster.outlierLocalOriginFailure(host, 504); // LOCAL_ORIGIN_TIMEOUT
        if (retry(RouteConfig.RetryPolicy::onReset)) {
            return;
        }
        upstreamReusable = false;
        closeUpstream();
        cluster.codes.charge(504, internalRequest); // chargeUpstreamAbort
        stream.localReply(504, "upstream request timeout", ResponseFlag.UPSTREAM_REQUEST_TIMEOUT, "upstream_per_try_timeout");
    }

    /** The route timeout ran out ({@link #onClock}). */
    void onTimeout() {
        if (stream.done()) {
            return;
        }
        cluster.rqTimeout.inc();
        filter.rqTimeout.inc();
        if (!backOffArmed) { // during a retry's back-off no attempt is out: Envoy tells outlier detection of none
            cluster.outlierLocalOriginFailure(host, 504); // LOCAL_ORIGIN_TIMEOUT
        }
        upstreamReusable = false;
        closeUpstream();
        if (!stream.responseStarted() && !interimSeen) {
            cluster.codes.charge(504, internalRequest); // Envoy's onResponseTimeout: chargeUpstreamAbort
        }
        if (!stream.responseStarted()) {
            stream.localReply(504, "upstream request timeout", ResponseFlag.UPSTREAM_REQUEST_TIMEOUT, "upstream_response_timeout");
        } else {
            stream.reset(ResponseFlag.UPSTREAM_REQUEST_TIMEOUT, "upstream_response_timeout", false);
        }
    }

    // ---- the response ----------------------------------------------------------------------------

    /** The upstream's response head; false when it is dropped because another attempt follows. */
    boolean onResponseHeaders(HttpResponse response) {
        int code = response.status().code();
        cluster.outlierResult(host, code);
        // grpc-status is looked up only for a policy the status code did not already decide (most routes have none:
        // then not even the predicate is made)
        if (retries != null && retry(p -> p.onStatus(code) || p.onGrpcStatus(response.headers().get(GRPC_STATUS)))) {
            cluster.codes.chargeRetried(code);
            return false;
        }
        cluster.codes.charge(code, internalRequest);
        upstreamReusable = HttpUtil.isKeepAlive(response);
        long serviceMillis = (stream.connection().now() - upstreamStartNanos) / 1_000_000;
        response.headers().set(X_ENVOY_UPSTREAM_SERVICE_TIME, millisText(serviceMillis));
        if (setCookie != null) {
            // Envoy's onUpstreamHeaders appends the routing cookies to the upstream's response, whatever its status.
            response.headers().add(HttpHeaderNames.SET_COOKIE, setCookie);
            if (moreSetCookies != null) {
                response.headers().add(HttpHeaderNames.SET_COOKIE, moreSetCookies);
            }
        }
        info.upstreamServiceTimeMillis(serviceMillis);
        stream.encodeHeaders(response, code == 101 && upgrade);
        return true;
    }

    /** The router (last to decode, first to encode) finalizes the route's response headers before the filters see them. */
    void encodeRouteHeaders(HttpHeaders headers) {
        RouteHeaders.response(headers, routeHeaders, vhostHeaders);
    }

    /** An upstream's interim response Envoy's router takes (100, 102, 103, 104): charged, and no retry after it. */
    void onInterimHeaders(int code) {
        cluster.codes.charge(code, internalRequest);
        interimSeen = true;
    }

    /**
     * The upstream's response was malformed, or more than was asked for: Envoy's codec client counts
     * upstream_cx_protocol_error and closes the connection, and the stream is reset with ProtocolError — a 502 (Envoy's
     * onUpstreamReset since 1.18) with UPE before the response started, a reset after; retried as a reset when the
     * route's policy says so; reported to outlier detection as a local-origin failure (a 503 there).
     */
    void onProtocolError(UpstreamRequest attempt) {
        if (upstreamReusable || !stream.responseComplete()) {
            cluster.upstreamProtocolError.inc();
        }
        upstreamReusable = false;
        if (stream.responseComplete()) {
            return; // the response already went out whole: the end closes this connection instead of pooling it
        }
        cluster.outlierLocalOriginFailure(host, 503);
        if (!stream.responseStarted()) {
            if (retry(RouteConfig.RetryPolicy::onReset)) {
                return;
            }
            upstreamFailed(502, ResponseFlag.UPSTREAM_PROTOCOL_ERROR, "protocol error", "protocol_error", null);
        } else {
            stream.reset(ResponseFlag.UPSTREAM_PROTOCOL_ERROR, "upstream_reset_after_response_started{protocol_error}", true);
        }
        attempt.abandon();
    }

    void onUpstreamClosed(UpstreamRequest attempt) {
        if (stream.done() || stream.tunnelled()) {
            return;
        }
        upstreamReusable = false;
        if (stream.responseComplete()) {
            return; // the stream finishes when the last write completes
        }
        if (attempt.http2()) {
            onStreamReset(attempt);
            return;
        }
        if (!stream.responseStarted()) {
            if (attempt.pooledConnection() && stream.requestComplete() && info.bytesReceived() == 0
                    && !staleConnectionRetried && !interimSeen) {
                staleConnectionRetried = true;
                // A pooled connection the upstream had already closed: try once on a fresh one.
                attempt.abandon();
                current = UpstreamRequest.connect(this, stream, cluster, host, binding);
                return;
            }
            cluster.outlierLocalOriginFailure(host, 503); // Envoy's onUpstreamReset: LOCAL_ORIGIN_CONNECT_FAILED
            if (retry(RouteConfig.RetryPolicy::onReset)) {
                return;
            }
            upstreamFailed(503, ResponseFlag.UPSTREAM_CONNECTION_TERMINATION, "connection termination",
                    "connection_termination", null);
        } else {
            // Envoy's codec client hands an HTTP/1 connection's close to the codec as the end of input
            // (CodecClient::onEvent): a body whose length or chunking is not done is HPE_INVALID_EOF_STATE, a protocol
            // error (a body read until the close has ended by then: this stream would be complete).
            cluster.upstreamProtocolError.inc();
            cluster.outlierLocalOriginFailure(host, 503);
            stream.reset(ResponseFlag.UPSTREAM_PROTOCOL_ERROR,
                    "upstream_reset_after_response_started{protocol_error}", true);
        }
    }

    /**
     * An HTTP/2 attempt's stream ended before its response did. Envoy's codec tells why (codec_impl onStreamClose): the
     * peer's RST_STREAM is remote_reset (REFUSED_STREAM, or a stream past a GOAWAY's last stream id, is
     * remote_refused_stream_reset: unprocessed, retried under retry_on refused-stream), else the connection went:
     * connection_termination. Before the response started it is Envoy's onUpstreamReset — 503 UR or UC, retried when the
     * route's policy covers it; after, the client's response is cut short with the same reason.
     */
    private void onStreamReset(UpstreamRequest attempt) {
        boolean remote = attempt.remoteReset();
        String reason = !remote ? "connection_termination" : attempt.refused() ? "remote_refused_stream_reset" : "remote_reset";
        ResponseFlag flag = remote ? ResponseFlag.UPSTREAM_REMOTE_RESET : ResponseFlag.UPSTREAM_CONNECTION_TERMINATION;
        cluster.outlierLocalOriginFailure(host, 503); // Envoy's onUpstreamReset: LOCAL_ORIGIN_CONNECT_FAILED
        if (!stream.responseStarted()) {
            if (retry(attempt.refused() ? RouteConfig.RetryPolicy::onRefusedStream : RouteConfig.RetryPolicy::onReset)) {
                return;
            }
            upstreamFailed(503, flag, reason.replace('_', ' '), reason, null);
        } else {
            stream.reset(flag, "upstream_reset_after_response_started{" + reason + "}", true);
        }
    }

    /**
     * Envoy's onUpstreamReset for a reset before the response started: the code charged to the cluster
     * (chargeUpstreamAbort) and the local reply; {@code resetReason} is the details' reason, as
     * {@code upstream_reset_before_response_started{resetReason}} ("after" once an interim response started it for the
     * router, which then charges no code).
     */
    private void upstreamFailed(int code, ResponseFlag flag, String reason, String resetReason, String transportFailure) {
        if (stream.done()) {
            return;
        }
        if (transportFailure != null) {
            info.upstreamTransportFailureReason(transportFailure);
        }
        if (!interimSeen) {
            cluster.codes.charge(code, internalRequest);
        }
        String details = (interimSeen ? "upstream_reset_after_response_started{" : "upstream_reset_before_response_started{")
                + resetReason + "}";
        String body = "upstream connect error or disconnect/reset before headers. reset reason: " + reason
                + (transportFailure != null ? ", transport failure reason: " + transportFailure : "");
        stream.localReply(code, body, flag, details);
    }

    // ---- the stream's end ------------------------------------------------------------------------

    /** The stream is being reset or answered otherwise: the upstream connection cannot be reused. */
    void resetUpstream() {
        upstreamReusable = false;
        closeUpstream();
    }

    /** Keeps the connection out of the pool without closing it yet (a malformed request body). */
    void doNotReuseUpstream() {
        upstreamReusable = false;
    }

    private void closeUpstream() {
        if (current != null && current.attached()) {
            current.abandon();
        }
    }

    /**
     * The stream ended (not by a tunnel): the timer disarmed, what the router holds given back, and
     * the connection pooled when the whole response came and both sides allow keep-alive.
     */
    void streamDone(boolean failed, boolean responseComplete, boolean tunnelled) {
        if (!shadows.isEmpty()) {
            // The stream ends before its request did (a reset client): Envoy's onDestroy cancels the shadow streams.
            for (int i = 0, n = shadows.size(); i < n; i++) {
                shadows.get(i).cancel();
            }
            shadows = List.of();
        }
        if (timeoutArmed()) {
            attemptTimerArmed = false;
            backOffArmed = false;
            stream.connection().routeTimer().disarm(this);
        }
        releasePending(true);
        releaseCounts(failed);
        if (current != null && current.attached() && !tunnelled) {
            current.release(upstreamReusable && responseComplete);
        }
        releaseQueuedBody();
    }

    /** What the router holds while it lives, given back once: circuit-breaker slots, active counts, the host's request. */
    void releaseCounts(boolean failed) {
        if (state == State.DONE) {
            return;
        }
        boolean admitted = state != State.IDLE;
        state = State.DONE;
        if (admitted) {
            cluster.circuitBreaker().requestDone();
        }
        if (retries != null) {
            retries.release();
        }
        if (admitted) {
            host.requestFinished(failed);
            cluster.rqActive.dec();
        }
    }
}
