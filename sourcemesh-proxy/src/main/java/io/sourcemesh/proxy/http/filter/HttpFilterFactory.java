package io.sourcemesh.proxy.http.filter;

/**
 * One configured HTTP filter, built once per config version (immutable, shared by every
 * connection's streams); {@link #create} gives each stream its own {@link HttpFilter}.
 */
public interface HttpFilterFactory {

    /** The filter's {@code name:} in the connection manager's {@code http_filters}. */
    String name();

    /**
     * This stream's filter, or null when the stream has nothing for it to do (a CORS filter on a route without a
     * policy): the chain then leaves it out, so it costs the stream nothing.
     */
    HttpFilter create(HttpFilterCallbacks callbacks);
}
