package io.sourcemesh.proxy.rbac.filter;

import io.sourcemesh.proxy.network.PeerCertificate;
import io.sourcemesh.proxy.rbac.RbacRequest;
import io.sourcemesh.proxy.rbac.RbacEngine;
import io.sourcemesh.proxy.rbac.Decision;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.util.ReferenceCountUtil;
import io.sourcemesh.proxy.config.NetworkRbacConfig;
import io.sourcemesh.proxy.network.ConnectionContext;
import io.sourcemesh.proxy.network.NetworkFilterFactory;
import io.sourcemesh.proxy.stats.Stats;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;

/**
 * {@code envoy.filters.network.rbac} ({@code source/extensions/filters/network/rbac/rbac_filter.cc}):
 * a read filter in front of tcp_proxy or the HTTP connection manager. Like Envoy it decides on
 * data, not on accept: ONE_TIME_ON_FIRST_BYTE once on the first bytes, CONTINUOUS on every read. A
 * denial closes the connection without flushing and records
 * {@code rbac_access_denied_matched_policy[...]} as the connection's termination details.
 */
public final class RbacNetworkFilterFactory implements NetworkFilterFactory {
    private final NetworkRbacConfig config;
    private final RbacEngine engine;

    private RbacNetworkFilterFactory(NetworkRbacConfig config, RbacEngine engine) {
        this.config = config;
        this.engine = engine;
    }

    /** Counters are {@code <stat_prefix>rbac.*} (Istio's {@code tcp.} gives {@code tcp.rbac.allowed}). */
    public static RbacNetworkFilterFactory of(NetworkRbacConfig config, Stats stats) {
        return new RbacNetworkFilterFactory(config, RbacEngine.of(config.rbac(), stats, config.statPrefix()));
    }

    @Override
    public void install(ChannelPipeline pipeline, ConnectionContext connection) {
        pipeline.addLast(new Handler(connection));
    }

    private final class Handler extends ChannelInboundHandlerAdapter {
        private final ConnectionRequest request;
        private boolean shadowDone;
        private boolean denied;

        Handler(ConnectionContext connection) {
            this.request = new ConnectionRequest(connection);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (denied) {
                ReferenceCountUtil.release(msg);
                return;
            }
            boolean continuous = config.enforcement() == NetworkRbacConfig.Enforcement.CONTINUOUS;
            RbacEngine.logChecking("connection", request);
            if (continuous || !shadowDone) {
                engine.shadow(request);
                shadowDone = true;
            }
            Optional<Decision> d = engine.enforce(request);
            d.flatMap(engine::accessLogHint).ifPresent(request.connection::accessLogHint);
            if (d.isPresent() && !d.get().allowed()) {
                denied = true;
                ReferenceCountUtil.release(msg);
                request.connection.terminationDetails(RbacEngine.responseDetail(d.get()));
                ctx.close();
                return;
            }
            if (!continuous) {
                ctx.pipeline().remove(this); // decided once: later bytes go straight on
            }
            ctx.fireChannelRead(msg);
        }
    }

    /** The connection as the engine sees it: addresses and SNI, no headers, no path. */
    private record ConnectionRequest(ConnectionContext connection) implements RbacRequest {
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
            return connection.remoteAddress();
        }

        @Override
        public InetSocketAddress localAddress() {
            return connection.localAddress();
        }

        @Override
        public String requestedServerName() {
            return connection.serverName() == null ? "" : connection.serverName();
        }

        @Override
        public Optional<String> header(String name) {
            return Optional.empty();
        }

        @Override
        public Optional<String> path() {
            return Optional.empty();
        }

        @Override
        public boolean tls() {
            return connection.tlsTerminated();
        }

        @Override
        public List<String> peerPrincipals() {
            PeerCertificate c = connection.peerCertificate();
            return c == null ? RbacRequest.principals(List.of(), List.of(), null)
                    : RbacRequest.principals(c.uriSans(), c.dnsSans(), c.subject());
        }
    }
}
