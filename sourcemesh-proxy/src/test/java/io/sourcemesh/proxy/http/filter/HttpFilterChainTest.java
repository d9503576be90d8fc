package io.sourcemesh.proxy.http.filter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The per-stream chain: order, stopping at the first filter that answers, encoders in reverse. */
class HttpFilterChainTest {

    private static HttpFilterFactory recording(String name, List<String> calls, boolean stop) {
        return new HttpFilterFactory() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public HttpFilter create(HttpFilterCallbacks callbacks) {
                calls.add(name + ".create");
                return new HttpFilter() {
                    @Override
                    public FilterStatus decodeHeaders(HttpRequest request, boolean endStream) {
                        calls.add(name + ".decodeHeaders(" + endStream + ")");
                        return stop ? FilterStatus.STOP_ITERATION : FilterStatus.CONTINUE;
                    }

                    @Override
                    public void decodeData(HttpContent content, boolean endStream) {
                        calls.add(name + ".decodeData(" + endStream + ")");
                    }

                    @Override
                    public void encodeHeaders(HttpResponse response) {
                        calls.add(name + ".encodeHeaders");
                    }

                    @Override
                    public void onStreamComplete() {
                        calls.add(name + ".complete");
                    }
                };
            }
        };
    }

    @Test
    void decodersInOrderEncodersInReverse() {
        List<String> calls = new ArrayList<>();
        HttpFilterChain chain = HttpFilterChain.create(List.of(recording("a", calls, false), recording("b", calls, false)), null);
        assertTrue(chain.decodeHeaders(new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/"), false));
        DefaultLastHttpContent last = new DefaultLastHttpContent();
        chain.decodeData(last, true);
        last.release();
        chain.encodeHeaders(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
        chain.onStreamComplete();
        assertEquals(List.of("a.create", "b.create", "a.decodeHeaders(false)", "b.decodeHeaders(false)", "a.decodeData(true)",
                "b.decodeData(true)", "b.encodeHeaders", "a.encodeHeaders", "a.complete", "b.complete"), calls);
    }

    @Test
    void aFilterThatStopsHidesTheRequestFromTheRest() {
        List<String> calls = new ArrayList<>();
        HttpFilterChain chain = HttpFilterChain.create(List.of(recording("deny", calls, true), recording("later", calls, false)), null);
        assertFalse(chain.decodeHeaders(new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/"), true));
        assertEquals(List.of("deny.create", "later.create", "deny.decodeHeaders(true)"), calls);
    }

    @Test
    void noFiltersIsTheSharedEmptyChain() {
        assertTrue(HttpFilterChain.create(List.of(), null) == HttpFilterChain.empty());
        assertTrue(HttpFilterChain.empty().decodeHeaders(new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/"), true));
    }

    @Test
    void aPausedChainGoesOnFromTheFilterAfterTheOneThatStopped() {
        List<String> calls = new ArrayList<>();
        HttpFilterChain chain = HttpFilterChain.create(List.of(recording("first", calls, false), recording("pause", calls, true),
                recording("last", calls, false)), null);
        assertFalse(chain.continueDecoding(), "nothing to resume before decoding started");
        assertFalse(chain.decodeHeaders(new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/"), true));
        assertTrue(chain.continueDecoding(), "the rest let it through to the router");
        assertFalse(chain.continueDecoding(), "a decoded chain is not resumed twice");
        assertEquals(List.of("first.create", "pause.create", "last.create", "first.decodeHeaders(true)", "pause.decodeHeaders(true)",
                "last.decodeHeaders(true)"), calls);
    }

    @Test
    void aFilterWithNothingToDoOnAStreamIsLeftOut() {
        List<String> calls = new ArrayList<>();
        HttpFilterFactory absent = new HttpFilterFactory() {
            @Override
            public String name() {
                return "absent";
            }

            @Override
            public HttpFilter create(HttpFilterCallbacks callbacks) {
                calls.add("absent.create");
                return null; // e.g. the CORS filter on a route without a policy
            }
        };
        HttpFilterChain chain = HttpFilterChain.create(List.of(recording("a", calls, false), absent), null);
        assertTrue(chain.decodeHeaders(new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/"), true));
        chain.encodeHeaders(new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK));
        chain.onStreamComplete();
        assertEquals(List.of("a.create", "absent.create", "a.decodeHeaders(true)", "a.encodeHeaders", "a.complete"), calls);
        assertTrue(HttpFilterChain.create(List.of(absent), null) == HttpFilterChain.empty(), "none left: the shared empty chain");
    }
}
