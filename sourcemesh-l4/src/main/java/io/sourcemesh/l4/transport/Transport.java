package io.sourcemesh.l4.transport;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.unix.IntegerUnixChannelOption;
import io.netty.channel.unix.RawUnixChannelOption;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.Optional;

/**
 * The socket layer: native epoll when available (needed for SO_ORIGINAL_DST, IP_TRANSPARENT and
 * SO_MARK), NIO otherwise. One instance per proxy; its event-loop group has one loop per worker.
 */
public final class Transport implements AutoCloseable {
    /** SO_MARK (SOL_SOCKET=1, optname 36): lets kernel rules recognise the proxy's own upstream packets. */
    public static final IntegerUnixChannelOption SO_MARK = new IntegerUnixChannelOption("SO_MARK", 1, 36);
    /** SO_ORIGINAL_DST (SOL_IP=0, optname 80): the pre-REDIRECT destination as a sockaddr_in. */
    private static final RawUnixChannelOption SO_ORIGINAL_DST = new RawUnixChannelOption("SO_ORIGINAL_DST", 0, 80, 16);

    private final boolean epoll;
    private final EventLoopGroup group;

    private Transport(boolean epoll, int workers) {
        this.epoll = epoll;
        IoHandlerFactory factory = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        this.group = new MultiThreadIoEventLoopGroup(workers, new DefaultThreadFactory("sourcemesh-worker", true), factory);
    }

    /** Epoll unless it is unavailable or {@code sourcemesh.transport=nio} asks otherwise. */
    public static Transport create(int workers) {
        boolean useEpoll = Epoll.isAvailable() && !"nio".equals(System.getProperty("sourcemesh.transport"));
        return new Transport(useEpoll, workers);
    }

    public boolean isEpoll() {
        return epoll;
    }

    public EventLoopGroup group() {
        return group;
    }

    public Class<? extends ServerChannel> serverChannelType() {
        return epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }

    public Class<? extends Channel> channelType() {
        return epoll ? EpollSocketChannel.class : NioSocketChannel.class;
    }

    /** Socket option for IP_TRANSPARENT, if this transport has it. */
    public Optional<ChannelOption<Boolean>> ipTransparent() {
        return epoll ? Optional.of(EpollChannelOption.IP_TRANSPARENT) : Optional.empty();
    }

    /**
     * The destination the client originally asked for, before an iptables REDIRECT; empty when
     * the socket was not redirected (the kernel then reports the local address itself) or the
     * transport cannot tell.
     */
    public static Optional<InetSocketAddress> originalDestination(Channel channel) {
        if (!(channel instanceof EpollSocketChannel)) {
            return Optional.empty();
        }
        try {
            ByteBuffer b = channel.config().getOption(SO_ORIGINAL_DST);
            byte[] raw = new byte[b.remaining()];
            b.duplicate().get(raw);
            if (raw.length < 8 || raw[0] != 2 /* sin_family AF_INET, host byte order */) {
                return Optional.empty();
            }
            int port = ((raw[2] & 0xff) << 8) | (raw[3] & 0xff);
            InetAddress address = InetAddress.getByAddress(new byte[] {raw[4], raw[5], raw[6], raw[7]});
            return Optional.of(new InetSocketAddress(address, port));
        } catch (Exception e) {
            return Optional.empty();
        }
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }
}
