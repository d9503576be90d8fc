package io.sourcemesh.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.sourcemesh.proxy.config.RouteConfig;
import java.util.List;

import org.junit.jupiter.api.Test;

/** Query strings read as Envoy's parseQueryString for route matching: first value, nothing decoded. */
class RouteTableTest {

    @Test
    void firstQueryValueIsTheUndecodedFirstOccurrence() {
        assertEquals("1", RouteTable.firstQueryValue("/p?a=1&a=2", "a"));
        assertEquals("x%20y", RouteTable.firstQueryValue("/p?b=0&a=x%20y", "a"), "not decoded");
        assertEquals("", RouteTable.firstQueryValue("/p?flag&a=1", "flag"), "no '=': the empty value");
        assertEquals("", RouteTable.firstQueryValue("/p?a=", "a"));
        assertEquals("b=c", RouteTable.firstQueryValue("/p?a=b=c", "a"), "the name ends at the first '='");
        assertNull(RouteTable.firstQueryValue("/p?ab=1", "a"));
        assertNull(RouteTable.firstQueryValue("/p?a1=1", "a"));
        assertNull(RouteTable.firstQueryValue("/p", "a"));
        assertNull(RouteTable.firstQueryValue("/p?", "a"));
    }

    @Test
    void virtualHostsByDomainAndTheWildcardAlone() {
        RouteConfig.VirtualHost all = new RouteConfig.VirtualHost("all", List.of("*"), List.of());
        RouteTable wildcardOnly = new RouteTable(new RouteConfig("r", List.of(all)));
        for (String host : new String[] {null, "", "Example.COM:8080", "[::1]:80", "a"}) {
            assertEquals("all", wildcardOnly.virtualHost(host).orElseThrow().name(), String.valueOf(host));
        }
        assertTrue(new RouteTable(new RouteConfig("r", List.of())).virtualHost("x").isEmpty());

        RouteConfig.VirtualHost exact = new RouteConfig.VirtualHost("exact", List.of("example.com"), List.of());
        RouteTable mixed = new RouteTable(new RouteConfig("r", List.of(exact, all)));
        assertEquals("exact", mixed.virtualHost("Example.COM").orElseThrow().name(), "ASCII case folded");
        assertEquals("all", mixed.virtualHost("Example.COM:8080").orElseThrow().name(), "the port is part of the Host");
        RouteTable portless = new RouteTable(new RouteConfig("r", List.of(exact, all), true));
        assertEquals("exact", portless.virtualHost("Example.COM:8080").orElseThrow().name(), "ignore_port_in_host_matching");
        assertEquals("all", mixed.virtualHost("other.com").orElseThrow().name());
        RouteTable exactOnly = new RouteTable(new RouteConfig("r", List.of(exact)));
        assertTrue(exactOnly.virtualHost("other.com").isEmpty());
        assertEquals("exact", exactOnly.virtualHost("example.com").orElseThrow().name());

        // The router's lookup by request (no Optional; a "*"-only table never reads Host) answers the same.
        for (RouteTable table : List.of(wildcardOnly, mixed, portless, exactOnly, new RouteTable(new RouteConfig("r", List.of())))) {
            for (String host : new String[] {null, "", "Example.COM:8080", "example.com", "other.com", "[::1]:80"}) {
                HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/p?q=1");
                if (host != null) {
                    request.headers().set(HttpHeaderNames.HOST, host);
                }
                assertEquals(table.virtualHost(host).orElse(null), table.virtualHostOrNull(request), String.valueOf(host));
                assertEquals(table.route(request), java.util.Optional.ofNullable(
                        table.routeOrNull(request, table.virtualHostOrNull(request))), String.valueOf(host));
            }
        }
    }
}
