package io.sourcemesh.proxy.http.filter;

import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpHeaders;
import io.sourcemesh.proxy.accesslog.StreamInfo;
import io.sourcemesh.proxy.network.PeerCertificate;
import io.sourcemesh.proxy.config.RouteConfig;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.function.Consumer;

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

    /** Whether the proxy terminated TLS on this connection (Envoy's {@code connection().ssl()} is set). */
    boolean tlsTerminated();

    /** The certificate the client presented on that TLS connection, or null. */
    PeerCertificate peerCertificate();

    /**
     * Answers the request from the proxy itself and ends the stream; {@code details} becomes
     * {@code %RESPONSE_CODE_DETAILS%}. No response flag is set (Envoy's filters set none for this).
     */
    void sendLocalReply(int status, String body, String details);

    /** As {@link #sendLocalReply(int, String, String)}, with {@code headers} added to the reply (gRPC status). */
    void sendLocalReply(int status, String body, String details, Consumer<HttpHeaders> headers);

    /**
     * The route this request takes (Envoy's cached {@code route()}): resolved once, on first ask, and
     * the router then uses the same one. Empty when no virtual host or route matches.
     */
    Optional<RouteConfig.Route> route();

    /** As {@link #route()}, null when none matches: what a filter asks per stream without an {@code Optional}. */
    default RouteConfig.Route routeOrNull() {
        return route().orElse(null);
    }

    /** The stream's event loop (Envoy's dispatcher): a filter's timers run here, never blocking it. */
    EventLoop eventLoop();

    /**
     * Hands the request on to the filter after the one that returned STOP_ITERATION (and finally the
     * router). Call on the event loop; does nothing once the stream has ended or answered.
     */
    void continueDecoding();
}
