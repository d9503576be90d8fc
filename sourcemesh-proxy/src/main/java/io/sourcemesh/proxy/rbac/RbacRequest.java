package io.sourcemesh.proxy.rbac;

import java.net.InetSocketAddress;
import java.util.Optional;

/**
 * What a policy is evaluated against: the addresses of a connection, and for HTTP the request's
 * headers and path. A network filter's request has no headers and no path.
 */
public interface RbacRequest {

    /** The TCP peer ({@code direct_remote_ip}). */
    InetSocketAddress directRemoteAddress();

    /** The connection's remote address: the peer or a PROXY protocol source ({@code source_ip}). */
    InetSocketAddress connectionRemoteAddress();

    /** The client after XFF handling ({@code remote_ip}); for a connection, its remote address. */
    InetSocketAddress remoteAddress();

    /** The destination ({@code destination_ip}, {@code destination_port}). */
    InetSocketAddress localAddress();

    /** SNI; Envoy matches an absent one as the empty string. */
    String requestedServerName();

    /**
     * Every value of a header joined with "," (Envoy's {@code getAllOfHeaderAsString}); the pseudo
     * headers {@code :path}, {@code :method}, {@code :authority} and {@code :scheme} included.
     */
    Optional<String> header(String name);

    /** {@code :path}, when this is an HTTP request. */
    Optional<String> path();
}
