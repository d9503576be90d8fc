package io.sourcemesh.proxy.http.filter;

/** What a filter's decodeHeaders tells the chain, as Envoy's {@code FilterHeadersStatus}. */
public enum FilterStatus {
    /** The next filter (finally the router) sees the request. */
    CONTINUE,
    /**
     * The chain stops here: the filter has answered ({@link HttpFilterCallbacks#sendLocalReply}), or
     * will later — on the stream's event loop — either answer or call
     * {@link HttpFilterCallbacks#continueDecoding} to hand the request to the next filter (a fault delay).
     */
    STOP_ITERATION
}
