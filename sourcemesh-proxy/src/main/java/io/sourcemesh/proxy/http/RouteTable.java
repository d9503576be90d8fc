package io.sourcemesh.proxy.http;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.sourcemesh.proxy.config.RouteConfig;
import io.sourcemesh.proxy.config.RouteConfig.Route;
import io.sourcemesh.proxy.config.RouteConfig.RouteMatch;
import io.sourcemesh.proxy.config.RouteConfig.VirtualHost;
import io.sourcemesh.proxy.matcher.HeaderMatch;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A route configuration compiled for lookup: virtual host by Host (exact, then the longest
 * {@code *suffix}, then the longest {@code prefix*}, then {@code *}), then the first route whose path
 * and header matchers all match. As Envoy's RouteMatcher::findVirtualHost
 * ({@code source/common/router/config_impl.cc}) the Host is matched whole, port included, unless
 * {@code ignore_port_in_host_matching} cuts the port first: {@code foo:8080} is not {@code foo}, though
 * {@code foo:*} or {@code *} takes it. Host and domains are compared with ASCII case folded (Envoy's
 * AsciiStrToLower / LowerCaseString) by index, so a lookup copies nothing.
 */
public final class RouteTable {
    private final RouteConfig config;
    /** Exact domains, open addressing by {@link #hash}: keys lower-cased, a null key is an empty slot. */
    private final String[] exactKeys;
    private final VirtualHost[] exactHosts;
    private final int exactMask;
    /** {@code *suffix} and {@code prefix*} without the star, longest first (Envoy tries the most specific first). */
    private final String[] suffixKeys;
    private final VirtualHost[] suffixHosts;
    private final String[] prefixKeys;
    private final VirtualHost[] prefixHosts;
    private final VirtualHost wildcard;
    /** Only "*" is configured: the host is never looked at. */
    private final boolean onlyWildcard;

    public RouteTable(RouteConfig config) {
        this.config = config;
        Map<String, VirtualHost> exact = new LinkedHashMap<>();
        Map<String, VirtualHost> suffix = new HashMap<>();
        Map<String, VirtualHost> prefix = new HashMap<>();
        VirtualHost any = null;
        for (VirtualHost vh : config.virtualHosts()) {
            for (String d : vh.domains()) {
                String domain = asciiLower(d);
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
        int capacity = Integer.highestOneBit(Math.max(2, exact.size() * 2 + 1)) << 1;
        this.exactKeys = new String[capacity];
        this.exactHosts = new VirtualHost[capacity];
        this.exactMask = capacity - 1;
        exact.forEach((domain, vh) -> {
            int i = hash(domain, domain.length()) & exactMask;
            while (exactKeys[i] != null) {
                i = (i + 1) & exactMask;
            }
            exactKeys[i] = domain;
            exactHosts[i] = vh;
        });
        List<Map.Entry<String, VirtualHost>> suffixes = longestFirst(suffix);
        this.suffixKeys = suffixes.stream().map(Map.Entry::getKey).toArray(String[]::new);
        this.suffixHosts = suffixes.stream().map(Map.Entry::getValue).toArray(VirtualHost[]::new);
        List<Map.Entry<String, VirtualHost>> prefixes = longestFirst(prefix);
        this.prefixKeys = prefixes.stream().map(Map.Entry::getKey).toArray(String[]::new);
        this.prefixHosts = prefixes.stream().map(Map.Entry::getValue).toArray(VirtualHost[]::new);
        this.wildcard = any;
        this.onlyWildcard = exact.isEmpty() && suffix.isEmpty() && prefix.isEmpty();
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
        String h = host == null ? "" : host;
        int end = h.length();
        if (config.ignorePortInHostMatching()) {
            int port = portStart(h);
            end = port < 0 ? end : port;
        }
        VirtualHost vh = exact(h, end);
        if (vh != null) {
            return vh;
        }
        // A wildcard covers at least one character of the Host (config_impl.cc findWildcardVirtualHost).
        for (int i = 0; i < suffixKeys.length; i++) {
            String k = suffixKeys[i];
            if (k.length() < end && regionEquals(h, end - k.length(), k)) {
                return suffixHosts[i];
            }
        }
        for (int i = 0; i < prefixKeys.length; i++) {
            String k = prefixKeys[i];
            if (k.length() < end && regionEquals(h, 0, k)) {
                return prefixHosts[i];
            }
        }
        return wildcard;
    }

    /**
     * Where the port's colon is, or -1: Envoy's HeaderUtility::getPortStart — the last ':' unless a
     * ']' (an IPv6 literal's end) comes after it.
     */
    static int portStart(String host) {
        int colon = host.lastIndexOf(':');
        return colon >= 0 && host.lastIndexOf(']') < colon ? colon : -1;
    }

    private VirtualHost exact(String h, int end) {
        for (int i = hash(h, end) & exactMask; ; i = (i + 1) & exactMask) {
            String k = exactKeys[i];
            if (k == null) {
                return null;
            }
            if (k.length() == end && regionEquals(h, 0, k)) {
                return exactHosts[i];
            }
        }
    }

    /** The hash of {@code s[0, end)} with ASCII upper case folded, spread over the low bits. */
    private static int hash(String s, int end) {
        int h = 0;
        for (int i = 0; i < end; i++) {
            h = 31 * h + asciiLower(s.charAt(i));
        }
        return h ^ (h >>> 16);
    }

    /** Whether {@code s} holds the lower-case {@code key} at {@code offset}, ASCII case folded. */
    private static boolean regionEquals(String s, int offset, String key) {
        for (int i = 0, n = key.length(); i < n; i++) {
            if (asciiLower(s.charAt(offset + i)) != key.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private static char asciiLower(char c) {
        return c >= 'A' && c <= 'Z' ? (char) (c + ('a' - 'A')) : c;
    }

    private static String asciiLower(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            b.append(asciiLower(s.charAt(i)));
        }
        return b.toString();
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
