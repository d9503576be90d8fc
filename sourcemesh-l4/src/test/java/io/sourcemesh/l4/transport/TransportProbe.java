package io.sourcemesh.l4.transport;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A child JVM for {@link LockedMemoryFallbackTest}: makes a {@link Transport} as a proxy does, echoes
 * one message through a server and a client on it over loopback, and prints what ran (and, with
 * {@code -Dio.netty.native.workdir}, the native libraries Netty extracted there).
 */
public final class TransportProbe {
    private TransportProbe() {
    }

    public static void main(String[] args) throws Exception {
        Transport t = Transport.create(2);
        try {
            Channel server = new ServerBootstrap().group(t.group()).channel(t.serverChannelType())
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                                @Override
                                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                    ctx.writeAndFlush(msg);
                                }
                            });
                        }
                    }).bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
            CompletableFuture<String> echoed = new CompletableFuture<>();
            Channel client = new Bootstrap().group(t.group()).channel(t.channelType())
                    .handler(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            ByteBuf b = (ByteBuf) msg;
                            echoed.complete(b.toString(StandardCharsets.US_ASCII));
                            b.release();
                        }
                    }).connect(server.localAddress()).sync().channel();
            client.writeAndFlush(Unpooled.copiedBuffer("ping", StandardCharsets.US_ASCII)).sync();
            System.out.println("echo=" + echoed.get(10, TimeUnit.SECONDS));
            System.out.println("channel=" + client.getClass().getSimpleName());
            System.out.println("transport=" + t.description());
            String natives = System.getProperty("io.netty.native.workdir");
            if (natives != null) { // what Netty extracted there (deleted at exit: listed now)
                try (Stream<Path> files = Files.list(Path.of(natives))) {
                    System.out.println("natives=" + files.map(f -> f.getFileName().toString()).sorted().toList());
                }
            }
            client.close().sync();
            server.close().sync();
        } finally {
            t.close();
        }
    }
}
