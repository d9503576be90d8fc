package io.sourcemesh.proxy.http;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.LastHttpContent;
import io.sourcemesh.proxy.accesslog.ResponseFlag;
import io.sourcemesh.proxy.accesslog.StreamInfo;
import io.sourcemesh.proxy.http.filter.Grpc;
import io.sourcemesh.proxy.http.filter.HttpFilterChain;
import io.sourcemesh.proxy.http.forwarded.Outcome;
import io.netty.channel.unix.UnixChannel;
import io.sourcemesh.l4.ByteRelay;
import io.sourcemesh.l4.transport.Transport;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * One downstream request's life (Envoy's {@code ActiveStream}): the head checked and given the
 * client-address headers, the HTTP filters, then the {@link Router} as the terminal filter; the
 * response encoded back through the filters (or a local reply), and at the end one access-log
 * entry. Each side is read only after the other side's write completed.
 */
final class HttpStream {

    /** How far the request has been read from the client. */
    enum RequestState {
        /** More of the request (its body) is still to come. */
        RECEIVING,
        /** The stream was answered early: the rest of the body is read and dropped. */
        DRAINING,
        /** The whole request arrived (or nothing more of it will be read). */
        COMPLETE
    }

    /** How far the response has gone to the client. */
    enum State {
        /** Nothing answered yet: filters, routing, an upstream attempt under way. */
        OPEN,
        /** The response head went down; its body follows. */
        RESPONDING,
        /** The whole response (or a local reply) is written; the stream ends when the write completes. */
        RESPONSE_COMPLETE,
        /** A 101 made this connection a raw tunnel: the relays own both sides until one closes. */
        TUNNEL,
        /** Answered, logged and handed back to the connection. */
        DONE
    }

    private final HttpConnection downstream;
    private final HttpConnectionManagerFilter filter;
    private final HttpRequest request;
    private final StreamInfo info;
    private final boolean keepAlive;
    private final HttpVersion downstreamVersion;
    private final Router router;
    private RequestState requestState = RequestState.RECEIVING;
    /** The request has a body (chunked, or a Content-Length over 0): it does not end with its head. */
    private boolean bodyFollows;
    /** The client is internal (Envoy's internal_address_config): the router's require_tls reads it, also after a pause. */
    private boolean internal;
    private State state = State.OPEN;
    private HttpFilterChain filters = HttpFilterChain.empty();
    /** An HTTP/1.0 client got a body it can only read to the connection's end. */
    private boolean closeDownstreamAfterResponse;
    /** The response told the client Connection: close: the connection closes once its last write completes. */
    private boolean responseSaysClose;
    /** Response data written to the client since the last flush (the next upstream read waits for it). */
    private ChannelFuture unflushedWrite;
    private ChannelFuture lastWrite;

    HttpStream(HttpConnection downstream, HttpRequest request) {
        this.downstream = downstream;
        this.filter = downstream.filter();
        this.request = request;
        this.info = downstream.newStreamInfo();
        this.keepAlive = HttpUtil.isKeepAlive(request);
        // Only 1.0 and 1.1 are spoken here: anything else is refused, and answered as 1.1 (never "HTTP/2.0 400").
        // (Netty labels a head it could not parse 1.0.)
        // Envoy answers 1.0 only when it accepts 1.0 (accept_http_10); its 426 to a 1.0 request is an HTTP/1.1 line.
        this.downstreamVersion = request.decoderResult().isSuccess() && request.protocolVersion() == HttpVersion.HTTP_1_0
                && filter.config.limits().acceptHttp10() ? HttpVersion.HTTP_1_0 : HttpVersion.HTTP_1_1;
        this.router = new Router(this, request, info);
    }

    HttpConnection connection() {
        return downstream;
    }

    StreamInfo info() {
        return info;
    }

    Router router() {
        return router;
    }

    State state() {
        return state;
    }

    boolean requestComplete() {
        return requestState == RequestState.COMPLETE;
    }

    boolean upgraded() {
        return state == State.TUNNEL;
    }

    boolean tunnelled() {
        return state == State.TUNNEL;
    }

    boolean done() {
        return state == State.DONE;
    }

    boolean responseStarted() {
        return state != State.OPEN;
    }

    boolean responseComplete() {
        return state == State.RESPONSE_COMPLETE;
    }

    /**
     * request_headers_timeout ran out before the head was whole (Envoy's ActiveStream::onRequestHeaderTimeout, whose
     * stream began at the first byte): a 408 local reply, body "request header timeout", details request_header_timeout,
     * no response flag; with no headers, %REQ(...)% logs "-". The request never completes: the connection closes after it.
     */
    void startHeaderTimeout() {
        filter.rqTotal.inc();
        filter.rqActive.inc();
        info.protocol(downstream.h2Stream() ? "HTTP/2" : downstreamVersion.text());
        info.requestScheme(downstream.connection().tlsTerminated() ? "https" : "http");
        requestState = RequestState.COMPLETE; // nothing more of it is read
        downstream.closeAfterCurrentStream();
        localReply(408, "request header timeout", null, "request_header_timeout");
    }

    void start() {
        filter.rqTotal.inc();
        filter.rqActive.inc();
        info.protocol(downstream.h2Stream() ? "HTTP/2" : downstreamVersion.text());
        info.requestHeaders(request.headers());
        info.requestMethod(request.method().name());
        boolean connect = request.method() == HttpMethod.CONNECT;
        // A CONNECT's target is an authority: Envoy's codec gives it no :path (%REQ(:PATH)% is unset).
        info.requestPath(connect ? null : request.uri());
        info.requestScheme(downstream.connection().tlsTerminated() ? "https" : "http");
        RequestValidator.Rejection bad = request.decoderResult().isFailure()
                ? RequestValidator.codecFailure(request.decoderResult().cause())
                : RequestValidator.check(request, filter.config.limits().maxHeadersCount(), filter.config.limits().acceptHttp10());
        boolean originForm = request.uri().startsWith("/");
        if (bad == null && !originForm) {
            // An absolute-form target becomes a path and a Host, as in Envoy's codec.
            bad = RequestTarget.toOriginForm(request, filter.config.useRemoteAddress() && filter.config.xffNumTrustedHops() == 0
                    && !downstream.connection().tlsTerminated());
            originForm = request.uri().startsWith("/");
            info.requestPath(connect ? null : request.uri());
        }
        if (bad != null) {
            info.addResponseFlag(ResponseFlag.DOWNSTREAM_PROTOCOL_ERROR);
            requestState = RequestState.COMPLETE;
            downstream.closeAfterCurrentStream();
            localReply(bad.status(), bad.body(), null, bad.details());
            return;
        }
        // Known before any answer: one given while a body is still to come ends the connection (closeIfAnsweredEarly).
        bodyFollows = HttpUtil.isTransferEncodingChunked(request) || HttpUtil.getContentLength(request, 0L) > 0;
        if (!originForm && !connect) {
            // OPTIONS *: Envoy's connection manager serves only paths (its absolute_path 404).
            filter.rqNonRelativePath.inc();
            localReply(404, "", null, "absolute_path");
            return;
        }
        if (request.uri().indexOf('#') >= 0) {
            // A fragment is no part of a request-target (RFC 9112 §3.2): a rule on the path and the upstream could read
            // "/public#/../admin" differently. Envoy rejects it by default (http_reject_path_with_fragment).
            filter.rqFailedPathNormalization.inc();
            localReply(400, "", null, "path_normalization_failed");
            return;
        }
        // Envoy transforms only a request with a :path, which a CONNECT has not.
        if (filter.config.paths().active() && !connect && !normalizePath()) {
            return;
        }
        if (connect || request.headers().contains(HttpHeaderNames.UPGRADE)) {
            // Unless it becomes a tunnel, what follows on this connection is not HTTP: never parse it as a request.
            downstream.closeAfterCurrentStream();
        }
        HopByHopHeaders.removeNominated(request.headers()); // before the proxy sets its own headers
        Outcome client = filter.headerMutator.mutate(request.headers(), downstream.connection().remoteAddress(),
                downstream.connection().tlsTerminated());
        info.downstreamRemoteAddress(client.trustedClientAddress());
        internal = client.internal();

        // Envoy's connection manager decides an upgrade on the client's headers before any HTTP filter runs, whatever the
        // route does (forward, direct response, redirect, none): one its upgrade_configs do not allow is answered 403 with
        // neither the filters nor the router run, so no host is picked or logged and no try counted. Decided once: a
        // route's header mutations do not make a request an upgrade.
        // A CONNECT is an upgrade of type CONNECT to Envoy, which no config here allows (HttpTranslator refuses it).
        boolean upgrade = UpstreamHeaders.asksUpgrade(request.headers());
        if (connect || (upgrade
                && !filter.upgradeTypes.contains(request.headers().get(HttpHeaderNames.UPGRADE, "").toLowerCase(Locale.ROOT)))) {
            filter.rqWsOnNonWsRoute.inc();
            localReply(403, "", null, "upgrade_failed");
            return;
        }
        if (upgrade) {
            router.upgrading();
        }
        UpstreamHeaders.beforeFilters(request.headers(), filter.config.forwardClientCert(), upgrade, downstream);
        // -- HTTP filters (envoy.filters.http.*), in order, then the router --
        if (!filter.httpFilters.isEmpty()) {
            // Envoy's connection manager resolves the route before the filters (refreshCachedRoute), and with it the
            // stream's upstream cluster: a request a filter answers (an RBAC denial) still logs %UPSTREAM_CLUSTER%.
            router.routeOrNull();
            filters = HttpFilterChain.create(filter.httpFilters,
                    new StreamFilterCallbacks(this, downstream.channel(), downstream.connection(), info));
            if (!filters.decodeHeaders(request, !bodyFollows)) {
                return; // a filter answered (sendLocalReply), or paused the chain until continueDecoding
            }
        }
        router.decodeHeaders(internal);
    }

    /**
     * Envoy's path transformations, before the client's address is decided, any route or filter: false when
     * the request was answered (400 for a path that cannot be normalized or has an escaped slash to reject,
     * 307 to the unescaped path for UNESCAPE_AND_REDIRECT; 400 for a gRPC request, which cannot follow one).
     */
    private boolean normalizePath() {
        PathNormalizer.Verdict verdict = PathNormalizer.apply(filter.config.paths(), request);
        info.requestPath(request.uri());
        if (verdict == PathNormalizer.Verdict.CONTINUE) {
            return true;
        }
        if (verdict == PathNormalizer.Verdict.REDIRECT && !Grpc.isRequest(request.headers())) {
            filter.rqRedirectedWithNormalizedPath.inc();
            String location = request.uri();
            localReply(307, "", null, "path_normalization_failed", h -> h.set(HttpHeaderNames.LOCATION, location));
        } else {
            filter.rqFailedPathNormalization.inc();
            localReply(400, "", null, "path_normalization_failed");
        }
        return false;
    }

    /**
     * A filter that paused the chain lets the request go on (a fault delay ran out): the filters after
     * it, then the router. Nothing happens once the stream was answered or ended; body parts that came
     * meanwhile wait in the router's queue (reading stopped) until an attempt attaches.
     */
    void continueDecoding() {
        if (state == State.OPEN && filters.continueDecoding()) {
            router.decodeHeaders(internal);
        }
    }

    void onRequestContent(HttpContent content) {
        boolean discard = state == State.DONE || requestState == RequestState.DRAINING;
        boolean last = content instanceof LastHttpContent;
        if (last) {
            requestState = RequestState.COMPLETE;
            downstream.requestComplete();
        }
        if (!discard) {
            filters.decodeData(content, last);
        }
        router.mirrorData(content);
        if (discard) {
            info.addBytesReceived(content.content().readableBytes());
            content.release();
            if (requestComplete()) {
                finish();
            } else {
                downstream.readMore();
            }
            return;
        }
        router.decodeData(content);
    }

    void onDownstreamReadComplete() {
        router.onDownstreamReadComplete();
    }

    /** The request body's framing or trailers were malformed: 400 if we can still answer, then close both sides. */
    void onRequestCodecError() {
        requestState = RequestState.COMPLETE;
        router.doNotReuseUpstream();
        info.addResponseFlag(ResponseFlag.DOWNSTREAM_PROTOCOL_ERROR);
        if (done()) {
            return;
        }
        if (!responseStarted()) {
            localReply(400, "Bad Request", null, "http1.codec_error"); // finish() closes the upstream connection
        } else {
            router.resetUpstream();
            info.responseCodeDetails("http1.codec_error");
            downstream.channel().close();
            finish();
        }
    }

    /** request_timeout or stream_idle_timeout fired: 408 while nothing was answered, else reset (Envoy). */
    void onDownstreamTimeout(String body, ResponseFlag flag, String details) {
        if (done()) {
            return;
        }
        router.doNotReuseUpstream();
        downstream.closeAfterCurrentStream();
        if (!responseStarted()) {
            requestState = RequestState.COMPLETE; // nothing more of this request is read
            localReply(408, body, flag, details);
        } else {
            if (flag != null) {
                info.addResponseFlag(flag);
            }
            info.responseCodeDetails(details);
            router.resetUpstream();
            downstream.channel().close();
            finish();
        }
    }

    void onDownstreamClosed() {
        if (done()) {
            return;
        }
        if (!responseComplete()) {
            info.addResponseFlag(ResponseFlag.DOWNSTREAM_CONNECTION_TERMINATION);
            if (info.responseCodeDetails() == null) {
                info.responseCodeDetails("downstream_remote_disconnect");
            }
        }
        router.resetUpstream();
        finish();
    }

    // ---- encoding the response -------------------------------------------------------------------

    /** The upstream's response head, after the router's own edits: this hop's headers, then the filters (in reverse). */
    void encodeHeaders(HttpResponse response, boolean tunnel) {
        state = State.RESPONDING;
        info.responseCode(response.status().code());
        info.responseCodeDetails("via_upstream");
        HttpHeaders h = response.headers();
        h.set(HttpHeaderNames.SERVER, filter.serverName);
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
        if (!tunnel) {
            closeIfAnsweredEarly();
        }
        if (!keepAlive || closeDownstreamAfterResponse || downstream.closing()) {
            responseSaysClose = true;
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        } else if (downstreamVersion == HttpVersion.HTTP_1_0) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
        }
        router.encodeRouteHeaders(h);
        filters.encodeHeaders(response);
        info.responseHeaders(h);
        if (response instanceof LastHttpContent whole) {
            // Head and body in one message: counted before the write, whose encoder may drain and release the body.
            info.addBytesSent(whole.content().readableBytes());
            state = State.RESPONSE_COMPLETE;
        }
        write(response);
    }

    /** A piece of the response body that came after its head. */
    void encodeData(HttpContent content) {
        info.addBytesSent(content.content().readableBytes());
        if (content instanceof LastHttpContent last) {
            state = State.RESPONSE_COMPLETE;
            if (!filter.config.limits().enableTrailers() && !last.trailingHeaders().isEmpty() && !downstream.h2Stream()) {
                // Envoy's HTTP/1 encoder writes trailers only with http_protocol_options.enable_trailers; else the
                // chunked body just ends. The same bytes, without the trailers.
                content = new DefaultLastHttpContent(last.content());
            }
        }
        write(content);
    }

    private void write(HttpObject msg) {
        unflushedWrite = downstream.channel().write(msg);
        lastWrite = unflushedWrite;
    }

    /**
     * The response's last write to the client, flushed: the connection closes when it completes, as writes
     * complete in order (null when the stream wrote nothing of its own, e.g. a local reply, done by then).
     */
    ChannelFuture lastWriteFlushed() {
        flushResponse();
        return lastWrite;
    }

    /** Flushes what was written to the client since the last flush; null when nothing was. */
    ChannelFuture flushResponse() {
        ChannelFuture f = unflushedWrite;
        if (f != null) {
            unflushedWrite = null;
            Channel client = downstream.channel();
            if (responseSaysClose && state == State.RESPONSE_COMPLETE && client instanceof UnixChannel && client.isActive()) {
                // The connection closes once this write completes; corked until then, the response's last bytes
                // and the FIN leave in one segment, and the client's one ACK answers both.
                client.config().setOption(Transport.TCP_CORK, 1);
            }
            client.flush();
        }
        return f;
    }

    /** The upstream failed or timed out after the response started: the client's connection is closed. */
    void reset(ResponseFlag flag, String details, boolean flushFirst) {
        info.addResponseFlag(flag);
        info.responseCodeDetails(details);
        if (flushFirst) {
            downstream.channel().flush();
        }
        downstream.channel().close();
        finish();
    }

    void localReply(int status, String body, ResponseFlag flag, String details) {
        localReply(status, body, flag, details, h -> { });
    }

    /** Envoy's local reply, unless the response already started; {@code headers} adds to it (a redirect's location). */
    void localReply(int status, String body, ResponseFlag flag, String details, Consumer<HttpHeaders> headers) {
        if (state != State.OPEN) {
            return;
        }
        state = State.RESPONSE_COMPLETE;
        closeIfAnsweredEarly();
        ChannelFuture f = downstream.sendLocalReply(info, keepAlive && !downstream.closing(), downstreamVersion, status, body, flag,
                details, headers, filters);
        router.releaseQueuedBody();
        if (requestState == RequestState.RECEIVING) {
            requestState = RequestState.DRAINING;
        }
        f.addListener((ChannelFutureListener) w -> finish());
    }

    /**
     * A response that starts before the request's body has all arrived ends the connection: Envoy's connection manager
     * then says Connection: close on HTTP/1 and closes once the response is out, rather than wait for the rest of a
     * request it has answered (counted in downstream_rq_response_before_rq_complete). So does this stream.
     */
    private void closeIfAnsweredEarly() {
        if (bodyFollows && requestState == RequestState.RECEIVING) {
            filter.rqResponseBeforeRqComplete.inc();
            downstream.closeAfterCurrentStream();
        }
    }

    void finish() {
        if (state == State.DONE) {
            return;
        }
        boolean tunnel = state == State.TUNNEL;
        boolean responseComplete = state == State.RESPONSE_COMPLETE;
        state = State.DONE;
        filter.rqActive.dec();
        router.streamDone(info.responseCode() >= 500 || info.responseCode() == 0, responseComplete, tunnel);
        logStream();
        boolean reuse = keepAlive && !closeDownstreamAfterResponse && requestComplete() && !tunnel
                && downstream.channel().isActive() && !info.hasResponseFlag(ResponseFlag.UPSTREAM_CONNECTION_TERMINATION);
        if (router.timeoutArmed() && !reuse) {
            downstream.routeTimer().disarmRoute();
        }
        downstream.streamDone(this, reuse);
    }

    /** After a 101 both sides carry raw bytes (WebSocket and other upgrades): relay them as tcp_proxy does. */
    void switchToTunnel(Channel up) {
        state = State.TUNNEL;
        Channel down = downstream.channel();
        down.flush();
        downstream.removeHttpHandlers();
        down.pipeline().remove("http-connection-manager");
        up.pipeline().addLast(ByteRelay.to(down, info::addBytesSent, this::tunnelClosed));
        down.pipeline().addLast(ByteRelay.to(up, info::addBytesReceived, this::tunnelClosed));
        down.read();
        up.read();
    }

    private void tunnelClosed() {
        if (state != State.DONE) {
            state = State.DONE;
            filter.rqActive.dec();
            router.releaseCounts(false);
            logStream();
        }
    }

    private void logStream() {
        filters.onStreamComplete();
        info.end(downstream.now());
        downstream.log(info);
    }
}
