package io.sourcemesh.proxy.upstream;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.sourcemesh.proxy.transport.Transport;
import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * Opens upstream sockets on the caller's event loop (no cross-thread hand-off), with auto-read
 * off so the relay reads only after its previous write drained, bound as the {@link SourceBinding} says.
 */
public final class UpstreamConnector {
    private final Transport transport;

    public UpstreamConnector(Transport transport) {
        this.transport = transport;
    }

    public ChannelFuture connect(EventLoop loop, InetSocketAddress destination, SourceBinding binding, Duration timeout,
            ChannelHandler handler) {
        Bootstrap b = new Bootstrap()
                .group(loop)
                .channel(transport.channelType())
                .option(ChannelOption.AUTO_READ, false)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()))
                .handler(handler);
        if (binding.transparent()) {
            // Binding a non-local client address (original_src off loopback) needs IP_TRANSPARENT
            // and CAP_NET_ADMIN; the mark routes the reply back to us through the TPROXY rules.
            transport.ipTransparent().ifPresent(o -> b.option(o, true));
            if (binding.mark() != 0 && transport.isEpoll()) {
                b.option(Transport.SO_MARK, binding.mark());
            }
        }
        return binding.address().isPresent() ? b.connect(destination, binding.address().get()) : b.connect(destination);
    }
}
