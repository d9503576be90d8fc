package io.sourcemesh.proxy.http.filter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.sourcemesh.proxy.accesslog.StreamInfo;
import io.sourcemesh.proxy.config.CorsPolicyConfig;
import io.sourcemesh.proxy.config.RouteConfig;
import io.sourcemesh.proxy.matcher.StringMatch;
import io.sourcemesh.proxy.network.PeerCertificate;
import io.sourcemesh.proxy.stats.Stats;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The CORS filter's decisions, one stream at a time, as Envoy's test/extensions/filters/http/cors/cors_filter_test.cc
 * checks them: the preflight answered here (which headers, when), forwarded when its origin is not allowed (or not,
 * per forward_not_matching_preflights), a simple request's response headers, shadow and disabled policies, the stats.
 */
class CorsFilterFactoryTest {
    private static final String ORIGIN = "https://app.example";

    private final Stats stats = new Stats();
    private final CorsFilterFactory factory = CorsFilterFactory.of("envoy.filters.http.cors", stats, "in");

    private static CorsPolicyConfig policy(String methods, String headers, String expose, String maxAge, Boolean credentials,
            Boolean forward, RouteConfig.Fraction enabled, RouteConfig.Fraction shadow) {
        return CorsPolicyConfig.of(List.of(StringMatch.of(StringMatch.Kind.EXACT, ORIGIN, false)), methods, headers, expose, maxAge,
                Optional.ofNullable(credentials), Optional.of(true), Optional.ofNullable(forward), Optional.ofNullable(enabled),
                Optional.ofNullable(shadow));
    }

    private static CorsPolicyConfig simple() {
        return policy("GET,POST", "x-a", "x-exposed", "600", null, null, null, null);
    }

    /** The filter's callbacks for one stream: the route (with {@code policy} under the filter's name), the local reply. */
    private static final class Stream implements HttpFilterCallbacks {
        final RouteConfig.Route route;
        int status;
        String details;
        final HttpHeaders reply = new DefaultHttpHeaders();

        Stream(CorsPolicyConfig policy) {
            this.route = new RouteConfig.Route("r", RouteConfig.RouteMatch.ofPrefix("/"), new RouteConfig.DirectResponse(200,
                    Optional.empty()), io.sourcemesh.proxy.config.HeaderMutations.NONE, policy == null ? Map.of()
                    : Map.of("envoy.filters.http.cors", policy));
        }

        @Override
        public void sendLocalReply(int status, String body, String details) {
            sendLocalReply(status, body, details, h -> { });
        }

        @Override
        public void sendLocalReply(int status, String body, String details, Consumer<HttpHeaders> headers) {
            this.status = status;
            this.details = details;
            headers.accept(reply);
        }

        @Override
        public Optional<RouteConfig.Route> route() {
            return Optional.of(route);
        }

        @Override
        public StreamInfo streamInfo() {
            throw new UnsupportedOperationException();
        }

        @Override
        public InetSocketAddress directRemoteAddress() {
            throw new UnsupportedOperationException();
        }

        @Override
        public InetSocketAddress connectionRemoteAddress() {
            throw new UnsupportedOperationException();
        }

        @Override
        public InetSocketAddress remoteAddress() {
            throw new UnsupportedOperationException();
        }

        @Override
        public InetSocketAddress localAddress() {
            throw new UnsupportedOperationException();
        }

        @Override
        public Optional<String> requestedServerName() {
            return Optional.empty();
        }

        @Override
        public String scheme() {
            return "http";
        }

        @Override
        public boolean tlsTerminated() {
            return false;
        }

        @Override
        public PeerCertificate peerCertificate() {
            return null;
        }

        @Override
        public EventLoop eventLoop() {
            throw new UnsupportedOperationException();
        }

        @Override
        public void continueDecoding() {
            throw new UnsupportedOperationException();
        }
    }

    private static HttpRequest request(HttpMethod method, String... headers) {
        HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, method, "/");
        for (int i = 0; i < headers.length; i += 2) {
            r.headers().add(headers[i], headers[i + 1]);
        }
        return r;
    }

    private static Map<String, String> sorted(HttpHeaders h) {
        Map<String, String> out = new TreeMap<>();
        h.forEach(e -> out.put(e.getKey().toLowerCase(java.util.Locale.ROOT), e.getValue()));
        return out;
    }

    /** The response headers a forwarded request's 200 gets on its way back through the filter. */
    private static Map<String, String> encoded(HttpFilter f) {
        HttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        f.encodeHeaders(response);
        return sorted(response.headers());
    }

    private long counter(String name) {
        return stats.counters().getOrDefault("http.in.cors." + name, 0L);
    }

    @Test
    void aRouteWithoutAPolicyGetsNoFilterAtAll() {
        assertNull(factory.create(new Stream(null)), "nothing made, nothing run for the stream");
    }

    @Test
    void aPreflightFromAnAllowedOriginIsAnsweredHere() {
        Stream s = new Stream(simple());
        HttpFilter f = factory.create(s);
        assertEquals(FilterStatus.STOP_ITERATION, f.decodeHeaders(request(HttpMethod.OPTIONS, "origin", ORIGIN,
                "access-control-request-method", "PUT", "access-control-request-private-network", "true"), true));
        assertEquals(200, s.status);
        assertEquals("cors_response", s.details);
        assertEquals(Map.of("access-control-allow-origin", ORIGIN, "access-control-allow-methods", "GET,POST",
                "access-control-allow-headers", "x-a", "access-control-max-age", "600",
                "access-control-allow-private-network", "true"), sorted(s.reply), "cors_filter.cc's decodeHeaders; no credentials");
        HttpResponse answer = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
        answer.headers().set(s.reply);
        f.encodeHeaders(answer); // the stream encodes its local reply through the filters, this one too
        assertEquals("x-exposed", answer.headers().get("access-control-expose-headers"), "then its encodeHeaders over the same answer");
        assertEquals(1, counter("origin_valid"));
    }

    @Test
    void aStarEchoesWhatThePreflightAsksAndCredentialsAreSaid() {
        Stream s = new Stream(policy("*", "*", "", "", true, null, null, null));
        factory.create(s).decodeHeaders(request(HttpMethod.OPTIONS, "origin", ORIGIN, "access-control-request-method", "DELETE",
                "access-control-request-headers", "x-one,x-two"), true);
        assertEquals(Map.of("access-control-allow-origin", ORIGIN, "access-control-allow-methods", "DELETE",
                "access-control-allow-headers", "x-one,x-two", "access-control-allow-credentials", "true"), sorted(s.reply));
    }

    @Test
    void aPreflightFromAnotherOriginIsForwardedUnlessTheyAreIgnored() {
        Stream s = new Stream(simple());
        HttpFilter f = factory.create(s);
        HttpRequest preflight = request(HttpMethod.OPTIONS, "origin", "https://evil.example", "access-control-request-method", "GET");
        assertEquals(FilterStatus.CONTINUE, f.decodeHeaders(preflight, true), "forward_not_matching_preflights defaults to true");
        assertEquals(Map.of(), encoded(f), "nothing added for an origin not allowed");
        assertEquals(1, counter("origin_invalid"));

        Stream ignoring = new Stream(policy("GET", "", "", "", null, false, null, null));
        assertEquals(FilterStatus.STOP_ITERATION, factory.create(ignoring).decodeHeaders(preflight, true));
        assertEquals(200, ignoring.status);
        assertEquals(Map.of("access-control-allow-methods", "GET"), sorted(ignoring.reply), "no Allow-Origin: the origin is not allowed");
    }

    @Test
    void aSimpleRequestFromAnAllowedOriginGetsTheHeadersOnItsResponse() {
        HttpFilter f = factory.create(new Stream(policy("", "", "x-exposed", "", true, null, null, null)));
        assertEquals(FilterStatus.CONTINUE, f.decodeHeaders(request(HttpMethod.GET, "origin", ORIGIN), true));
        assertEquals(Map.of("access-control-allow-origin", ORIGIN, "access-control-allow-credentials", "true",
                "access-control-expose-headers", "x-exposed"), encoded(f));
    }

    @Test
    void anOptionsWithoutRequestMethodOrARequestWithoutOriginIsNoPreflight() {
        Stream s = new Stream(simple());
        HttpFilter f = factory.create(s);
        assertEquals(FilterStatus.CONTINUE, f.decodeHeaders(request(HttpMethod.OPTIONS, "origin", ORIGIN), true));
        assertEquals(0, s.status);
        assertEquals(ORIGIN, encoded(f).get("access-control-allow-origin"), "a CORS request all the same");
        HttpFilter noOrigin = factory.create(new Stream(simple()));
        assertEquals(FilterStatus.CONTINUE, noOrigin.decodeHeaders(request(HttpMethod.OPTIONS, "access-control-request-method", "GET"), true));
        assertEquals(Map.of(), encoded(noOrigin));
        assertEquals(List.of(1L, 0L), List.of(counter("origin_valid"), counter("origin_invalid")),
                "only the request with an Origin counted");
    }

    @Test
    void aDisabledPolicyDoesNothingAndAShadowOneOnlyCounts() {
        HttpRequest preflight = request(HttpMethod.OPTIONS, "origin", ORIGIN, "access-control-request-method", "GET");
        Stream off = new Stream(policy("GET", "", "", "", null, null, new RouteConfig.Fraction(0, 100), null));
        HttpFilter f = factory.create(off);
        assertEquals(FilterStatus.CONTINUE, f.decodeHeaders(preflight, true));
        assertEquals(Map.of(), encoded(f));
        assertEquals(0, counter("origin_valid"));

        Stream shadow = new Stream(policy("GET", "", "", "", null, null, new RouteConfig.Fraction(0, 100), RouteConfig.Fraction.ALL));
        HttpFilter g = factory.create(shadow);
        assertEquals(FilterStatus.CONTINUE, g.decodeHeaders(preflight, true), "shadow mode forwards the preflight");
        assertEquals(Map.of(), encoded(g));
        assertEquals(1, counter("origin_valid"), "but counts it");
    }

    @Test
    void theFiltersOwnNameOrTheCanonicalOneFindsThePolicy() {
        CorsFilterFactory renamed = CorsFilterFactory.of("envoy.cors", stats, "in");
        Stream s = new Stream(simple());
        HttpFilter f = renamed.create(s);
        f.decodeHeaders(request(HttpMethod.GET, "origin", ORIGIN), true);
        assertEquals(ORIGIN, encoded(f).get("access-control-allow-origin"), "a route keyed by the canonical name");
    }
}
