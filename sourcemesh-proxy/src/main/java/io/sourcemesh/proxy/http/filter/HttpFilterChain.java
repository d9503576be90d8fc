package io.sourcemesh.proxy.http.filter;

import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;

/**
 * One stream's filters, in configured order, in front of the router. Decoding stops at the first
 * filter that answers; encoding runs in reverse order, as Envoy's encoder filters do.
 */
public final class HttpFilterChain {
    private static final HttpFilterChain EMPTY = new HttpFilterChain(List.of());

    private final List<HttpFilter> filters;

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
        for (HttpFilterFactory f : factories) {
            filters.add(f.create(callbacks));
        }
        return new HttpFilterChain(filters);
    }

    /** True when every filter let the request through to the router. */
    public boolean decodeHeaders(HttpRequest request, boolean endStream) {
        for (HttpFilter f : filters) {
            if (f.decodeHeaders(request, endStream) == FilterStatus.STOP_ITERATION) {
                return false;
            }
        }
        return true;
    }

    public void decodeData(HttpContent content, boolean endStream) {
        for (HttpFilter f : filters) {
            f.decodeData(content, endStream);
        }
    }

    public void encodeHeaders(HttpResponse response) {
        for (int i = filters.size() - 1; i >= 0; i--) {
            filters.get(i).encodeHeaders(response);
        }
    }

    public void onStreamComplete() {
        for (HttpFilter f : filters) {
            f.onStreamComplete();
        }
    }
}
