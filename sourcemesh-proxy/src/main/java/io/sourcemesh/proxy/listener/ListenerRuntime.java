package io.sourcemesh.proxy.listener;

import io.sourcemesh.l4.embedded.OriginalDestinations;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelOption;
import io.netty.channel.ReflectiveChannelFactory;
import io.sourcemesh.proxy.config.ListenerConfig;
import io.sourcemesh.proxy.config.ListenerFilterConfig;
import io.sourcemesh.proxy.network.FilterChain;
import io.sourcemesh.proxy.network.FilterChainSelector;
import io.sourcemesh.proxy.network.FirstAck;
import io.sourcemesh.proxy.stats.Stats;
import io.sourcemesh.l4.transport.SharedLocalAddress;
import io.sourcemesh.l4.transport.Transport;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;

/**
 * A bound listener. Its serving version ({@link Version}) can be swapped without rebinding when
 * the address is unchanged: connections accepted earlier keep the chains they were given (drain),
 * new ones get the new version.
 */
public final class ListenerRuntime implements AutoCloseable {
    private static final java.util.logging.Logger LOG = java.util.logging.Logger.getLogger(ListenerRuntime.class.getName());
    private final Transport transport;
    private final Stats stats;
    private final OriginalDestinations originalDestinations;
    private final Registry registry;
    private final java.util.Optional<java.net.InetAddress> wildcardAddress;
    private volatile Version version;
    private Channel serverChannel;
    /** The listening socket's TCP_QUICKACK is off: what connections accepted now inherit ({@link FirstAck}). */
    private volatile boolean firstAckDelayed;
    /** The connections open now; each leaves in {@link Accepted} (no close-future listener per connection). */
    private final OpenConnections connections = new OpenConnections();
    /** The listener's counters, which its connections' {@link Accepted} reach through it (set by {@link #bind}). */
    private io.sourcemesh.proxy.network.ChannelErrors.Counters errors;
    private Stats.Counter cxTotal;
    private Stats.Gauge cxActive;
    private Stats.Counter noChainMatch;
    /** One local-address object for the connections accepted on one address (Netty makes one each). */
    private final SharedLocalAddress localAddresses = new SharedLocalAddress();

    /**
     * One config version of this listener, with its filter chains built; {@code use} counts who still
     * uses it and closes what it owns (its access logs) once it is retired and unused.
     */
    public record Version(ListenerConfig config, List<FilterChain> chains, Optional<FilterChain> defaultChain,
            FilterChainSelector<FilterChain> selector, List<ListenerFilter.Factory> listenerFilters, VersionUse use,
            boolean originalDst) {
        /**
         * {@code originalDst}: whether connections look up their original destination (use_original_dst or the
         * original_dst listener filter), decided once here, not per connection.
         * {@code listenerFilters}: built from the config's listener filters by the extension registry, in
         * the order they run; {@code owned}: what the version starts once served and closes once retired and unused
         * (its access logs, its filters' fetches).
         */
        public static Version of(ListenerConfig config, List<FilterChain> chains, Optional<FilterChain> defaultChain,
                List<ListenerFilter.Factory> listenerFilters, VersionResources owned) {
            return new Version(config, chains, defaultChain, new FilterChainSelector<>(chains, c -> c.config().match()),
                    List.copyOf(listenerFilters), VersionUse.owning(owned),
                    config.useOriginalDst() || config.listenerFilter(ListenerFilterConfig.OriginalDst.class).isPresent());
        }
    }

    /**
     * The other listeners of the same proxy, for use_original_dst: a connection accepted here is
     * handed to the listener configured for its original destination (Istio's virtualOutbound
     * hands connections to 0.0.0.0_8000 and the like, which do not bind a port of their own).
     */
    @FunctionalInterface
    public interface Registry {
        Optional<Version> forOriginalDestination(InetSocketAddress destination);
    }

    public ListenerRuntime(Transport transport, Stats stats, OriginalDestinations originalDestinations, Registry registry,
            java.util.Optional<java.net.InetAddress> wildcardAddress, Version version) {
        this.transport = transport;
        this.stats = stats;
        this.originalDestinations = originalDestinations;
        this.registry = registry;
        this.wildcardAddress = wildcardAddress;
        this.version = version;
    }

    Registry registry() {
        return registry;
    }

    public String name() {
        return version.config().name();
    }

    public ListenerConfig config() {
        return version.config();
    }

    /** True when {@code next} can be served by this bound socket (same address and socket options). */
    public boolean canServe(ListenerConfig next) {
        ListenerConfig c = version.config();
        return c.address().equals(next.address()) && c.transparent() == next.transparent();
    }

    public void update(Version next) {
        delayFirstAck(next.config());
        this.version = next;
    }

    /**
     * Sets the bound socket's TCP_QUICKACK to what {@code c} asks ({@link FirstAck}: off when it speaks only HTTP, on a
     * native transport). Only once bound: listen() resets a socket's delayed-ACK state, so set before, it would not last.
     */
    private void delayFirstAck(ListenerConfig c) {
        boolean delay = transport.isNative() && FirstAck.delayedBy(c);
        if (serverChannel != null && delay != firstAckDelayed) { // not bound yet: bind() sets it
            serverChannel.config().setOption(Transport.TCP_QUICKACK, delay ? 0 : 1);
            firstAckDelayed = delay;
        }
    }

    /** Whether a connection accepted now delays its first ACK (the listening socket's setting). */
    boolean firstAckDelayed() {
        return firstAckDelayed;
    }

    /**
     * The listener's handler on each accepted channel, first in its pipeline: its counters and the
     * listener version serving the connection (after any use_original_dst hand-off), read by
     * {@link #drain} from another thread; and the connection's one close handler. On
     * channelUnregistered, which Netty fires after every handler's channelInactive, it runs the HTTP
     * handler's close hook, counts the connection out of downstream_cx_active and the listener's open
     * set, and gives back its use of the version serving it (taken by {@link ConnectionSetup}) — so the
     * connection's last access-log lines are written before its version may close its logs; in place of
     * close-future listeners, which cost each connection a listener list.
     */
    static final class Accepted extends io.sourcemesh.proxy.network.ChannelErrors.Tag
            implements io.sourcemesh.proxy.network.ByteTransparent {
        volatile Version servedBy;
        private final ListenerRuntime listener;
        final Channel channel;
        /** Its links in the listener's {@link OpenConnections} (guarded by that set). */
        Accepted prev;
        Accepted next;

        Accepted(ListenerRuntime listener, Channel channel) {
            this.listener = listener;
            this.channel = channel;
        }

        /** Not {@code @Sharable}: answered here, not looked up in Netty's per-thread class map when added (once per connection). */
        @Override
        public boolean isSharable() {
            return false;
        }

        @Override
        public io.sourcemesh.proxy.network.ChannelErrors.Counters counters() {
            return listener.errors;
        }

        /**
         * The connection became active: its listener filters and chain. Once: the filters that read fire it again for
         * the chain when they are done, and by then a version serves the connection (no field of its own for "started").
         */
        @Override
        public void channelActive(io.netty.channel.ChannelHandlerContext ctx) {
            if (servedBy != null) {
                ctx.fireChannelActive();
                return;
            }
            new ConnectionSetup(listener, listener.originalDestinations, listener.noChainMatch).start(ctx, this);
        }

        /**
         * Every close of the connection passes here, its first handler: on io_uring it is carried out on the loop's next
         * turn, so one issued while a read is handled reaches the client at once (NextTurnClose says why). The only
         * outbound operation this handler takes: writes and reads pass it by.
         */
        @Override
        public void close(io.netty.channel.ChannelHandlerContext ctx, io.netty.channel.ChannelPromise promise) {
            io.sourcemesh.l4.transport.NextTurnClose.close(ctx, promise);
        }

        /** Registered: counted and in the open set (what {@link #closed} undoes). */
        @Override
        public void handlerAdded(io.netty.channel.ChannelHandlerContext ctx) {
            listener.cxTotal.inc();
            listener.cxActive.inc();
            listener.connections.add(this);
            if (listener.draining) { // after joining the set: startDrain either saw this connection or is seen here
                ctx.channel().attr(DRAINING).set(Boolean.TRUE);
            }
        }

        @Override
        public void channelUnregistered(io.netty.channel.ChannelHandlerContext ctx) {
            if (ctx.channel().isOpen()) {
                // Taken out of Netty's epoll set while open (tcp_proxy's splice), not closing: the use stays.
                ctx.fireChannelUnregistered();
                return;
            }
            closed(ctx.channel());
            ctx.fireChannelUnregistered();
        }

        /** The connection closed: the hook, the listener's count and set, then the version's use. */
        private void closed(Channel ch) {
            runCloseHook(ch);
            listener.cxActive.dec();
            listener.connections.remove(this);
            Version served = servedBy;
            if (served != null) {
                servedBy = null;
                served.use().release();
            }
        }
    }

    /**
     * Drains connections served by a listener whose config changed, as Envoy does on a listener
     * update: idle HTTP connections close now, busy ones after their current request, so the next
     * request opens a connection that gets the new filter chains.
     */
    public void drain(java.util.Set<String> changedListeners) {
        for (Accepted accepted : connections.snapshot()) {
            Version served = accepted.servedBy;
            if (served != null && changedListeners.contains(served.config().name())) {
                accepted.channel.pipeline().fireUserEventTriggered(Drain.INSTANCE);
            }
        }
    }

    /**
     * Drains every connection this listener accepted, as Envoy drains a removed listener's: HTTP/1 closes idle
     * connections and busy ones after their request, HTTP/2 starts its GOAWAY sequence; other filters take no part.
     */
    public void drainAll() {
        drainConnections(false);
    }

    /**
     * The drain event to every open connection; {@code mark}ed ones also carry {@link #DRAINING}, for a connection still
     * in its listener filters or TLS handshake, which has no HTTP manager to hear the event yet: the manager reads the
     * mark when it is added.
     */
    private void drainConnections(boolean mark) {
        for (Accepted accepted : connections.snapshot()) {
            if (mark) {
                accepted.channel.attr(DRAINING).set(Boolean.TRUE);
            }
            accepted.channel.pipeline().fireUserEventTriggered(Drain.INSTANCE);
        }
    }

    /**
     * The accepted connections' receive-size predictor settings, one instance for all: each channel
     * would otherwise get its own (32 bytes per connection). The same guesses as epoll's, io_uring's
     * and NIO's own default (Netty's adaptive sizes, 16 reads per read()); each channel keeps its own
     * handle, a compact one (40 bytes against Netty's 112, which every idle connection holds).
     */
    static final io.netty.channel.RecvByteBufAllocator RECV_ALLOCATOR = new io.sourcemesh.l4.transport.CompactRecvAllocator(16);

    /** The user event that asks a connection's filters to finish up and close. */
    public enum Drain { INSTANCE }

    /**
     * Set on a connection accepted while its listener drains (a graceful {@code /drain_listeners} keeps
     * accepting for the drain time): its HTTP connection manager starts out draining, as Envoy's, whose drain
     * decision is the server's — HTTP/1 closes after its first response, HTTP/2 starts its GOAWAY sequence.
     */
    public static final io.netty.util.AttributeKey<Boolean> DRAINING = io.netty.util.AttributeKey.valueOf("sourcemesh.draining");

    /** True once {@link #startDrain} ran: connections accepted from then on start out draining. */
    private volatile boolean draining;

    /**
     * Envoy's server drain for this listener ({@code /drain_listeners}): every connection open now drains
     * (as {@link #drainAll}) and every one accepted from now on starts out draining, until {@link #close} stops
     * the accepting. False when it already drains.
     */
    public boolean startDrain() {
        if (draining) {
            return false;
        }
        draining = true;
        drainConnections(true);
        return true;
    }

    /** True once {@link #stop} ran: the socket is closed and the proxy never binds this listener again. */
    private volatile boolean stopped;

    /** Envoy's stopListener ({@code /drain_listeners}): no more accepting; accepted connections go on. */
    public void stop() {
        stopped = true;
        close();
    }

    public boolean stopped() {
        return stopped;
    }

    Version version() {
        return version;
    }

    public void bind() {
        ListenerConfig c = version.config();
        String statName = "listener." + statAddress(c.address()) + ".";
        cxTotal = stats.counter(statName + "downstream_cx_total");
        cxActive = stats.gauge(statName + "downstream_cx_active");
        noChainMatch = stats.counter(statName + "no_filter_chain_match");
        errors = io.sourcemesh.proxy.network.ChannelErrors.Counters.of(stats, statName);
        Channel server = new ReflectiveChannelFactory<>(transport.serverChannelType()).newChannel();
        setOption(server, ChannelOption.SO_BACKLOG, 4096);
        setOption(server, ChannelOption.SO_REUSEADDR, true);
        if (c.transparent()) {
            // A transparent listener accepts connections for addresses that are not local (TPROXY).
            transport.ipTransparent().ifPresent(o -> setOption(server, o, true));
        }
        // No TCP_NODELAY for accepted sockets: io_uring's, epoll's and NIO's channel configs already set it on every
        // accepted socket, and asking again is a second setsockopt per connection (TransportEndToEndTest checks it is on).
        server.pipeline().addLast("acceptor", new Acceptor(this, transport));
        try {
            transport.group().register(server).syncUninterruptibly();
        } catch (RuntimeException e) {
            server.unsafe().closeForcibly();
            throw e;
        }
        server.bind(bindAddress(c.address())).addListener(ChannelFutureListener.CLOSE_ON_FAILURE).syncUninterruptibly();
        serverChannel = server;
        delayFirstAck(c);
    }

    /**
     * A connection just accepted, not yet registered ({@link Acceptor}): the listener's handler, which starts its
     * {@link ConnectionSetup} once it is active. It is counted and joins the open set when registered
     * ({@link Accepted#handlerAdded}), so one whose registration fails is never counted.
     */
    void accepted(Channel ch) {
        localAddresses.share(ch); // before anything asks the channel for its address
        ch.pipeline().addLast("connection-closed", new Accepted(this, ch));
    }

    private static <T> void setOption(Channel ch, ChannelOption<T> option, T value) {
        if (!ch.config().setOption(option, value)) {
            LOG.warning(() -> "unknown channel option " + option + " for " + ch);
        }
    }

    /** A wildcard address means "this host"; in a pod emulated on loopback, the pod's own IP. */
    private InetSocketAddress bindAddress(InetSocketAddress configured) {
        if (wildcardAddress.isPresent() && configured.getAddress() != null && configured.getAddress().isAnyLocalAddress()) {
            return new InetSocketAddress(wildcardAddress.get(), configured.getPort());
        }
        return configured;
    }

    /** The address actually bound (the real port when port 0 was asked). */
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) serverChannel.localAddress();
    }

    /** Stops accepting; connections already accepted run to completion (see {@link #closeConnections}). */
    @Override
    public void close() {
        if (serverChannel != null) {
            serverChannel.close().syncUninterruptibly();
        }
    }

    /** The downstream connections open now (what a test checks their transport on). */
    java.util.List<io.netty.channel.Channel> openConnections() {
        return connections.channels();
    }

    /** Closes every connection this listener accepted (the proxy is going away). */
    public void closeConnections() {
        java.util.List<Channel> open = connections.channels();
        open.forEach(Channel::close);
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
        for (Channel ch : open) {
            long left = deadline - System.nanoTime();
            if (left <= 0 || !ch.closeFuture().awaitUninterruptibly(left, java.util.concurrent.TimeUnit.NANOSECONDS)) {
                return;
            }
        }
    }

    /** Envoy's stat name for a listener address: {@code 0.0.0.0_15006}. */
    public static String statAddress(InetSocketAddress a) {
        String host = a.getAddress() == null ? a.getHostString() : a.getAddress().getHostAddress();
        return host + "_" + a.getPort();
    }
}
