package io.sourcemesh.cluster.apps;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerExpectContinueHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.sourcemesh.l4.transport.Transport;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * The built-in stand-in for the {@code httpbin} image (kennethreitz/httpbin under gunicorn, as
 * {@code docker.io/citizenstig/httpbin} ships it). It listens on exactly the address it is given, so
 * the peer it reports in {@code /ip} is the real socket peer — the thing SourceMesh exists to keep.
 */
public final class HttpbinApp implements AutoCloseable {
    private final Channel server;
    private final ChannelGroup connections;

    private HttpbinApp(Channel server, ChannelGroup connections) {
        this.server = server;
        this.connections = connections;
    }

    /** Binds {@code bind} (port 0 picks one) on {@code group}'s transport, io_uring, epoll or NIO. */
    public static HttpbinApp start(InetSocketAddress bind, EventLoopGroup group) {
        return start(bind, group, null);
    }

    /**
     * As {@link #start(InetSocketAddress, EventLoopGroup)}, with one gunicorn access-log line per
     * request. {@code log} is called on the group's event-loop threads, so it must be thread-safe and quick.
     */
    public static HttpbinApp start(InetSocketAddress bind, EventLoopGroup group, Consumer<String> log) {
        Objects.requireNonNull(bind, "bind");
        Objects.requireNonNull(group, "group");
        ChannelGroup connections = new DefaultChannelGroup("httpbin", GlobalEventExecutor.INSTANCE);
        String host = bind.getHostString().contains(":") ? "[" + bind.getHostString() + "]" : bind.getHostString();
        String serverName = host + (bind.getPort() == 80 ? "" : ":" + bind.getPort());
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(Transport.serverChannelType(group))
                .option(ChannelOption.SO_REUSEADDR, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        connections.add(ch);
                        ch.pipeline().addLast(new HttpServerCodec(), new HttpServerExpectContinueHandler(),
                                new HttpbinHandler(log, serverName));
                    }
                });
        try {
            Channel server = bootstrap.bind(bind).sync().channel();
            return new HttpbinApp(server, connections);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while binding httpbin to " + bind, e);
        } catch (Exception e) {
            if (e instanceof IOException io) {
                throw new UncheckedIOException("httpbin cannot listen on " + bind + ": " + io.getMessage(), io);
            }
            throw e;
        }
    }

    /** The bound address: the given one, with the real port when 0 was asked for. */
    public InetSocketAddress address() {
        return (InetSocketAddress) server.localAddress();
    }

    /** Stops listening and drops open connections (a pod being killed, not drained). */
    @Override
    public void close() {
        server.close().syncUninterruptibly();
        connections.close().awaitUninterruptibly();
    }
}
