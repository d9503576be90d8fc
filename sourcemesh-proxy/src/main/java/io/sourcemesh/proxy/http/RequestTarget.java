package io.sourcemesh.proxy.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;

/**
 * The request-target as Envoy's HTTP/1 codec takes it (its {@code allow_absolute_url} default; RFC 9112 §3.2). The
 * origin-form ({@code /path?q}) and {@code OPTIONS *} stay as they are. The absolute-form ({@code http://host/path?q},
 * what a client that uses this proxy as its HTTP proxy sends) becomes the origin-form, its authority replacing Host
 * (RFC 9112 §3.2.2): routes, RBAC's path and host rules and the upstream then all see one path — left as it came, a
 * rule on {@code /admin} never saw {@code http://x/admin}, which the upstream served as {@code /admin}. Any other target
 * is refused as Envoy's codec refuses it. A CONNECT's authority-form is left to the upgrade decision.
 */
final class RequestTarget {
    private RequestTarget() {}

    /**
     * Rewrites an absolute-form target in place; null when the target is fine, else Envoy's codec error. With
     * {@code edgeOverPlaintext} (Envoy's validate_scheme: use_remote_address with no trusted hops, the connection not
     * TLS) an {@code https://} target is 403 {@code http1.https_url_on_plaintext_connection}: a client must not believe
     * it reached an https origin over a clear-text hop.
     */
    static RequestValidator.Rejection toOriginForm(HttpRequest request, boolean edgeOverPlaintext) {
        String uri = request.uri();
        if (uri.startsWith("/") || request.method() == HttpMethod.CONNECT
                || (request.method() == HttpMethod.OPTIONS && uri.startsWith("*"))) {
            return null;
        }
        int colon = uri.indexOf("://");
        if (colon <= 0 || !isScheme(uri, colon)) {
            return new RequestValidator.Rejection(400, "Bad Request", "http1.invalid_url");
        }
        String scheme = uri.substring(0, colon);
        int authorityStart = colon + 3;
        int authorityEnd = authorityStart;
        while (authorityEnd < uri.length() && "/?#".indexOf(uri.charAt(authorityEnd)) < 0) {
            authorityEnd++;
        }
        String authority = uri.substring(authorityStart, authorityEnd);
        // userinfo ("user@host") in a target is an error to a recipient (RFC 9110 §4.2.4).
        if (authority.isEmpty() || authority.indexOf('@') >= 0 || !RequestValidator.authorityIsValid(authority)) {
            return new RequestValidator.Rejection(400, "Bad Request", "http1.invalid_url");
        }
        if (!scheme.equalsIgnoreCase("http") && !scheme.equalsIgnoreCase("https")) {
            return new RequestValidator.Rejection(400, "Bad Request", "http1.invalid_scheme");
        }
        if (edgeOverPlaintext && scheme.equalsIgnoreCase("https")) {
            return new RequestValidator.Rejection(403, "Forbidden", "http1.https_url_on_plaintext_connection");
        }
        String rest = uri.substring(authorityEnd);
        request.setUri(rest.isEmpty() || rest.charAt(0) != '/' ? "/" + rest : rest);
        request.headers().set(HttpHeaderNames.HOST, authority);
        return null;
    }

    /** RFC 3986 scheme: a letter, then letters, digits, '+', '-' or '.'. */
    private static boolean isScheme(String uri, int end) {
        for (int i = 0; i < end; i++) {
            char c = uri.charAt(i);
            boolean letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
            if (!letter && (i == 0 || !((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'))) {
                return false;
            }
        }
        return true;
    }
}
