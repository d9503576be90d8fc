package io.sourcemesh.proxy.tcp;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.sourcemesh.proxy.accesslog.AccessLog;
import io.sourcemesh.proxy.accesslog.ResponseFlag;
import io.sourcemesh.proxy.accesslog.StreamInfo;
import io.sourcemesh.proxy.config.TcpProxyConfig;
import io.sourcemesh.proxy.network.ConnectionContext;
import io.sourcemesh.proxy.network.NetworkFilterFactory;
import io.sourcemesh.proxy.stats.Stats;
import io.sourcemesh.proxy.upstream.ClusterManager;
import io.sourcemesh.proxy.upstream.ClusterRuntime;
import io.sourcemesh.proxy.upstream.SourceBinding;
import io.sourcemesh.proxy.upstream.UpstreamHost;
import io.sourcemesh.proxy.upstream.Upstreams;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * {@code envoy.filters.network.tcp_proxy}: one upstream connection per downstream connection,
 * made on the same event loop, bytes relayed both ways with read-after-write backpressure.
 * The whole connection is one stream for the access log.
 */
public final class TcpProxyFilter implements NetworkFilterFactory {
    private final TcpProxyConfig config;
    private final ClusterManager clusters;
    private final List<AccessLog> accessLogs;
    private final Stats.Counter cxTotal;
    private final Stats.Counter noRoute;

    public TcpProxyFilter(TcpProxyConfig config, ClusterManager clusters, List<AccessLog> accessLogs, Stats stats) {
        this.config = config;
        this.clusters = clusters;
        this.accessLogs = List.copyOf(accessLogs);
        String p = "tcp." + config.statPrefix() + ".";
        this.cxTotal = stats.counter(p + "downstream_cx_total");
        this.noRoute = stats.counter(p + "downstream_cx_no_route");
    }

    @Override
    public void install(ChannelPipeline pipeline, ConnectionContext connection) {
        config.idleTimeout().filter(d -> !d.isZero()).ifPresent(d ->
                pipeline.addLast("idle", new IdleStateHandler(0, 0, d.toMillis(), TimeUnit.MILLISECONDS)));
        pipeline.addLast("tcp_proxy", new Downstream(connection));
    }

    private final class Downstream extends ChannelInboundHandlerAdapter {
        private final ConnectionContext connection;
        private final StreamInfo stream;
        private Channel upstream;
        private boolean logged;
        /** Bytes the client sent before the upstream connection was up (or replayed by listener filters). */
        private final java.util.ArrayDeque<ByteBuf> early = new java.util.ArrayDeque<>();

        Downstream(ConnectionContext connection) {
            this.connection = connection;
            this.stream = connection.newStream();
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            cxTotal.inc();
            Channel downstream = ctx.channel();
            downstream.closeFuture().addListener(f -> finish());
            String clusterName = config.cluster().orElseGet(() -> Upstreams.pickWeighted(config.weightedClusters()));
            ClusterRuntime cluster = clusters.get(clusterName);
            if (cluster == null) {
                noRoute.inc();
                stream.addResponseFlag(ResponseFlag.NO_CLUSTER_FOUND);
                downstream.close();
                return;
            }
            stream.upstreamClusterName(clusterName);
            Optional<UpstreamHost> chosen = cluster.choose(connection.remoteAddress().getAddress().getHostAddress(),
                    connection.localAddress());
            if (chosen.isEmpty()) {
                cluster.noHealthyHost.inc();
                stream.addResponseFlag(ResponseFlag.NO_HEALTHY_UPSTREAM);
                downstream.close();
                return;
            }
            UpstreamHost host = chosen.get();
            stream.upstreamHost(host.address());
            SourceBinding binding = Upstreams.binding(cluster, connection, connection.remoteAddress());
            cluster.cxTotal.inc();
            cluster.cxActive.inc();
            host.connectionOpened();
            clusters.connector().connect(downstream.eventLoop(), host.address(), binding, cluster.config().connectTimeout(),
                    new Relay(downstream, stream, false)).addListener((ChannelFutureListener) f -> {
                        if (!f.isSuccess()) {
                            cluster.cxActive.dec();
                            host.connectionClosed();
                            cluster.cxConnectFail.inc();
                            host.connectFailed();
                            stream.addResponseFlag(ResponseFlag.UPSTREAM_CONNECTION_FAILURE);
                            stream.upstreamTransportFailureReason(String.valueOf(f.cause().getMessage()));
                            downstream.close();
                            return;
                        }
                        upstream = f.channel();
                        upstream.closeFuture().addListener(c -> {
                            cluster.cxActive.dec();
                            host.connectionClosed();
                        });
                        stream.upstreamLocalAddress((InetSocketAddress) upstream.localAddress());
                        if (!downstream.isActive()) {
                            upstream.close();
                            return;
                        }
                        downstream.pipeline().addLast("relay", new Relay(upstream, stream, true));
                        downstream.pipeline().remove(this);
                        while (!early.isEmpty()) {
                            ByteBuf b = early.poll();
                            stream.addBytesReceived(b.readableBytes());
                            upstream.write(b);
                        }
                        upstream.flush();
                        downstream.read();
                        upstream.read();
                    });
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            early.add((ByteBuf) msg);
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof IdleStateEvent) {
                stream.connectionTerminationDetails("idle_timeout");
                ctx.close();
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }

        private void finish() {
            early.forEach(ByteBuf::release);
            early.clear();
            if (!logged) {
                logged = true;
                stream.end();
                for (AccessLog log : accessLogs) {
                    log.log(stream);
                }
            }
        }
    }

    /**
     * Copies what one side reads to the other side, asking for more only when that write has
     * been flushed — the peer's TCP window is our buffer. Closing either side closes both.
     */
    private static final class Relay extends ChannelInboundHandlerAdapter {
        private final Channel peer;
        private final StreamInfo stream;
        private final boolean fromDownstream;

        Relay(Channel peer, StreamInfo stream, boolean fromDownstream) {
            this.peer = peer;
            this.stream = stream;
            this.fromDownstream = fromDownstream;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            int n = ((ByteBuf) msg).readableBytes();
            if (fromDownstream) {
                stream.addBytesReceived(n);
            } else {
                stream.addBytesSent(n);
            }
            peer.writeAndFlush(msg).addListener((ChannelFutureListener) f -> {
                if (f.isSuccess()) {
                    ctx.channel().read();
                } else {
                    f.channel().close();
                    ctx.channel().close();
                }
            });
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (!fromDownstream && peer.isActive()) {
                stream.addResponseFlag(ResponseFlag.UPSTREAM_CONNECTION_TERMINATION);
            }
            // Flush what is queued, then close: the last bytes must reach the peer.
            peer.writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof IdleStateEvent) {
                stream.connectionTerminationDetails("idle_timeout");
                ctx.close();
            }
        }
    }
}
