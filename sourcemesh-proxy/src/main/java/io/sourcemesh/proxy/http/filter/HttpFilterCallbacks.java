package io.sourcemesh.proxy.http.filter;

import io.sourcemesh.proxy.accesslog.StreamInfo;
import java.net.InetSocketAddress;
import java.util.Optional;

/**
 * What the connection manager gives a filter for one stream (Envoy's
 * {@code StreamDecoderFilterCallbacks}): the stream's info and the addresses a policy decides on.
 */
public interface HttpFilterCallbacks {

    StreamInfo streamInfo();

    /** The TCP peer, never rewritten (Envoy's {@code downstreamDirectRemoteAddress}). */
    InetSocketAddress directRemoteAddress();

    /**
     * The connection's remote address: the peer, or the source a PROXY protocol header named
     * (Envoy's {@code connection().remoteAddress()}, what RBAC's deprecated {@code source_ip} reads).
     */
    InetSocketAddress connectionRemoteAddress();

    /** The client after XFF / use_remote_address handling (Envoy's {@code downstreamRemoteAddress}). */
    InetSocketAddress remoteAddress();

    /** The destination the client asked for (the original destination when restored). */
    InetSocketAddress localAddress();

    /** SNI, when the connection had one. */
    Optional<String> requestedServerName();

    /** The scheme the request came in with ({@code http} or {@code https}). */
    String scheme();

    /**
     * Answers the request from the proxy itself and ends the stream; {@code details} becomes
     * {@code %RESPONSE_CODE_DETAILS%}. No response flag is set (Envoy's filters set none for this).
     */
    void sendLocalReply(int status, String body, String details);
}
