package io.sourcemesh.proxy.http.filter;

/**
 * One configured HTTP filter, built once per config version (immutable, shared by every
 * connection's streams); {@link #create} gives each stream its own {@link HttpFilter}.
 */
public interface HttpFilterFactory {

    /** The filter's {@code name:} in the connection manager's {@code http_filters}. */
    String name();

    HttpFilter create(HttpFilterCallbacks callbacks);
}
