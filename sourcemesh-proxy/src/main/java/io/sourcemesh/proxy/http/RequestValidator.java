package io.sourcemesh.proxy.http;

import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import java.util.List;
import java.util.Set;

/**
 * The HTTP/1.1 request checks Envoy's codec makes before a request reaches the filters, with its
 * replies: 400 for a malformed head, 431 for too many or too large headers, 501 for a transfer
 * coding other than chunked. Netty's decoder is more lenient than Envoy's (any token is a method,
 * any HTTP/x.y a version, control and non-ASCII bytes pass in the path); this closes those gaps.
 */
final class RequestValidator {
    /** A refused request: the status and Envoy's response code details. */
    record Rejection(int status, String body, String details) {}

    /** The methods Envoy's HTTP/1 parser knows (llhttp's HTTP set), case-sensitive. */
    private static final Set<String> METHODS = Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS",
            "TRACE", "PATCH", "PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "SEARCH", "BIND",
            "REBIND", "UNBIND", "ACL", "REPORT", "MKACTIVITY", "CHECKOUT", "MERGE", "M-SEARCH", "NOTIFY", "SUBSCRIBE",
            "UNSUBSCRIBE", "PURGE", "MKCALENDAR", "LINK", "UNLINK", "SOURCE", "QUERY");
    /** The bytes a request may start with, by byte: the first letters of {@link #METHODS}, CR and LF. */
    private static final boolean[] REQUEST_START = new boolean[128];

    static {
        METHODS.forEach(m -> REQUEST_START[m.charAt(0)] = true);
        REQUEST_START['\r'] = true;
        REQUEST_START['\n'] = true;
    }

    private RequestValidator() {}

    /**
     * Whether a request may begin with this byte: a method's first letter, or the CR or LF of the empty lines a client
     * may send before one. As Envoy's BalsaParser::execute, which refuses a request at its first byte when no method
     * starts with it (HPE_INVALID_METHOD), so a TLS ClientHello sent to a plaintext port is answered at once rather than
     * read as a head that never ends. One table lookup: it is asked of every request's first byte.
     */
    static boolean mayStartRequest(byte b) {
        return b > 0 && REQUEST_START[b];
    }

    /** The codec's own failure (too long, bad framing) as Envoy answers it. */
    static Rejection codecFailure(Throwable cause) {
        if (cause instanceof TooLongFrameException) {
            return new Rejection(431, "Request Header Fields Too Large", "http1.headers_too_large");
        }
        if (cause instanceof io.netty.handler.codec.http.ContentLengthNotAllowedException) {
            // Netty's RFC 9112 framing refuses Transfer-Encoding with Content-Length, as Envoy (allow_chunked_length false).
            return new Rejection(400, "Bad Request", "http1.content_length_and_chunked_not_allowed");
        }
        return new Rejection(400, "Bad Request", "http1.codec_error");
    }

    /** Null when the head is acceptable. */
    static Rejection check(HttpRequest request, int maxHeadersCount) {
        return check(request, maxHeadersCount, true);
    }

    /** {@code acceptHttp10} false: an HTTP/1.0 request is 426 Upgrade Required (Envoy's default, details low_version). */
    static Rejection check(HttpRequest request, int maxHeadersCount, boolean acceptHttp10) {
        HttpVersion v = request.protocolVersion();
        if (!v.protocolName().equals("HTTP") || v.majorVersion() != 1 || v.minorVersion() > 1) {
            return new Rejection(400, "Bad Request", "http1.codec_error");
        }
        if (v.minorVersion() == 0 && !acceptHttp10) {
            return new Rejection(426, "Upgrade Required", "low_version");
        }
        if (!METHODS.contains(request.method().name())) {
            return new Rejection(400, "Bad Request", "http1.codec_error");
        }
        String uri = request.uri();
        for (int i = 0; i < uri.length(); i++) {
            char c = uri.charAt(i);
            // Envoy's codec takes '!'..'~' in a target (balsa's isUrlValid, http-parser's): not a control byte, DEL,
            // or a byte above ASCII, which Netty's decoder passes as a Latin-1 char and its encoder would have sent
            // upstream as two UTF-8 bytes.
            if (c <= 0x20 || c >= 0x7f) {
                return new Rejection(400, "Bad Request", "http1.codec_error");
            }
        }
        HttpHeaders h = request.headers();
        if (h.size() > maxHeadersCount) {
            return new Rejection(431, "Request Header Fields Too Large", "http1.too_many_headers");
        }
        int hosts = count(h, HttpHeaderNames.HOST);
        if (hosts > 1) {
            return new Rejection(400, "Bad Request", "http1.codec_error");
        }
        if (hosts == 0) {
            // HTTP/1.0 too: Envoy's connection manager requires a Host once default_host_for_http_10 (refused here) had
            // its chance (conn_manager_impl.cc decodeHeaders, MissingHost), so no request reaches the route table without one.
            return new Rejection(400, "Bad Request", "missing_host_header");
        }
        // FlatHeaders (every decoded request's): its value as given, no String made to check it
        if (hosts == 1 && !authorityIsValid(h instanceof FlatHeaders f ? f.value(HttpHeaderNames.HOST) : h.get(HttpHeaderNames.HOST))) {
            // A Host a virtual host or an RBAC rule reads one way and the upstream another ("admin.example/x").
            return new Rejection(400, "Bad Request", "http.invalid_authority");
        }
        if (h.contains(HttpHeaderNames.TRANSFER_ENCODING)) {
            List<String> te = h.getAll(HttpHeaderNames.TRANSFER_ENCODING);
            if (te.size() > 1 || !te.getFirst().trim().equalsIgnoreCase("chunked")) {
                return new Rejection(501, "Not Implemented", "http1.invalid_transfer_encoding");
            }
        }
        return null;
    }

    /**
     * Envoy's {@code HeaderUtility::authorityIsValid} (nghttp2's authority characters): letters, digits and
     * {@code -._~!$&'()*+,;=:@%[]}; no space, slash, '?', '#' or other delimiter.
     */
    static boolean authorityIsValid(CharSequence authority) {
        for (int i = 0; i < authority.length(); i++) {
            char c = authority.charAt(i);
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || "-._~!$&'()*+,;=:@%[]".indexOf(c) >= 0)) {
                return false;
            }
        }
        return true;
    }

    /** How many lines carry {@code name}; the proxy's own headers count without a list per request. */
    private static int count(HttpHeaders h, CharSequence name) {
        return h instanceof FlatHeaders flat ? flat.count(name) : h.getAll(name).size();
    }

    /** Trailers may not carry the fields that frame, route or authenticate a message (RFC 9110 §6.5.1). */
    static boolean forbiddenTrailers(HttpHeaders trailers) {
        return trailers.contains(HttpHeaderNames.HOST) || trailers.contains(HttpHeaderNames.CONTENT_LENGTH)
                || trailers.contains(HttpHeaderNames.TRANSFER_ENCODING) || trailers.contains(HttpHeaderNames.AUTHORIZATION);
    }
}
