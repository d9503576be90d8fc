package io.sourcemesh.proxy.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.sourcemesh.proxy.accesslog.StreamInfo;
import io.sourcemesh.proxy.address.IpLiteral;
import io.sourcemesh.proxy.config.RouteConfig;
import io.sourcemesh.proxy.upstream.LoadBalancer;
import io.sourcemesh.proxy.upstream.XxHash64;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;

/**
 * The load balancer's key from one of a route's hash policies, as Envoy's hash methods read a request
 * (source/common/http/hash_policy.cc), and the hash cookie Envoy's router makes up when the request has none
 * (source/common/router/router.h addDownstreamSetCookie, source/common/http/utility.cc makeSetCookieValue).
 */
final class HashKeys {
    private HashKeys() {}

    /**
     * This source IP, cookie or query parameter policy's key for the request, or null when the request has none (a
     * cookie may then be generated); a header policy's hash is {@link #headerHash}.
     */
    static String key(RouteConfig.HashPolicy p, HttpRequest request, StreamInfo info) {
        if (p.sourceIp()) {
            // Envoy's ConnectionSourceIpHashMethod hashes addressAsString: inet_ntop's "::1", not Java's "0:0:0:0:0:0:0:1",
            // so a Maglev cluster picks the endpoint Envoy would for an IPv6 client too.
            return IpLiteral.format(info.downstreamRemoteAddress().getAddress().getAddress());
        }
        if (p.cookie().isPresent()) {
            String v = cookie(request.headers(), p.cookie().get().name());
            return v == null || v.isEmpty() ? null : v; // CookieHashMethod: an empty value is no cookie
        }
        if (p.queryParameter().isPresent()) {
            return queryParameter(request.uri(), p.queryParameter().get());
        }
        return null;
    }

    /**
     * A header hash policy's hash, as Envoy's HeaderHashMethod: every value of the header (each line, not split at
     * commas), sorted so their order does not matter, hashed in a chain (HashUtil::xxHash64 over a span: each value's
     * xxHash64 seeded with the one before, the first with 0), so one value hashes as itself.
     */
    static long headerHash(List<String> values) {
        if (values.size() == 1) {
            return LoadBalancer.hash(values.get(0));
        }
        String[] sorted = values.toArray(String[]::new);
        java.util.Arrays.sort(sorted);
        long seed = 0;
        for (String v : sorted) {
            seed = XxHash64.hash(v.getBytes(StandardCharsets.UTF_8), seed);
        }
        return seed;
    }

    /**
     * The value of cookie {@code name}, as Envoy's Utility::parseCookieValue: every Cookie header split at ';' (empty
     * pieces skipped), a piece without '=' skipped, the name from its first non-space character to the first '=' (no
     * other trimming), the value the rest with one pair of enclosing double quotes taken off; the first match wins.
     */
    static String cookie(HttpHeaders headers, String name) {
        List<String> all = headers.getAll(HttpHeaderNames.COOKIE);
        for (int h = 0, hn = all.size(); h < hn; h++) {
            String line = all.get(h);
            int start = 0;
            while (start <= line.length()) {
                int end = line.indexOf(';', start);
                if (end < 0) {
                    end = line.length();
                }
                int eq = line.indexOf('=', start);
                if (end > start && eq >= 0 && eq < end) {
                    int k = start;
                    while (line.charAt(k) == ' ') {
                        k++;
                    }
                    if (eq - k == name.length() && line.startsWith(name, k)) {
                        int vs = eq + 1;
                        int ve = end;
                        if (ve - vs >= 2 && line.charAt(vs) == '"' && line.charAt(ve - 1) == '"') {
                            vs++;
                            ve--;
                        }
                        return line.substring(vs, ve);
                    }
                }
                start = end + 1;
            }
        }
        return null;
    }

    /**
     * The first value of query parameter {@code name}, as Envoy's QueryParamsMulti::parseQueryString and getFirstValue:
     * the text after the first '?', split at '&', a parameter without '=' has the value "", nothing is decoded.
     */
    static String queryParameter(String uri, String name) {
        int q = uri.indexOf('?');
        if (q < 0) {
            return null;
        }
        int start = q + 1;
        while (start < uri.length()) {
            int end = uri.indexOf('&', start);
            if (end < 0) {
                end = uri.length();
            }
            int eq = uri.indexOf('=', start);
            int nameEnd = eq >= 0 && eq < end ? eq : end;
            if (nameEnd - start == name.length() && uri.startsWith(name, start)) {
                return nameEnd == end ? "" : uri.substring(eq + 1, end);
            }
            start = end + 1;
        }
        return null;
    }

    /**
     * The value Envoy's router gives a missing hash cookie: xxHash64 of the connection's remote then local address, each
     * "ip:port" ("[ip]:port" for IPv6, inet_ntop's form), as 16 hex digits (Hex::uint64ToHex). It is the same for every
     * request of a connection, so racing requests get one cookie.
     */
    static String generatedValue(InetSocketAddress remote, InetSocketAddress local) {
        StringBuilder s = new StringBuilder(64);
        appendAddress(s, remote);
        appendAddress(s, local);
        return HexFormat.of().toHexDigits(XxHash64.hash(s.toString().getBytes(StandardCharsets.US_ASCII)));
    }

    /**
     * Envoy's makeSetCookieValue for a generated hash cookie: {@code name="value"}, "; Max-Age=ttl" unless the ttl is 0
     * (a session cookie), "; Path=path" when set, each attribute ("; name" or "; name=value"), then "; HttpOnly".
     */
    static String setCookie(RouteConfig.HashCookie c, String value) {
        StringBuilder s = new StringBuilder(c.name().length() + value.length() + c.path().length() + 40);
        s.append(c.name()).append("=\"").append(value).append('"');
        long ttl = c.ttlSeconds().orElse(0);
        if (ttl != 0) {
            s.append("; Max-Age=").append(ttl);
        }
        if (!c.path().isEmpty()) {
            s.append("; Path=").append(c.path());
        }
        for (RouteConfig.CookieAttribute a : c.attributes()) {
            s.append("; ").append(a.name());
            if (!a.value().isEmpty()) {
                s.append('=').append(a.value());
            }
        }
        return s.append("; HttpOnly").toString();
    }

    private static void appendAddress(StringBuilder s, InetSocketAddress a) {
        if (a.getAddress() instanceof Inet6Address) {
            s.append('[').append(IpLiteral.format(a.getAddress().getAddress())).append(']');
        } else {
            s.append(IpLiteral.format(a.getAddress().getAddress()));
        }
        s.append(':').append(a.getPort());
    }
}
