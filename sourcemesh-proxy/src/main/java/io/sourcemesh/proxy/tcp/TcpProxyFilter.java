package io.sourcemesh.proxy.tcp;

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
import io.sourcemesh.proxy.network.ByteRelay;
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
        StreamInfo stream = connection.newStream();
        config.idleTimeout().filter(d -> !d.isZero()).ifPresent(d ->
                pipeline.addLast("idle", new IdleStateHandler(0, 0, d.toMillis(), TimeUnit.MILLISECONDS) {
                    @Override
                    protected void channelIdle(ChannelHandlerContext ctx, IdleStateEvent evt) {
                        stream.connectionTerminationDetails("idle_timeout");
                        ctx.close();
                    }
                }));
        pipeline.addLast("tcp_proxy", new Downstream(connection, stream));
    }

    /** Picks the upstream at connect time, then hands the connection to two {@link ByteRelay}s. */
    private final class Downstream extends ChannelInboundHandlerAdapter {
        private final ConnectionContext connection;
        private final StreamInfo stream;
        private boolean logged;

        Downstream(ConnectionContext connection, StreamInfo stream) {
            this.connection = connection;
            this.stream = stream;
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            io.sourcemesh.proxy.network.ChannelErrors.caught(ctx, cause); // counted, logged at debug, closed
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
            // Bytes the client sends while the upstream connects wait in the downstream relay.
            ByteRelay fromClient = ByteRelay.pending(stream::addBytesReceived, () -> { });
            ctx.pipeline().replace(this, "relay", fromClient);
            ByteRelay fromUpstream = ByteRelay.to(downstream, stream::addBytesSent, () -> {
                if (downstream.isActive()) {
                    stream.addResponseFlag(ResponseFlag.UPSTREAM_CONNECTION_TERMINATION);
                }
            });
            clusters.connector().connect(downstream.eventLoop(), host.address(), binding, cluster.config().connectTimeout(),
                    fromUpstream).addListener((ChannelFutureListener) f -> {
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
                        Channel upstream = f.channel();
                        upstream.closeFuture().addListener(c -> {
                            cluster.cxActive.dec();
                            host.connectionClosed();
                        });
                        stream.upstreamLocalAddress((InetSocketAddress) upstream.localAddress());
                        fromClient.peer(downstream.pipeline().context("relay"), upstream);
                        upstream.read();
                    });
        }

        private void finish() {
            if (!logged) {
                logged = true;
                if (stream.connectionTerminationDetails() == null) {
                    connection.terminationDetails().ifPresent(stream::connectionTerminationDetails);
                }
                connection.accessLogHint().ifPresent(stream::accessLogHint);
                stream.end();
                for (AccessLog log : accessLogs) {
                    log.log(stream);
                }
            }
        }
    }
}
