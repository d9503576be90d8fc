package io.sourcemesh.proxy.http.filter;

import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;

/**
 * One stream's filters, in configured order, in front of the router. Decoding stops at the first
 * filter that answers or pauses, and a paused chain goes on from the filter after it
 * ({@link #continueDecoding}); encoding runs in reverse order, as Envoy's encoder filters do.
 */
public final class HttpFilterChain {
    private static final HttpFilterChain EMPTY = new HttpFilterChain(List.of());

    private final List<HttpFilter> filters;
    /** The next filter whose decodeHeaders runs; past the end once the router may have the request. */
    private int next;
    private HttpRequest request;
    private boolean endStream;

    private HttpFilterChain(List<HttpFilter> filters) {
        this.filters = filters;
    }

    /** No filters: the router alone (also a stream refused before its filters ran). */
    public static HttpFilterChain empty() {
        return EMPTY;
    }

    public static HttpFilterChain create(List<HttpFilterFactory> factories, HttpFilterCallbacks callbacks) {
        if (factories.isEmpty()) {
            return EMPTY;
        }
        List<HttpFilter> filters = new ArrayList<>(factories.size());
        for (int i = 0, n = factories.size(); i < n; i++) {
            HttpFilter filter = factories.get(i).create(callbacks);
            if (filter != null) { // a filter with nothing to do on this stream
                filters.add(filter);
            }
        }
        return filters.isEmpty() ? EMPTY : new HttpFilterChain(filters);
    }

    /** True when every filter let the request through to the router; false when one answered or paused. */
    public boolean decodeHeaders(HttpRequest request, boolean endStream) {
        this.request = request;
        this.endStream = endStream;
        this.next = 0;
        return iterate();
    }

    /**
     * Resumes a chain a filter paused, from the filter after it: true when the rest let the request
     * through to the router. False (and nothing runs) when the chain is not paused.
     */
    public boolean continueDecoding() {
        if (request == null || next == 0 || next > filters.size()) {
            return false;
        }
        return iterate();
    }

    private boolean iterate() {
        while (next < filters.size()) {
            if (filters.get(next++).decodeHeaders(request, endStream) == FilterStatus.STOP_ITERATION) {
                return false;
            }
        }
        next = filters.size() + 1; // decoded: a second continueDecoding does nothing
        return true;
    }

    public void decodeData(HttpContent content, boolean endStream) {
        for (int i = 0, n = filters.size(); i < n; i++) {
            filters.get(i).decodeData(content, endStream);
        }
    }

    public void encodeHeaders(HttpResponse response) {
        for (int i = filters.size() - 1; i >= 0; i--) {
            filters.get(i).encodeHeaders(response);
        }
    }

    /** Indexed (as the loops above): no iterator per stream, which nearly always has no filter. */
    public void onStreamComplete() {
        for (int i = 0, n = filters.size(); i < n; i++) {
            filters.get(i).onStreamComplete();
        }
    }
}
