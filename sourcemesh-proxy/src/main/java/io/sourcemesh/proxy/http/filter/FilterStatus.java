package io.sourcemesh.proxy.http.filter;

/** What a filter's decodeHeaders tells the chain, as Envoy's {@code FilterHeadersStatus}. */
public enum FilterStatus {
    /** The next filter (finally the router) sees the request. */
    CONTINUE,
    /**
     * The chain stops here. A filter returns this only after {@link HttpFilterCallbacks#sendLocalReply}:
     * there is no asynchronous resume (no filter here waits for a service before answering).
     */
    STOP_ITERATION
}
