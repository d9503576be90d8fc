package io.sourcemesh.proxy.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.sourcemesh.proxy.accesslog.StreamInfo;
import io.sourcemesh.proxy.config.ForwardClientCert;
import io.sourcemesh.proxy.config.RouteConfig;
import io.sourcemesh.proxy.network.PeerCertificate;

/** What the router reads from and edits in a request head: require_tls, the route's rewrites, hop-by-hop headers. */
final class UpstreamHeaders {
    private static final io.netty.util.AsciiString XFCC = io.netty.util.AsciiString.cached("x-forwarded-client-cert");
    private UpstreamHeaders() {}

    /** Envoy's require_tls: whether this plain-text request must be redirected to https. */
    static boolean requiresTls(RouteConfig.RequireTls requireTls, boolean internal, HttpRequest request, boolean tlsTerminated) {
        if (requireTls == RouteConfig.RequireTls.NONE || tlsTerminated
                || "https".equalsIgnoreCase(request.headers().get("x-forwarded-proto"))) {
            return false;
        }
        return requireTls == RouteConfig.RequireTls.ALL || !internal;
    }

    /**
     * prefix_rewrite or regex_rewrite (keeping the original path in x-envoy-original-path, as Envoy's finalizePathHeader)
     * and a literal host_rewrite.
     */
    static void rewrite(HttpRequest request, RouteConfig.Route route, RouteConfig.Forward forward, StreamInfo info) {
        HttpHeaders h = request.headers();
        if (forward.regexRewrite().isPresent()) {
            String uri = request.uri();
            h.set("x-envoy-original-path", uri);
            request.setUri(forward.regexRewrite().get().apply(uri));
            info.requestPath(request.uri());
        } else if (forward.prefixRewrite().isPresent()) {
            String uri = request.uri();
            h.set("x-envoy-original-path", uri);
            // The matched part is swapped (Envoy's currentUrlPathAfterRewriteWithMatchedPath): a prefix match's prefix,
            // an exact or regex match's whole path; the query stays.
            int matched = route.match().prefix().map(String::length).orElseGet(() -> pathLength(uri));
            request.setUri(forward.prefixRewrite().get() + uri.substring(Math.min(matched, uri.length())));
            info.requestPath(request.uri());
        }
        if (forward.hostRewriteLiteral().isPresent()) { // not ifPresent: its lambda would capture h on every request
            h.set(HttpHeaderNames.HOST, forward.hostRewriteLiteral().get());
        }
    }

    /** The path part of a request target: up to its query or fragment. */
    private static int pathLength(String uri) {
        for (int i = 0; i < uri.length(); i++) {
            char c = uri.charAt(i);
            if (c == '?' || c == '#') {
                return i;
            }
        }
        return uri.length();
    }

    /**
     * What Envoy's connection manager takes from a client's request before any HTTP filter runs
     * (ConnectionManagerUtility::mutateRequestHeaders), so no filter, RBAC above all, reads it: Connection,
     * Upgrade and TE but "trailers" unless this is an upgrade, Keep-Alive, Proxy-Connection; and the
     * x-forwarded-client-cert as {@code forwardClientCert} makes it ({@link #forwardClientCert}).
     * {@link #prepare} strips hop-by-hop headers again after the route's own.
     */
    static void beforeFilters(HttpHeaders h, ForwardClientCert forwardClientCert, boolean upgrade, HttpConnection downstream) {
        if (!upgrade) {
            h.remove(HttpHeaderNames.CONNECTION);
            h.remove(HttpHeaderNames.UPGRADE);
            sanitizeTe(h);
        }
        h.remove(HttpHeaderNames.KEEP_ALIVE);
        h.remove("proxy-connection");
        forwardClientCert(h, forwardClientCert, downstream);
    }

    /**
     * Envoy's sanitizeTEHeader: "trailers" when that token (case as written) is among TE's values — over every TE
     * line, as Envoy's header map joins them — else no TE.
     */
    private static void sanitizeTe(HttpHeaders h) {
        if (!h.contains(HttpHeaderNames.TE)) {
            return;
        }
        if (h.containsValue(HttpHeaderNames.TE, HttpHeaderValues.TRAILERS, false)) {
            h.set(HttpHeaderNames.TE, HttpHeaderValues.TRAILERS);
        } else {
            h.remove(HttpHeaderNames.TE);
        }
    }

    /**
     * Envoy's mutateXfccRequestHeader: ALWAYS_FORWARD_ONLY leaves the client's XFCC as it came; SANITIZE, and every
     * other mode on a connection whose client showed no certificate, removes it; FORWARD_ONLY keeps it; APPEND_FORWARD
     * appends the proxy's element about the client certificate (after a ','), SANITIZE_SET replaces it with that element.
     */
    static void forwardClientCert(HttpHeaders h, ForwardClientCert config, HttpConnection downstream) {
        ForwardClientCert.Mode mode = config.mode();
        if (mode == ForwardClientCert.Mode.ALWAYS_FORWARD_ONLY) {
            return;
        }
        PeerCertificate peer = mode == ForwardClientCert.Mode.SANITIZE ? null : downstream.connection().peerCertificate();
        if (peer == null) {
            h.remove(XFCC);
            return;
        }
        if (!config.writes()) {
            return; // FORWARD_ONLY from a client with a certificate
        }
        String element = peer.element(config);
        java.util.List<String> lines = mode == ForwardClientCert.Mode.APPEND_FORWARD ? h.getAll(XFCC) : java.util.List.of();
        String before = String.join(",", lines);
        h.set(XFCC, before.isEmpty() ? element : before + "," + element);
    }

    /**
     * Upstream requests are always HTTP/1.1 keep-alive; hop-by-hop headers stay on this hop, but for an
     * {@code upgrade} ({@link #asksUpgrade} of the client's headers), which keeps Upgrade and Connection: upgrade.
     */
    static void prepare(HttpRequest request, boolean upgrade) {
        HttpHeaders h = request.headers();
        h.remove(HttpHeaderNames.CONNECTION);
        h.remove(HttpHeaderNames.KEEP_ALIVE);
        h.remove("proxy-connection");
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

    /**
     * Whether a request asks for an upgrade: an {@code Upgrade} header and {@code upgrade} among the tokens of its
     * {@code Connection} headers (a token, as Envoy's {@code Utility::isUpgrade}: {@code x-upgrade-hint} is not one;
     * {@code containsValue} matches comma-separated tokens over every line).
     */
    static boolean asksUpgrade(HttpHeaders h) {
        return h.contains(HttpHeaderNames.UPGRADE) && h.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true);
    }
}
