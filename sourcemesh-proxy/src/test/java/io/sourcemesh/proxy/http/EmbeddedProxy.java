package io.sourcemesh.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.DefaultChannelPromise;
import io.netty.channel.EventLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.sourcemesh.proxy.extension.ExtensionFactories;
import io.sourcemesh.proxy.config.ClusterConfig;
import io.sourcemesh.proxy.config.HttpConnectionManagerConfig;
import io.sourcemesh.proxy.config.RouteConfig;
import io.sourcemesh.proxy.http.filter.HttpFilterFactory;
import io.sourcemesh.proxy.network.ConnectionContext;
import io.sourcemesh.proxy.stats.Stats;
import io.sourcemesh.proxy.testing.Configs;
import io.sourcemesh.proxy.upstream.ClusterManager;
import io.sourcemesh.l4.SourceBinding;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A connection manager with no sockets: the client's connection and every upstream connection
 * are {@link EmbeddedChannel}s, so a test drives both sides byte by byte and sees each state the
 * stream, its router and its upstream requests pass through.
 */
final class EmbeddedProxy implements AutoCloseable {
    static final InetSocketAddress CLIENT = new InetSocketAddress("127.0.0.1", 40000);
    static final InetSocketAddress LISTENER = new InetSocketAddress("127.0.0.1", 10000);

    final Stats stats = new Stats();
    final ClusterManager clusters = new ClusterManager(stats, null, ExtensionFactories.get()::upstreamTransportSocket);
    final HttpConnectionManagerFilter filter;
    /** Every upstream connection asked for, in order. */
    final List<Upstream> upstreams = new ArrayList<>();
    /** When set, a connect completes only when the test says so ({@link Upstream#connected()}). */
    boolean holdConnects;
    private final List<EmbeddedChannel> clients = new ArrayList<>();

    EmbeddedProxy(RouteConfig routes, ClusterConfig... clusterConfigs) {
        this(routes, List.of(), clusterConfigs);
    }

    /** With these HTTP filters before the router. */
    EmbeddedProxy(RouteConfig routes, List<HttpFilterFactory> httpFilters, ClusterConfig... clusterConfigs) {
        this(routes, httpFilters, io.sourcemesh.proxy.listener.DrainDecision.NEVER, clusterConfigs);
    }

    /** Its connection manager asks {@code drain} at each request, as a listener's does. */
    EmbeddedProxy(RouteConfig routes, io.sourcemesh.proxy.listener.DrainDecision drain, ClusterConfig... clusterConfigs) {
        this(routes, List.of(), drain, clusterConfigs);
    }

    private EmbeddedProxy(RouteConfig routes, List<HttpFilterFactory> httpFilters, io.sourcemesh.proxy.listener.DrainDecision drain,
            ClusterConfig... clusterConfigs) {
        clusters.update(List.of(clusterConfigs));
        HttpConnectionManagerConfig hcm = Configs.hcm(routes, false, List.of());
        filter = new HttpConnectionManagerFilter(hcm, clusters, List.of(), httpFilters, stats, InetAddress.getLoopbackAddress(),
                this::connect, drain);
    }

    /** A cluster of the given endpoints with these circuit breakers. */
    static ClusterConfig cluster(String name, ClusterConfig.CircuitBreakers breakers, InetSocketAddress... endpoints) {
        ClusterConfig c = Configs.staticCluster(name, endpoints);
        return new ClusterConfig(c.name(), c.type(), c.lbPolicy(), c.endpoints(), c.connectTimeout(), c.upstreamBindAddress(),
                c.ringHash(), c.idleTimeout(), c.maxRequestsPerConnection(), c.transportSocket(), breakers,
                c.outlierDetection(), c.healthyPanicThreshold());
    }

    static RouteConfig.Forward forward(String cluster, Duration timeout, RouteConfig.RetryPolicy retry) {
        return new RouteConfig.Forward(java.util.Optional.of(cluster), List.of(), java.util.Optional.of(timeout),
                java.util.Optional.empty(), java.util.Optional.empty(), List.of(), java.util.Optional.ofNullable(retry), List.of());
    }

    /** A new client connection, active. */
    EmbeddedChannel client() throws Exception {
        EmbeddedChannel ch = new InetChannel(LISTENER, CLIENT);
        filter.install(ch.pipeline(), new ConnectionContext("test", LISTENER, CLIENT));
        ch.register();
        clients.add(ch);
        return ch;
    }

    /**
     * A new client connection, active, whose parent is a listening channel as an accepted socket's (Netty's HTTP/2
     * multiplexer tells a server's connection by it).
     */
    EmbeddedChannel acceptedClient() throws Exception {
        EmbeddedChannel ch = new InetChannel(new io.netty.channel.local.LocalServerChannel(), LISTENER, CLIENT);
        filter.install(ch.pipeline(), new ConnectionContext("test", LISTENER, CLIENT));
        ch.register();
        clients.add(ch);
        return ch;
    }

    static void send(EmbeddedChannel ch, String bytes) {
        ch.writeInbound(Unpooled.copiedBuffer(bytes, StandardCharsets.ISO_8859_1));
    }

    /** Everything written to the channel since the last call, as text. */
    static String written(EmbeddedChannel ch) {
        StringBuilder sb = new StringBuilder();
        Object o;
        while ((o = ch.readOutbound()) != null) {
            if (o instanceof ByteBuf b) {
                sb.append(b.toString(StandardCharsets.ISO_8859_1));
                b.release();
            }
        }
        return sb.toString();
    }

    static HttpStream stream(EmbeddedChannel client) {
        return ((HttpConnection) client.pipeline().get("http-connection-manager")).stream();
    }

    long counter(String name) {
        return stats.counters().getOrDefault(name, 0L);
    }

    private ChannelFuture connect(EventLoop loop, InetSocketAddress destination, SourceBinding binding, Duration timeout,
            io.sourcemesh.l4.TcpKeepalive keepalive, ChannelHandler initializer) {
        InetChannel ch = new InetChannel(new InetSocketAddress("127.0.0.1", 50000 + upstreams.size()), destination);
        DefaultChannelPromise promise = new DefaultChannelPromise(ch, ImmediateEventExecutor.INSTANCE);
        Upstream up = new Upstream(destination, ch, promise, initializer);
        upstreams.add(up);
        if (!holdConnects) {
            up.connected();
        }
        return promise;
    }

    @Override
    public void close() {
        clients.forEach(EmbeddedChannel::finishAndReleaseAll);
        upstreams.stream().filter(u -> u.channel.isRegistered()).forEach(u -> u.channel.finishAndReleaseAll());
    }

    /** One upstream connection: the request the proxy wrote, and a way to answer. */
    record Upstream(InetSocketAddress destination, EmbeddedChannel channel, DefaultChannelPromise promise, ChannelHandler initializer) {
        /** The connect completes: the proxy's pipeline is installed and the connection is active. */
        void connected() {
            channel.pipeline().addLast(initializer);
            try {
                channel.register();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            promise.setSuccess();
        }

        /** The connect fails (refused). */
        void refused() {
            promise.setFailure(new ConnectException("Connection refused"));
        }

        String request() {
            return written(channel);
        }

        void respond(String bytes) {
            send(channel, bytes);
        }
    }

    /** An embedded channel with socket addresses, as the proxy's code expects of every connection. */
    static final class InetChannel extends EmbeddedChannel {
        private final InetSocketAddress local;
        private final InetSocketAddress remote;

        InetChannel(InetSocketAddress local, InetSocketAddress remote) {
            super(false, true);
            this.local = local;
            this.remote = remote;
        }

        InetChannel(Channel parent, InetSocketAddress local, InetSocketAddress remote) {
            super(parent, io.netty.channel.DefaultChannelId.newInstance(), false, true);
            this.local = local;
            this.remote = remote;
        }

        @Override
        protected SocketAddress localAddress0() {
            return local;
        }

        @Override
        protected SocketAddress remoteAddress0() {
            return remote;
        }
    }
}
