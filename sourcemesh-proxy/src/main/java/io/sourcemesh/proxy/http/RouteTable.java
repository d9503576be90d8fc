package io.sourcemesh.proxy.http;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.sourcemesh.proxy.config.RouteConfig;
import io.sourcemesh.proxy.config.RouteConfig.Route;
import io.sourcemesh.proxy.config.RouteConfig.RouteMatch;
import io.sourcemesh.proxy.config.RouteConfig.VirtualHost;
import io.sourcemesh.proxy.matcher.HeaderMatch;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A route configuration compiled for lookup: virtual host by Host (exact, then the longest
 * {@code *.suffix}, then the longest {@code prefix*}, then {@code *}; retried without the port),
 * then the first route whose path and header matchers all match.
 */
public final class RouteTable {
    private final RouteConfig config;
    private final Map<String, VirtualHost> exact = new HashMap<>();
    private final List<Map.Entry<String, VirtualHost>> suffixes;
    private final List<Map.Entry<String, VirtualHost>> prefixes;
    private final VirtualHost wildcard;
    /** Only "*" is configured: the host is never looked at. */
    private final boolean onlyWildcard;

    public RouteTable(RouteConfig config) {
        this.config = config;
        Map<String, VirtualHost> suffix = new HashMap<>();
        Map<String, VirtualHost> prefix = new HashMap<>();
        VirtualHost any = null;
        for (VirtualHost vh : config.virtualHosts()) {
            for (String d : vh.domains()) {
                String domain = d.toLowerCase(Locale.ROOT);
                if (domain.equals("*")) {
                    any = any == null ? vh : any;
                } else if (domain.startsWith("*")) {
                    suffix.putIfAbsent(domain.substring(1), vh);
                } else if (domain.endsWith("*")) {
                    prefix.putIfAbsent(domain.substring(0, domain.length() - 1), vh);
                } else {
                    exact.putIfAbsent(domain, vh);
                }
            }
        }
        this.suffixes = longestFirst(suffix);
        this.prefixes = longestFirst(prefix);
        this.wildcard = any;
        this.onlyWildcard = exact.isEmpty() && suffixes.isEmpty() && prefixes.isEmpty();
    }

    private static List<Map.Entry<String, VirtualHost>> longestFirst(Map<String, VirtualHost> m) {
        return m.entrySet().stream().sorted((a, b) -> b.getKey().length() - a.getKey().length()).toList();
    }

    public String name() {
        return config.name();
    }

    /** The virtual host for a Host header value (by the request: {@link #virtualHostOrNull}). */
    public Optional<VirtualHost> virtualHost(String host) {
        return Optional.ofNullable(onlyWildcard ? wildcard : lookupHost(host));
    }

    /** The request's virtual host by its Host header, or null; a {@code *}-only config does not read the header. */
    public VirtualHost virtualHostOrNull(HttpRequest request) {
        if (onlyWildcard) {
            return wildcard; // no Host String, lower-cased copy or Optional per request
        }
        return lookupHost(request.headers().get(io.netty.handler.codec.http.HttpHeaderNames.HOST));
    }

    private VirtualHost lookupHost(String host) {
        String h = host == null ? "" : host.toLowerCase(Locale.ROOT);
        if (config.ignorePortInHostMatching()) {
            h = withoutPort(h);
        }
        VirtualHost vh = lookup(h);
        if (vh == null) {
            int colon = h.lastIndexOf(':');
            if (colon > 0 && h.indexOf(']') < colon) {
                vh = lookup(h.substring(0, colon));
            }
        }
        return vh != null ? vh : wildcard;
    }

    private static String withoutPort(String h) {
        int colon = h.lastIndexOf(':');
        return colon > 0 && h.indexOf(']') < colon ? h.substring(0, colon) : h;
    }

    private VirtualHost lookup(String h) {
        VirtualHost vh = exact.get(h);
        if (vh != null) {
            return vh;
        }
        for (Map.Entry<String, VirtualHost> e : suffixes) {
            if (h.endsWith(e.getKey()) && h.length() > e.getKey().length()) {
                return e.getValue();
            }
        }
        for (Map.Entry<String, VirtualHost> e : prefixes) {
            if (h.startsWith(e.getKey()) && h.length() > e.getKey().length()) {
                return e.getValue();
            }
        }
        return null;
    }

    /** The first matching route of the matching virtual host. */
    public Optional<Route> route(HttpRequest request) {
        VirtualHost vh = virtualHost(request.headers().get(io.netty.handler.codec.http.HttpHeaderNames.HOST)).orElse(null);
        return Optional.ofNullable(routeOrNull(request, vh));
    }

    /** The first matching route of {@code vh} (null: no virtual host), or null. */
    public Route routeOrNull(HttpRequest request, VirtualHost vh) {
        if (vh == null) {
            return null;
        }
        String uri = request.uri();
        int q = uri.indexOf('?');
        String path = q < 0 ? uri : uri.substring(0, q);
        List<Route> routes = vh.routes();
        for (int i = 0, n = routes.size(); i < n; i++) { // indexed: no iterator per request
            Route r = routes.get(i);
            if (matches(r.match(), path, request)) {
                return r;
            }
        }
        return null;
    }

    static boolean matches(RouteMatch m, String path, HttpRequest request) {
        if (!m.path().matches(path)) {
            return false;
        }
        for (int i = 0, n = m.headers().size(); i < n; i++) {
            HeaderMatch h = m.headers().get(i);
            if (!h.matches(headerValue(h.name(), request))) {
                return false;
            }
        }
        for (int i = 0, n = m.queryParameters().size(); i < n; i++) {
            RouteConfig.QueryParameterMatcher q = m.queryParameters().get(i);
            if (!q.matches(firstQueryValue(request.uri(), q.name()))) {
                return false;
            }
        }
        return true;
    }

    /**
     * The first value of a query parameter as Envoy's parseQueryString reads it: after the first
     * {@code ?}, split on {@code &}, the name up to the first {@code =}, nothing decoded; a parameter
     * without {@code =} has the value "". Null when absent.
     */
    static String firstQueryValue(String uri, String name) {
        int q = uri.indexOf('?');
        if (q < 0) {
            return null;
        }
        int start = q + 1;
        while (start <= uri.length()) {
            int end = uri.indexOf('&', start);
            if (end < 0) {
                end = uri.length();
            }
            int eq = uri.indexOf('=', start);
            int nameEnd = eq < 0 || eq > end ? end : eq;
            if (nameEnd - start == name.length() && uri.startsWith(name, start)) {
                return nameEnd == end ? "" : uri.substring(nameEnd + 1, end);
            }
            start = end + 1;
        }
        return null;
    }

    /** Header lookup with Envoy's pseudo-headers mapped onto HTTP/1.1; every value joined with ",", null when absent. */
    static String headerValue(String name, HttpRequest request) {
        HttpHeaders headers = request.headers();
        return switch (name.toLowerCase(Locale.ROOT)) {
            case ":method" -> request.method().name();
            case ":path" -> request.uri();
            case ":authority", "host" -> headers.get(io.netty.handler.codec.http.HttpHeaderNames.HOST);
            case ":scheme" -> headers.get("x-forwarded-proto");
            default -> headers.getAll(name).isEmpty() ? null : String.join(",", headers.getAll(name));
        };
    }
}
