package io.sourcemesh.proxy.tcp;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.ConnectTimeoutException;
import io.sourcemesh.proxy.accesslog.AccessLog;
import io.sourcemesh.proxy.accesslog.LocalCloseReasons;
import io.sourcemesh.proxy.accesslog.ResponseFlag;
import io.sourcemesh.proxy.accesslog.StreamInfo;
import io.sourcemesh.proxy.address.IpLiteral;
import io.sourcemesh.proxy.config.ClusterConfig;
import io.sourcemesh.proxy.config.TcpProxyConfig;
import io.sourcemesh.l4.ByteRelay;
import io.sourcemesh.proxy.network.ConnectionContext;
import io.sourcemesh.proxy.network.NetworkFilterFactory;
import io.sourcemesh.proxy.stats.Stats;
import io.sourcemesh.proxy.upstream.ClusterManager;
import io.sourcemesh.proxy.upstream.ClusterRuntime;
import io.sourcemesh.l4.SourceBinding;
import io.sourcemesh.proxy.upstream.UpstreamHost;
import io.sourcemesh.proxy.upstream.UpstreamTransportSocket;
import io.sourcemesh.proxy.upstream.Upstreams;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;

/**
 * {@code envoy.filters.network.tcp_proxy}: one upstream connection per downstream connection,
 * made on the same event loop, bytes relayed both ways with read-ahead backpressure — or, opted
 * in, in the kernel with splice(2) once both sockets are plain TCP on epoll ({@link Splice}).
 * The whole connection is one stream for the access log.
 */
public final class TcpProxyFilter implements NetworkFilterFactory {
    private final TcpProxyConfig config;
    private final ClusterManager clusters;
    private final List<AccessLog> accessLogs;
    private final Stats.Counter cxTotal;
    private final Stats.Counter noRoute;
    private final Stats.Counter rxBytes;
    private final Stats.Counter txBytes;
    private final Stats.Counter maxDurationReached;
    private final Stats.Counter idleTimeout;
    private final long maxDurationNanos;
    private final Splice.SpliceStats spliceStats;
    private final boolean splice;

    public TcpProxyFilter(TcpProxyConfig config, ClusterManager clusters, List<AccessLog> accessLogs, Stats stats) {
        this.config = config;
        this.clusters = clusters;
        this.accessLogs = List.copyOf(accessLogs);
        String p = "tcp." + config.statPrefix() + ".";
        this.cxTotal = stats.counter(p + "downstream_cx_total");
        this.noRoute = stats.counter(p + "downstream_cx_no_route");
        this.rxBytes = stats.counter(p + "downstream_cx_rx_bytes_total");
        this.txBytes = stats.counter(p + "downstream_cx_tx_bytes_total");
        this.maxDurationReached = stats.counter(p + "max_downstream_connection_duration");
        this.idleTimeout = stats.counter(p + "idle_timeout");
        this.maxDurationNanos = config.maxDownstreamConnectionDuration().map(Duration::toNanos).orElse(0L);
        this.spliceStats = new Splice.SpliceStats(stats.counter(p + "splice_started_total"),
                stats.counter(p + "splice_bytes_total"), stats.counter(p + "splice_fallback_total"));
        this.splice = Splice.enabled();
    }

    @Override
    public void install(ChannelPipeline pipeline, ConnectionContext connection) {
        StreamInfo stream = connection.newStream();
        // Envoy's onIdleTimeout (source/common/tcp_proxy/tcp_proxy.cc) counts tcp.<prefix>.idle_timeout and closes
        // with the connection's local close reason tcp_session_idle_timeout (%DOWNSTREAM_LOCAL_CLOSE_REASON%): no
        // response flag, and %CONNECTION_TERMINATION_DETAILS% stays unset.
        Optional<IdleTimer> idle = config.idleTimeout().filter(d -> !d.isZero())
                .map(d -> new IdleTimer(d, () -> {
                    idleTimeout.inc();
                    stream.downstreamLocalCloseReason(LocalCloseReasons.TCP_SESSION_IDLE_TIMEOUT);
                }));
        idle.ifPresent(t -> pipeline.addLast("idle", t));
        ByteRelay.tune(pipeline.channel()); // bulk-sized reads from the first one on
        pipeline.addLast("tcp_proxy", new Downstream(connection, stream, idle));
    }

    /** Picks the upstream at connect time, then hands the connection to two {@link ByteRelay}s. */
    private final class Downstream extends ChannelInboundHandlerAdapter {
        private final ConnectionContext connection;
        private final StreamInfo stream;
        private final Runnable activity;
        private ScheduledFuture<?> maxDuration;
        private boolean logged;

        Downstream(ConnectionContext connection, StreamInfo stream, Optional<IdleTimer> idle) {
            this.connection = connection;
            this.stream = stream;
            this.activity = idle.<Runnable>map(t -> t::activity).orElse(() -> { });
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
            if (maxDurationNanos > 0) {
                // Envoy's onNewConnection arms it, whatever the upstream does (source/common/tcp_proxy/tcp_proxy.cc).
                maxDuration = downstream.eventLoop().schedule(() -> maxDurationReached(downstream), maxDurationNanos,
                        TimeUnit.NANOSECONDS);
            }
            String clusterName = config.cluster().orElseGet(() -> Upstreams.pickWeighted(config.weightedClusters()));
            ClusterRuntime cluster = clusters.get(clusterName);
            if (cluster == null) {
                noRoute.inc();
                stream.addResponseFlag(ResponseFlag.NO_CLUSTER_FOUND)
                        .downstreamLocalCloseReason(LocalCloseReasons.TCP_INITIALIZATION_NO_ROUTE);
                downstream.close();
                return;
            }
            stream.upstreamClusterName(clusterName);
            // hash_policy source_ip: the remote address after the listener filters (PROXY protocol), as Envoy's
            // SourceIpHashMethod (source/common/network/hash_policy.cc); without one, no key: a hash-based
            // balancer picks at random, as Envoy's tcp_proxy without hash_policy.
            String hashKey = config.hashSourceIp() ? IpLiteral.format(connection.remoteAddress().getAddress().getAddress()) : null;
            Optional<UpstreamHost> chosen = cluster.choose(hashKey, connection.localAddress());
            if (chosen.isEmpty()) {
                cluster.noHealthyHost.inc();
                stream.addResponseFlag(ResponseFlag.NO_HEALTHY_UPSTREAM)
                        .downstreamLocalCloseReason(LocalCloseReasons.TCP_INITIALIZATION_NO_HEALTHY_UPSTREAM);
                downstream.close();
                return;
            }
            UpstreamHost host = chosen.get();
            stream.upstreamHost(host.address()).attemptCount(1); // one connect: max_connect_attempts is refused at load
            SourceBinding binding = Upstreams.binding(cluster, host, connection, connection.remoteAddress());
            // Bytes the client sends while the upstream connects (or waits to) wait in the downstream relay.
            LongConsumer received = n -> {
                stream.addBytesReceived(n);
                rxBytes.add(n);
            };
            LongConsumer sent = n -> {
                stream.addBytesSent(n);
                txBytes.add(n);
            };
            ByteRelay fromClient = ByteRelay.pending(received, () -> { });
            ctx.pipeline().replace(this, "relay", fromClient);
            if (cluster.connectionAllowed(host)) {
                connect(downstream, cluster, host, binding, fromClient, received, sent);
                return;
            }
            // Circuit breakers, as Envoy's TCP connection pool: at max_connections (upstream_cx_overflow counted) the
            // connection waits as a pending request until one of the cluster's closes, or overflows max_pending_requests.
            if (!cluster.circuitBreaker().tryPending()) {
                overflowed(cluster, fromClient, downstream);
                return;
            }
            new PendingConnect(downstream, cluster, host, binding, fromClient, received, sent).queue();
        }

        /**
         * A connection waiting for the circuit breaker's max_connections: it connects when a connection of the cluster
         * on this loop closes, and leaves the queue (its pending slot released) when the client goes first.
         */
        private final class PendingConnect implements ClusterRuntime.PendingRequest {
            private final Channel downstream;
            private final ClusterRuntime cluster;
            private final UpstreamHost host;
            private final SourceBinding binding;
            private final ByteRelay fromClient;
            private final LongConsumer received;
            private final LongConsumer sent;
            private boolean done;

            PendingConnect(Channel downstream, ClusterRuntime cluster, UpstreamHost host, SourceBinding binding,
                    ByteRelay fromClient, LongConsumer received, LongConsumer sent) {
                this.downstream = downstream;
                this.cluster = cluster;
                this.host = host;
                this.binding = binding;
                this.fromClient = fromClient;
                this.received = received;
                this.sent = sent;
            }

            void queue() {
                cluster.addPending(this);
                downstream.closeFuture().addListener(f -> {
                    if (!done) {
                        cluster.removePending(this);
                        release();
                    }
                });
            }

            @Override
            public boolean resume() {
                if (done) {
                    return true;
                }
                if (!downstream.isActive()) {
                    release();
                    return true;
                }
                if (!cluster.connectionAllowed(host)) {
                    return false;
                }
                release();
                connect(downstream, cluster, host, binding, fromClient, received, sent);
                return true;
            }

            private void release() {
                done = true;
                cluster.circuitBreaker().pendingDone();
            }
        }

        /**
         * max_pending_requests overflowed: Envoy's pool fails the connect as a local close, tcp_proxy tries again, finds
         * its one attempt spent and closes — no UF (nothing was refused by the upstream), URX, the init failure.
         */
        private void overflowed(ClusterRuntime cluster, ByteRelay fromClient, Channel downstream) {
            cluster.cxConnectAttemptsExceeded.inc();
            stream.addResponseFlag(ResponseFlag.UPSTREAM_RETRY_LIMIT_EXCEEDED)
                    .downstreamLocalCloseReason(LocalCloseReasons.TCP_INITIALIZATION_CONNECT_FAILED);
            fromClient.abandon();
            downstream.close();
        }

        private void connect(Channel downstream, ClusterRuntime cluster, UpstreamHost host, SourceBinding binding,
                ByteRelay fromClient, LongConsumer received, LongConsumer sent) {
            cluster.tcpConnectionOpened(host);
            ByteRelay fromUpstream = ByteRelay.to(downstream, sent, () -> {
                if (downstream.isActive()) {
                    stream.addResponseFlag(ResponseFlag.UPSTREAM_CONNECTION_TERMINATION);
                }
            });
            var socket = host.transportSocket();
            socket.ready(clusters.connector().connect(downstream.eventLoop(), host.address(), binding, cluster.config().connectTimeout(),
                    cluster.tcpKeepalive(), socket.pipeline(fromUpstream)))
                    .addListener((ChannelFutureListener) f -> {
                        if (!f.isSuccess()) {
                            cluster.connectionClosed(host);
                            // tcp_proxy.cc: a connect timeout is LOCAL_ORIGIN_TIMEOUT, a refused or reset connect
                            // LOCAL_ORIGIN_CONNECT_FAILED (a 504 or a 503 without the split)
                            cluster.outlierLocalOriginFailure(host, f.cause() instanceof ConnectTimeoutException ? 504 : 503);
                            cluster.cxConnectFail.inc();
                            host.connectFailed();
                            // Envoy tries again (onUpstreamEvent while connecting), finds its one attempt spent and
                            // closes: UF then URX, the attempts counter, the init failure as the close reason.
                            cluster.cxConnectAttemptsExceeded.inc();
                            stream.addResponseFlag(ResponseFlag.UPSTREAM_CONNECTION_FAILURE)
                                    .addResponseFlag(ResponseFlag.UPSTREAM_RETRY_LIMIT_EXCEEDED)
                                    .downstreamLocalCloseReason(LocalCloseReasons.TCP_INITIALIZATION_CONNECT_FAILED);
                            stream.upstreamTransportFailureReason(f.cause() instanceof UpstreamTransportSocket.HandshakeFailure tls
                                    ? tls.reason() : String.valueOf(f.cause().getMessage()));
                            fromClient.abandon();
                            downstream.close();
                            return;
                        }
                        cluster.outlierConnectSuccessFinal(host); // onUpstreamEvent Connected: LOCAL_ORIGIN_CONNECT_SUCCESS_FINAL
                        Channel upstream = f.channel();
                        upstream.closeFuture().addListener(c -> cluster.connectionClosed(host));
                        stream.upstreamLocalAddress((InetSocketAddress) upstream.localAddress()).upstreamTls(socket.tlsInfo(upstream));
                        if (config.tunnelingHost().isEmpty()) {
                            relay(downstream, upstream, fromClient, received, sent);
                            return;
                        }
                        if (cluster.config().upstreamHttp().protocol() == ClusterConfig.UpstreamHttp.Protocol.HTTP2) {
                            // Envoy would tunnel over an HTTP/2 stream here; this proxy speaks HTTP/1.1 CONNECT only.
                            tunnelFailed(cluster, downstream, upstream, fromClient,
                                    "tunneling over an HTTP/2 cluster is not supported (HTTP/1.1 CONNECT only)");
                            return;
                        }
                        var tunnel = HttpConnectTunnel.open(upstream, upstream.pipeline().context(fromUpstream),
                                config.tunnelingHost().get());
                        // A client that leaves while the tunnel is asked for takes the upstream connection with it.
                        downstream.closeFuture().addListener(c -> {
                            if (!tunnel.isSuccess()) {
                                upstream.close();
                            }
                        });
                        tunnel.addListener(t -> {
                            if (t.isSuccess()) {
                                relay(downstream, upstream, fromClient, received, sent);
                            } else if (downstream.isActive()) {
                                tunnelFailed(cluster, downstream, upstream, fromClient, t.cause().getMessage());
                            } else {
                                fromClient.abandon();
                            }
                        });
                    });
        }

        /**
         * Envoy's HttpUpstream resets a tunnel its response refused: the pool's failure, so tcp_proxy closes as after a
         * failed connect (UF, URX), the reason as the upstream transport failure reason.
         */
        private void tunnelFailed(ClusterRuntime cluster, Channel downstream, Channel upstream, ByteRelay fromClient, String reason) {
            cluster.cxConnectFail.inc();
            cluster.cxConnectAttemptsExceeded.inc();
            stream.addResponseFlag(ResponseFlag.UPSTREAM_CONNECTION_FAILURE)
                    .addResponseFlag(ResponseFlag.UPSTREAM_RETRY_LIMIT_EXCEEDED)
                    .downstreamLocalCloseReason(LocalCloseReasons.TCP_INITIALIZATION_CONNECT_FAILED)
                    .upstreamTransportFailureReason(reason);
            fromClient.abandon();
            downstream.close();
            upstream.close();
        }

        private void relay(Channel downstream, Channel upstream, ByteRelay fromClient, LongConsumer received, LongConsumer sent) {
            fromClient.peer(downstream.pipeline().context("relay"), upstream);
            upstream.read();
            if (splice && downstream.isOpen()) {
                // Starts in a task of its own, once what the relay holds is written.
                Splice.of(downstream, upstream, received, sent, activity, spliceStats);
            }
        }

        /**
         * Envoy's onMaxDownstreamConnectionDuration: DT, the counter, the downstream closed (and so the upstream) with
         * the local close reason max_connection_duration_reached — not termination details, which stay unset.
         */
        private void maxDurationReached(Channel downstream) {
            if (downstream.isOpen()) {
                maxDurationReached.inc();
                stream.addResponseFlag(ResponseFlag.DURATION_TIMEOUT)
                        .downstreamLocalCloseReason(LocalCloseReasons.MAX_CONNECTION_DURATION_REACHED);
                downstream.close();
            }
        }

        private void finish() {
            if (maxDuration != null) {
                maxDuration.cancel(false);
            }
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
