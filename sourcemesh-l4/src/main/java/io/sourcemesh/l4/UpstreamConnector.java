package io.sourcemesh.l4;

import io.sourcemesh.l4.embedded.Interception;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPromise;
import io.netty.channel.EventLoop;
import io.sourcemesh.l4.transport.NextTurnClose;
import io.sourcemesh.l4.transport.Transport;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;

/**
 * Opens upstream sockets on the caller's event loop (no cross-thread hand-off), with auto-read
 * off so the relay reads only after its previous write drained, bound as the {@link SourceBinding} says.
 */
public final class UpstreamConnector {
    /** The name of every upstream connection's first handler: its closes go through {@link NextTurnClose}. */
    public static final String CLOSE_HANDLER = "next-turn-close";
    private final Transport transport;
    private final Interception interception;
    private final Optional<InetAddress> defaultSource;
    /** Every upstream socket still open, so a proxy that stops can close them all. */
    private final io.netty.channel.group.ChannelGroup open;

    public UpstreamConnector(Transport transport) {
        this(transport, Interception.NONE, Optional.empty());
    }

    /**
     * @param defaultSource the address sockets leave from when nothing else binds them — a pod's
     *                      own IP in the embedded runtime, where the kernel cannot choose it
     */
    public UpstreamConnector(Transport transport, Interception interception, Optional<InetAddress> defaultSource) {
        this(transport, interception, defaultSource, new io.netty.channel.group.DefaultChannelGroup(
                io.netty.util.concurrent.GlobalEventExecutor.INSTANCE));
    }

    private UpstreamConnector(Transport transport, Interception interception, Optional<InetAddress> defaultSource,
            io.netty.channel.group.ChannelGroup open) {
        this.transport = transport;
        this.interception = interception;
        this.defaultSource = defaultSource;
        this.open = open;
    }

    /** This connector for one connection relayed on behalf of {@code peer} ({@link Interception#relayingFor}); same sockets. */
    public UpstreamConnector relayingFor(InetSocketAddress peer) {
        Interception relaying = interception.relayingFor(peer);
        return relaying == interception ? this : new UpstreamConnector(transport, relaying, defaultSource, open);
    }

    /** The peer a relay put on record for the connection {@code source} → {@code destination} ({@link Interception#relayedPeer}). */
    public Optional<InetSocketAddress> relayedPeer(InetSocketAddress source, InetSocketAddress destination) {
        return interception.relayedPeer(source, destination);
    }

    public ChannelFuture connect(EventLoop loop, InetSocketAddress destination, SourceBinding requested, Duration timeout,
            ChannelHandler handler) {
        return connect(loop, destination, requested, timeout, null, handler);
    }

    /** As above, with TCP keepalive on the socket when {@code keepalive} is not null (a cluster's tcp_keepalive). */
    public ChannelFuture connect(EventLoop loop, InetSocketAddress destination, SourceBinding requested, Duration timeout,
            TcpKeepalive keepalive, ChannelHandler handler) {
        // The pod's own address stands in for "the kernel picks"; everything else the binding says
        // (a PROXY header to start with) is kept.
        SourceBinding binding = requested.address().isEmpty() && defaultSource.isPresent()
                ? new SourceBinding(Optional.of(new InetSocketAddress(defaultSource.get(), 0)), false, 0, requested.proxyHeader(),
                        requested.tlsNames())
                : requested;
        Bootstrap b = transport.connectionOptions(new Bootstrap())
                .group(loop)
                .channel(transport.channelType())
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()))
                .handler(new io.netty.channel.ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(handler);
                        if (binding.proxyHeader().isPresent()) {
                            ch.pipeline().addFirst("upstream-proxy-protocol", new ProxyHeaderWriter(binding.proxyHeader().get()));
                        }
                        // First of all: every close of the connection passes it (NextTurnClose says why).
                        ch.pipeline().addFirst(CLOSE_HANDLER, NextTurnClose.handler());
                    }
                });
        if (keepalive != null) {
            transport.keepalive(b, keepalive.probes(), keepalive.time(), keepalive.interval());
        }
        if (binding.transparent()) {
            // Binding a non-local client address (original_src off loopback) needs IP_TRANSPARENT
            // and CAP_NET_ADMIN; the mark routes the reply back to us through the TPROXY rules.
            transport.ipTransparent().ifPresent(o -> b.option(o, true));
            if (binding.mark() != 0 && transport.isNative()) {
                b.option(Transport.SO_MARK, binding.mark());
            }
        }
        Optional<InetSocketAddress> redirect = interception.redirect(destination, binding.address());
        if (redirect.isEmpty()) {
            ChannelFuture f = binding.address().isPresent() ? b.connect(destination, binding.address().get()) : b.connect(destination);
            open.add(f.channel());
            return f;
        }
        // Bind first so the local address is known, record it, then connect: the receiver can
        // never accept before the original destination is on record.
        InetSocketAddress local = binding.address().orElseGet(() -> new InetSocketAddress(anyLocal(redirect.get()), 0));
        ChannelFuture registered = b.register();
        Channel ch = registered.channel();
        open.add(ch);
        ChannelPromise result = ch.newPromise();
        registered.addListener((ChannelFutureListener) r -> {
            if (!r.isSuccess()) {
                result.setFailure(r.cause());
                return;
            }
            ch.bind(local).addListener((ChannelFutureListener) bound -> {
                if (!bound.isSuccess()) {
                    result.setFailure(bound.cause());
                    ch.close();
                    return;
                }
                InetSocketAddress boundTo = (InetSocketAddress) ch.localAddress();
                interception.connected(boundTo, redirect.get(), destination);
                ch.connect(redirect.get()).addListener((ChannelFutureListener) c -> {
                    if (c.isSuccess()) {
                        ch.closeFuture().addListener(closed -> interception.closed(boundTo, redirect.get()));
                        result.setSuccess();
                    } else {
                        interception.abandoned(boundTo, redirect.get());
                        result.setFailure(c.cause());
                        ch.close();
                    }
                });
            });
        });
        return result;
    }

    /** The event loops upstream connections live on (and their per-loop pools). */
    public io.netty.channel.EventLoopGroup loops() {
        return transport.group();
    }

    /** The upstream sockets open now (what a test checks their transport and loop on). */
    public java.util.List<io.netty.channel.Channel> openChannels() {
        return java.util.List.copyOf(open);
    }

    /** Closes every upstream connection (the proxy is stopping). */
    public void closeAll() {
        open.close().awaitUninterruptibly(5, java.util.concurrent.TimeUnit.SECONDS);
    }

    private static InetAddress anyLocal(InetSocketAddress toward) {
        // The kernel would choose the source for us; on loopback 127.0.0.1 is what it picks.
        return toward.getAddress().isLoopbackAddress() ? InetAddress.getLoopbackAddress() : null;
    }
}
