package io.sourcemesh.proxy.http;

import io.netty.channel.Channel;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpHeaders;
import io.sourcemesh.proxy.accesslog.StreamInfo;
import io.sourcemesh.proxy.config.RouteConfig;
import io.sourcemesh.proxy.http.filter.HttpFilterCallbacks;
import io.sourcemesh.proxy.network.ConnectionContext;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.function.Consumer;

/** One stream's view for its HTTP filters: addresses from the connection and the stream, local replies through the stream. */
final class StreamFilterCallbacks implements HttpFilterCallbacks {
    private final HttpStream stream;
    private final ConnectionContext connection;
    private final StreamInfo info;
    private final Channel channel;

    StreamFilterCallbacks(HttpStream stream, Channel channel, ConnectionContext connection, StreamInfo info) {
        this.stream = stream;
        this.channel = channel;
        this.connection = connection;
        this.info = info;
    }

    @Override
    public StreamInfo streamInfo() {
        return info;
    }

    @Override
    public InetSocketAddress directRemoteAddress() {
        return connection.directRemoteAddress();
    }

    @Override
    public InetSocketAddress connectionRemoteAddress() {
        return connection.remoteAddress();
    }

    @Override
    public InetSocketAddress remoteAddress() {
        return info.downstreamRemoteAddress();
    }

    @Override
    public InetSocketAddress localAddress() {
        return connection.localAddress();
    }

    @Override
    public Optional<String> requestedServerName() {
        return Optional.ofNullable(connection.serverName());
    }

    @Override
    public String scheme() {
        return connection.tlsTerminated() ? "https" : "http";
    }

    @Override
    public boolean tlsTerminated() {
        return connection.tlsTerminated();
    }

    @Override
    public io.sourcemesh.proxy.network.PeerCertificate peerCertificate() {
        return connection.peerCertificate();
    }

    @Override
    public void sendLocalReply(int status, String body, String details) {
        sendLocalReply(status, body, details, h -> { });
    }

    @Override
    public void sendLocalReply(int status, String body, String details, Consumer<HttpHeaders> headers) {
        // No response flag of the stream's own: a filter sets its flags (a fault abort's FI) itself.
        stream.localReply(status, body, null, details, headers);
    }

    @Override
    public Optional<RouteConfig.Route> route() {
        return stream.router().route();
    }

    @Override
    public RouteConfig.Route routeOrNull() {
        return stream.router().routeOrNull();
    }

    @Override
    public EventLoop eventLoop() {
        return channel.eventLoop();
    }

    @Override
    public void continueDecoding() {
        stream.continueDecoding();
    }
}
