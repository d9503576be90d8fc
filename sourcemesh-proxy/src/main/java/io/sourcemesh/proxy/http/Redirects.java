package io.sourcemesh.proxy.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.sourcemesh.proxy.config.RouteConfig;

/** The Location of a route's redirect action, as Envoy's RouteEntryImplBase::newUri builds it. */
final class Redirects {
    private Redirects() {}

    static String location(RouteConfig.Redirect r, RouteConfig.RouteMatch match, HttpRequest request, boolean tls) {
        String requestScheme = request.headers().get("x-forwarded-proto", tls ? "https" : "http");
        String scheme = r.httpsRedirect() ? "https" : r.scheme().orElse(requestScheme);
        String host = r.host().orElse(request.headers().get(HttpHeaderNames.HOST, ""));
        if (r.port() != 0) {
            host = stripPort(host) + (isDefaultPort(scheme, r.port()) ? "" : ":" + r.port());
        } else if (!scheme.equalsIgnoreCase(requestScheme)) {
            host = stripPort(host); // a scheme change drops the old scheme's port
        }
        String uri = request.uri();
        int q = uri.indexOf('?');
        String path = q < 0 ? uri : uri.substring(0, q);
        String query = q < 0 ? "" : uri.substring(q);
        if (r.path().isPresent()) {
            String p = r.path().get();
            // A query in path_redirect replaces the request's; otherwise the request's is kept.
            return scheme + "://" + host + (p.contains("?") ? p : p + query);
        }
        if (r.prefixRewrite().isPresent() && match.prefix().isPresent()) {
            path = r.prefixRewrite().get() + path.substring(Math.min(match.prefix().get().length(), path.length()));
        }
        return scheme + "://" + host + path + query;
    }

    private static boolean isDefaultPort(String scheme, int port) {
        return (scheme.equals("http") && port == 80) || (scheme.equals("https") && port == 443);
    }

    private static String stripPort(String host) {
        if (host.startsWith("[")) {
            int end = host.indexOf(']');
            return end < 0 ? host : host.substring(0, end + 1);
        }
        int colon = host.lastIndexOf(':');
        return colon < 0 ? host : host.substring(0, colon);
    }
}
