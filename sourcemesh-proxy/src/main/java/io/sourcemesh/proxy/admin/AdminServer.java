package io.sourcemesh.proxy.admin;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerKeepAliveHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.sourcemesh.l4.transport.Transport;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The proxy's admin listener: an HTTP/1.1 server (keep-alive) answering Envoy's admin endpoints
 * from an {@link AdminView}. Not on the data path; requests are small and answered whole.
 */
public final class AdminServer implements AutoCloseable {
    // Admin requests carry no bodies worth the name; this only bounds a misbehaving client.
    private static final int MAX_REQUEST_BYTES = 64 * 1024;

    private final AdminView view;
    private final AdminControl control;
    private final Optional<EventLoopGroup> ownGroup;
    private final ChannelGroup channels = new DefaultChannelGroup("admin", GlobalEventExecutor.INSTANCE);
    private volatile boolean healthCheckFailed;
    private Channel serverChannel;

    private AdminServer(AdminView view, AdminControl control, Optional<EventLoopGroup> ownGroup) {
        this.view = view;
        this.control = control;
        this.ownGroup = ownGroup;
    }

    /** Binds on its own single event-loop thread; POST endpoints only change admin-local state. */
    public static AdminServer start(InetSocketAddress address, AdminView view) {
        return start(address, view, AdminControl.none());
    }

    /** Binds on its own single event-loop thread. */
    public static AdminServer start(InetSocketAddress address, AdminView view, AdminControl control) {
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(1,
                new DefaultThreadFactory("sourcemesh-admin", true), NioIoHandler.newFactory());
        return start(address, view, control, group, Optional.of(group));
    }

    /**
     * Binds on the caller's event loops (NIO, epoll or io_uring), which the caller keeps and shuts down.
     * Requests are answered on those loops: a large {@code /config_dump} then briefly holds a loop
     * that may also carry traffic, which is why the other factories use a thread of their own.
     */
    public static AdminServer start(InetSocketAddress address, AdminView view, AdminControl control,
                                    EventLoopGroup group) {
        return start(address, view, control, group, Optional.empty());
    }

    private static AdminServer start(InetSocketAddress address, AdminView view, AdminControl control,
                                     EventLoopGroup group, Optional<EventLoopGroup> ownGroup) {
        Objects.requireNonNull(address, "address");
        AdminServer server = new AdminServer(Objects.requireNonNull(view, "view"),
                Objects.requireNonNull(control, "control"), ownGroup);
        AdminHandler handler = new AdminHandler(server);
        try {
            server.serverChannel = new ServerBootstrap()
                    .group(group)
                    .channel(Transport.serverChannelType(group))
                    .childHandler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            server.channels.add(ch);
                            ch.pipeline().addLast(
                                    new HttpServerCodec(),
                                    new HttpServerKeepAliveHandler(),
                                    new HttpObjectAggregator(MAX_REQUEST_BYTES),
                                    handler);
                        }
                    })
                    .bind(address).sync().channel();
        } catch (Exception e) {
            ownGroup.ifPresent(g -> g.shutdownGracefully(0, 1, TimeUnit.SECONDS));
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new UncheckedIOException("admin: cannot bind " + address,
                    e instanceof java.io.IOException io ? io : new java.io.IOException(e));
        }
        return server;
    }

    /** The address actually bound (the real port when 0 was asked). */
    public InetSocketAddress localAddress() {
        return (InetSocketAddress) serverChannel.localAddress();
    }

    /** True between {@code POST /healthcheck/fail} and {@code POST /healthcheck/ok}. */
    public boolean healthCheckFailed() {
        return healthCheckFailed;
    }

    /** The state /ready and /server_info report: the view's, or DRAINING while health checks fail. */
    public ServerState state() {
        ServerState state = view.state();
        return healthCheckFailed && state == ServerState.LIVE ? ServerState.DRAINING : state;
    }

    @Override
    public void close() {
        serverChannel.close().syncUninterruptibly();
        channels.close().syncUninterruptibly();
        ownGroup.ifPresent(g -> g.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly());
    }

    AdminView view() {
        return view;
    }

    AdminControl control() {
        return control;
    }

    void healthCheck(boolean failing) {
        healthCheckFailed = failing;
        control.healthCheck(failing);
    }
}
