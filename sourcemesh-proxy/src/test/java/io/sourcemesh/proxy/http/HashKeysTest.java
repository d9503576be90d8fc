package io.sourcemesh.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.sourcemesh.proxy.accesslog.StreamInfo;
import io.sourcemesh.proxy.config.RouteConfig;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/**
 * How a hash policy reads a request, as Envoy's source/common/http/hash_policy.cc and source/common/http/utility.cc
 * (parseCookieValue, QueryParamsMulti::parseQueryString, makeSetCookieValue; test/common/http/utility_test.cc), and the
 * cookie value Envoy's router makes up (source/common/router/router.h addDownstreamSetCookie).
 */
class HashKeysTest {
    private static HttpHeaders cookies(String... lines) {
        HttpHeaders h = new DefaultHttpHeaders();
        for (String l : lines) {
            h.add("cookie", l);
        }
        return h;
    }

    /** Envoy's test/common/common/hash_test.cc: xxHash64("foo"), and a header's values chained in sorted order. */
    @Test
    void headerHashChainsTheSortedValues() {
        assertEquals(3728699739546630719L, HashKeys.headerHash(List.of("foo")));
        long chained = io.sourcemesh.proxy.upstream.XxHash64.hash("foo".getBytes(java.nio.charset.StandardCharsets.US_ASCII),
                Long.parseUnsignedLong("5234164152756840025")); // "bar" first: it sorts first
        assertEquals(chained, HashKeys.headerHash(List.of("foo", "bar")));
        assertEquals(chained, HashKeys.headerHash(List.of("bar", "foo")));
    }

    @Test
    void cookieValueAsEnvoyParsesIt() {
        assertEquals("abc", HashKeys.cookie(cookies("session=abc"), "session"));
        assertEquals("abc", HashKeys.cookie(cookies("a=1;  session=abc; b=2"), "session"), "spaces before the name skipped");
        assertEquals("abc", HashKeys.cookie(cookies("session=\"abc\""), "session"), "one pair of quotes taken off");
        assertEquals("\"abc", HashKeys.cookie(cookies("session=\"abc"), "session"), "an unmatched quote kept");
        assertEquals("a=b", HashKeys.cookie(cookies("session=a=b"), "session"), "the value runs to the ';'");
        assertEquals("2", HashKeys.cookie(cookies("other=1", "session=2"), "session"), "every Cookie header");
        assertEquals("1", HashKeys.cookie(cookies("session=1; session=2"), "session"), "the first wins");
        assertEquals("", HashKeys.cookie(cookies("session="), "session"));
        assertNull(HashKeys.cookie(cookies("sessionx=1; xsession=2; session; ;"), "session"));
        assertNull(HashKeys.cookie(cookies("session =1"), "session"), "no trimming after the name");
        assertNull(HashKeys.cookie(cookies(), "session"));
    }

    @Test
    void queryParameterFirstValueUndecoded() {
        assertEquals("7", HashKeys.queryParameter("/p?user=7", "user"));
        assertEquals("7", HashKeys.queryParameter("/p?a=1&user=7&user=8", "user"));
        assertEquals("", HashKeys.queryParameter("/p?user&a=1", "user"), "no '=': an empty value");
        assertEquals("a%20b", HashKeys.queryParameter("/p?user=a%20b", "user"), "not decoded");
        assertEquals("x=y", HashKeys.queryParameter("/p?user=x=y", "user"));
        assertNull(HashKeys.queryParameter("/p?username=7&xuser=1", "user"));
        assertNull(HashKeys.queryParameter("/user=7", "user"), "no query");
    }

    @Test
    void generatedValueIsXxHashOfBothAddressesInHex() {
        assertEquals("97464cb52965fff1", HashKeys.generatedValue(new InetSocketAddress("127.0.0.1", 40000),
                new InetSocketAddress("127.0.0.1", 10000)));
        assertEquals("d3072a0448e6c913", HashKeys.generatedValue(new InetSocketAddress("::1", 40000),
                new InetSocketAddress("0:0:0:0:0:0:0:1", 10000)), "IPv6 in brackets and inet_ntop's compressed form");
    }

    @Test
    void setCookieAsMakeSetCookieValue() {
        assertEquals("s=\"v\"; Max-Age=60; Path=/app; SameSite=Lax; Secure; HttpOnly", HashKeys.setCookie(
                new RouteConfig.HashCookie("s", "/app", OptionalLong.of(60),
                        List.of(new RouteConfig.CookieAttribute("SameSite", "Lax"), new RouteConfig.CookieAttribute("Secure", ""))),
                "v"));
        assertEquals("s=\"v\"; HttpOnly", HashKeys.setCookie(new RouteConfig.HashCookie("s", "", OptionalLong.of(0), List.of()), "v"),
                "a ttl of 0 is a session cookie: no Max-Age");
    }

    /** source_ip is Envoy's Ip::addressAsString of the client: inet_ntop's forms (source/common/http/hash_policy.cc). */
    @Test
    void sourceIpKeyIsTheAddressAsEnvoyPrintsIt() {
        RouteConfig.HashPolicy sourceIp = new RouteConfig.HashPolicy(Optional.empty(), true, false);
        HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/");
        assertEquals("::1", HashKeys.key(sourceIp, request,
                StreamInfo.start().downstreamRemoteAddress(new InetSocketAddress("::1", 40000))));
        assertEquals("fd00::a:1", HashKeys.key(sourceIp, request, StreamInfo.start()
                .downstreamRemoteAddress(new InetSocketAddress("fd00:0:0:0:0:0:a:1", 40000))));
        assertEquals("10.0.0.7", HashKeys.key(sourceIp, request,
                StreamInfo.start().downstreamRemoteAddress(new InetSocketAddress("10.0.0.7", 40000))));
    }
}
