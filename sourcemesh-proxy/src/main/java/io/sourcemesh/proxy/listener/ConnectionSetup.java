package io.sourcemesh.proxy.listener;

import io.sourcemesh.l4.Addresses;
import io.sourcemesh.l4.embedded.OriginalDestinations;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.sourcemesh.proxy.config.ListenerConfig;
import io.sourcemesh.proxy.network.ConnectionContext;
import io.sourcemesh.proxy.network.FilterChain;
import io.sourcemesh.proxy.network.FirstAck;
import io.sourcemesh.proxy.stats.Stats;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * The listener filters of one connection, then filter-chain selection. Started by the listener's
 * handler when the connection becomes active ({@link #start}); runs original_dst and original_src
 * there. Only when a filter needs to see the first bytes (proxy_protocol, tls_inspector) does it join
 * the pipeline, right after the listener's handler, reading and keeping them without consuming; once
 * the chain is chosen it installs the chain's handlers, replays what it read, and removes itself. A
 * connection whose filters need no bytes gets its chain at once, with no handler added and removed.
 */
final class ConnectionSetup extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = Logger.getLogger(ConnectionSetup.class.getName());
    static final long LISTENER_FILTERS_TIMEOUT_SECONDS = 15;

    private final ListenerRuntime listener;
    private final OriginalDestinations originalDestinations;
    private final Stats.Counter noChainMatch;
    private ListenerRuntime.Version version;
    private ConnectionContext connection;
    private CompositeByteBuf buffered;
    /** The listener filters that read the first bytes, in order; {@code inspecting} is the one waiting for more. */
    private List<ListenerFilter> inspectors;
    private int inspecting;
    /** listener_filters_timeout while the filters wait; cancelled when they finish, so a closed connection is not held for 15 s. */
    private io.netty.util.concurrent.ScheduledFuture<?> filtersTimeout;

    ConnectionSetup(ListenerRuntime listener, OriginalDestinations originalDestinations, Stats.Counter noChainMatch) {
        this.listener = listener;
        this.originalDestinations = originalDestinations;
        this.noChainMatch = noChainMatch;
    }

    /**
     * The connection became active: {@code ctx} is the listener's handler's ({@code tag}), first in the pipeline.
     * An exception is the connection's, as a handler's would be: counted, and the connection closed.
     */
    void start(ChannelHandlerContext ctx, ListenerRuntime.Accepted tag) {
        try {
            accept(ctx, tag);
        } catch (Throwable t) {
            release();
            io.sourcemesh.proxy.network.ChannelErrors.caught(ctx, t);
        }
    }

    private void accept(ChannelHandlerContext ctx, ListenerRuntime.Accepted tag) {
        InetSocketAddress local = (InetSocketAddress) ctx.channel().localAddress();
        InetSocketAddress remote = (InetSocketAddress) ctx.channel().remoteAddress();
        if (local == null || remote == null) {
            // The client reset the connection before the transport read its addresses (io_uring's multishot accept
            // asks getpeername after the fact: ENOTCONN). Nothing to serve; past this point a connection without
            // a peer left its descriptor open (ListenerFuzzTest, seed 74618438649061: ~30 of them).
            ctx.close();
            return;
        }
        version = acquire(listener::version);
        if (version == null) {
            ctx.close(); // the listener was removed as it accepted: no version serves it
            return;
        }
        tag.servedBy = version;
        ListenerConfig config = version.config();
        // Where the embedded runtime relayed the connection (a service VIP, its load balancer, kube-proxy), the peer a
        // node's REDIRECT or DNAT would have left: the client's own socket, as the direct peer too.
        connection = new ConnectionContext(config.name(), local, originalDestinations.relayedPeer(ctx.channel()).orElse(remote));
        connection.firstAckDelayed(listener.firstAckDelayed()); // the accepting socket's, whoever serves it below

        if (version.originalDst()) {
            Optional<InetSocketAddress> original = originalDestinations.lookup(ctx.channel());
            if (original.isPresent()) {
                connection.restoreLocalAddress(original.get());
            }
            // A connection made straight to the capture port (not redirected) names the listener
            // itself as its destination; forwarding it would connect the proxy to itself forever.
            if (!config.transparent() && connection.localAddress().getPort() == listener.localAddress().getPort()
                    && sameHost(connection.localAddress(), local)) {
                String name = config.name();
                LOG.fine(() -> "closing connection to " + name + " that was not redirected (would loop)");
                ctx.close();
                return;
            }
        }
        if (config.useOriginalDst() && connection.localAddressRestored()) {
            InetSocketAddress destination = connection.localAddress();
            ListenerRuntime.Version target = acquire(() -> listener.registry().forOriginalDestination(destination).orElse(null));
            if (target == version) {
                version.use().release(); // the second use taken just now
            } else if (target != null) {
                // Envoy's use_original_dst: the listener for the original destination takes over,
                // with its own listener filters and chains.
                ListenerRuntime.Version accepted = version;
                version = target;
                tag.servedBy = version;
                accepted.use().release();
                config = version.config();
            }
        }
        // original_dst ran above (it is shared with use_original_dst); the others come from the extension registry.
        List<ListenerFilter.Factory> factories = version.listenerFilters();
        for (int i = 0, n = factories.size(); i < n; i++) { // indexed, the list made on first need: nothing allocated without filters
            ListenerFilter f = factories.get(i).create();
            if (f.onAccept(connection) == ListenerFilter.Status.CLOSE) {
                ctx.close();
                return;
            }
            if (f.inspectsData()) {
                if (inspectors == null) {
                    inspectors = new ArrayList<>(2);
                }
                inspectors.add(f);
            }
        }
        if (inspectors != null) {
            ctx.pipeline().addAfter(ctx.name(), "listener-filters", this); // reads reach it from here on
            buffered = ctx.alloc().compositeBuffer();
            // Envoy's listener_filters_timeout (15 s) with continue_on_listener_filters_timeout
            // false: a client that never sends what the filters wait for is closed.
            filtersTimeout = ctx.executor().schedule(() -> {
                if (buffered != null && ctx.channel().isActive()) {
                    release();
                    ctx.close();
                }
            }, LISTENER_FILTERS_TIMEOUT_SECONDS, java.util.concurrent.TimeUnit.SECONDS);
            ctx.read();
        } else if (installChain(ctx)) {
            ctx.fireChannelActive(); // from the listener's handler on: the chain's handlers
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (buffered == null) {
            ctx.fireChannelRead(msg);
            return;
        }
        buffered.addComponent(true, (ByteBuf) msg);
        while (inspecting < inspectors.size()) {
            switch (inspectors.get(inspecting).onData(buffered, connection)) {
                case NEED_MORE -> {
                    FirstAck.sendNow(ctx.channel(), connection); // the client may be waiting for it to send the rest
                    ctx.read();
                    return;
                }
                case CLOSE -> {
                    release();
                    ctx.close();
                    return;
                }
                case CONTINUE -> inspecting++;
            }
        }
        dispatch(ctx);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        release();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        release();
        io.sourcemesh.proxy.network.ChannelErrors.caught(ctx, cause);
    }

    /**
     * A use of the version {@code current} names; when it closed between the read and the
     * acquire (a push retired it), the one now serving. Null when none serves.
     */
    private static ListenerRuntime.Version acquire(java.util.function.Supplier<ListenerRuntime.Version> current) {
        ListenerRuntime.Version v = current.get();
        while (v != null && !v.use().acquire()) {
            ListenerRuntime.Version next = current.get();
            if (next == v) {
                return null;
            }
            v = next;
        }
        return v;
    }

    /** The filters that read have what they need: the chain, then what they read, replayed to it. */
    private void dispatch(ChannelHandlerContext ctx) {
        if (!installChain(ctx)) {
            return;
        }
        ChannelPipeline p = ctx.pipeline();
        ByteBuf replay = buffered;
        buffered = null;
        cancelFiltersTimeout();
        p.remove(this);
        p.fireChannelActive();
        if (replay != null && replay.isReadable()) {
            p.fireChannelRead(replay);
            p.fireChannelReadComplete();
        } else if (replay != null) {
            replay.release();
        }
    }

    /**
     * Selects the chain and installs its handlers after {@code ctx}'s; false, and the connection closed, when
     * none matches.
     */
    private boolean installChain(ChannelHandlerContext ctx) {
        Optional<FilterChain> chain = version.selector().select(connection);
        if (chain.isEmpty()) {
            chain = version.defaultChain();
        }
        if (chain.isEmpty()) {
            noChainMatch.inc();
            LOG.fine(() -> "no filter chain matched on " + version.config().name() + " for " + connection.localAddress());
            release();
            ctx.close();
            return false;
        }
        FilterChain c = chain.get();
        c.transportSocket().install(ctx, connection);
        c.filter().install(ctx.pipeline(), connection);
        return true;
    }

    private void release() {
        cancelFiltersTimeout();
        if (buffered != null) {
            buffered.release();
            buffered = null;
        }
    }

    private void cancelFiltersTimeout() {
        if (filtersTimeout != null) {
            filtersTimeout.cancel(false);
            filtersTimeout = null;
        }
    }

    private static boolean sameHost(InetSocketAddress a, InetSocketAddress b) {
        return io.sourcemesh.l4.Addresses.unmapped(a.getAddress())
                .equals(io.sourcemesh.l4.Addresses.unmapped(b.getAddress()));
    }
}
