package io.sourcemesh.cluster.network;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.sourcemesh.l4.ByteRelay;
import io.sourcemesh.l4.transport.Transport;
import io.sourcemesh.l4.SourceBinding;
import io.sourcemesh.l4.UpstreamConnector;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Function;

/**
 * A layer-4 forwarder on one address: each accepted connection is sent where {@link Decision}
 * says, from the source it says (the client's own address keeps the client visible, as kube-proxy's
 * DNAT and a cloud L4 load balancer do; a node address hides it, as kube-proxy's SNAT does).
 * The embedded runtime uses it for service VIPs, NodePorts and the cloud load balancer.
 */
public final class L4Forwarder implements AutoCloseable {

    /**
     * Where one connection goes; empty drops it. {@code preamble} is written upstream before the
     * client's first byte (a cloud load balancer's PROXY protocol header), empty for none.
     */
    public record Decision(InetSocketAddress destination, SourceBinding source, UpstreamConnector connector, byte[] preamble) {
        public Decision(InetSocketAddress destination, SourceBinding source, UpstreamConnector connector) {
            this(destination, source, connector, new byte[0]);
        }
    }

    private final Channel server;

    private L4Forwarder(Channel server) {
        this.server = server;
    }

    public static L4Forwarder start(Transport transport, InetSocketAddress bind,
            Function<InetSocketAddress, Optional<Decision>> decide) {
        ServerBootstrap b = new ServerBootstrap()
                .group(transport.group())
                .channel(transport.serverChannelType())
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.AUTO_READ, false)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new Accepted(decide));
                    }
                });
        return new L4Forwarder(b.bind(bind).syncUninterruptibly().channel());
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) server.localAddress();
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
    }

    private static final class Accepted extends ChannelInboundHandlerAdapter {
        private final Function<InetSocketAddress, Optional<Decision>> decide;

        Accepted(Function<InetSocketAddress, Optional<Decision>> decide) {
            this.decide = decide;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            Channel down = ctx.channel();
            Optional<Decision> d = decide.apply((InetSocketAddress) down.remoteAddress());
            if (d.isEmpty()) {
                down.close();
                return;
            }
            ByteRelay downRelay = ByteRelay.pending(n -> { }, () -> { });
            ctx.pipeline().replace(this, "relay", downRelay);
            d.get().connector().connect(down.eventLoop(), d.get().destination(), d.get().source(), Duration.ofSeconds(5),
                    ByteRelay.to(down, n -> { }, () -> { })).addListener((ChannelFutureListener) f -> {
                        if (!f.isSuccess()) {
                            downRelay.abandon();
                            down.close();
                            return;
                        }
                        byte[] preamble = d.get().preamble();
                        if (preamble.length > 0) {
                            // Before any client byte: the client is not read until the relay is set.
                            f.channel().write(Unpooled.wrappedBuffer(preamble));
                        }
                        downRelay.peer(down.pipeline().context("relay"), f.channel());
                        f.channel().read();
                    });
        }
    }
}
