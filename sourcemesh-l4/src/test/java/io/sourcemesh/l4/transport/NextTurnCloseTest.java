package io.sourcemesh.l4.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPromise;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A close issued while a connection's read is handled reaches a client that sent its bytes and only waits, at once
 * (well within 2 s), on io_uring as on epoll: a raw socket against a server whose first handler closes through
 * {@link NextTurnClose}, as the proxy's does. Without it, io_uring's "reply, ask for the next read, close" case
 * holds the connection until the client sends again.
 */
class NextTurnCloseTest {
    private static final int BOUND_MILLIS = 2_000;

    @ParameterizedTest
    @CsvSource({
        "io_uring,replyReadClose", "io_uring,readClose", "io_uring,replyClose", "io_uring,close", "io_uring,replyThenClose",
        "epoll,replyReadClose", "epoll,readClose", "epoll,replyClose", "epoll,close", "epoll,replyThenClose"})
    void aCloseFromAReadReachesAWaitingClient(String kind, String how) throws Exception {
        assumeTrue(!kind.equals("io_uring") || IoUring.isAvailable(), () -> "io_uring unavailable: " + IoUring.unavailabilityCause());
        assumeTrue(!kind.equals("epoll") || Epoll.isAvailable(), () -> "epoll unavailable: " + Epoll.unavailabilityCause());
        Consumer<ChannelHandlerContext> onRead = switch (how) {
            // a 400-and-close as an HTTP codec does it: the reply in the ring, the next read asked for, then the close
            case "replyReadClose" -> ctx -> {
                ctx.writeAndFlush(reply());
                ctx.read();
                ctx.channel().close();
            };
            case "readClose" -> ctx -> {
                ctx.read();
                ctx.channel().close();
            };
            case "replyClose" -> ctx -> {
                ctx.writeAndFlush(reply());
                ctx.channel().close();
            };
            case "close" -> ctx -> ctx.close();
            case "replyThenClose" -> ctx -> ctx.writeAndFlush(reply()).addListener(ChannelFutureListener.CLOSE);
            default -> throw new IllegalArgumentException(how);
        };
        try (Transport t = Transport.create(kind, 1)) {
            assertEquals(kind, t.kind().label());
            Channel server = new ServerBootstrap().group(t.group()).channel(t.serverChannelType())
                    .childOption(ChannelOption.AUTO_READ, false)
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(new FirstHandler(), new ChannelInboundHandlerAdapter() {
                                @Override
                                public void channelActive(ChannelHandlerContext ctx) {
                                    ctx.read();
                                }

                                @Override
                                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                                    ReferenceCountUtil.release(msg);
                                    onRead.accept(ctx);
                                }
                            });
                        }
                    })
                    .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
            try (Socket s = new Socket()) {
                s.connect(server.localAddress());
                s.getOutputStream().write("GET\n".getBytes(StandardCharsets.US_ASCII));
                s.setSoTimeout(BOUND_MILLIS);
                long start = System.nanoTime();
                ByteArrayOutputStream got = new ByteArrayOutputStream();
                boolean closed;
                try {
                    InputStream in = s.getInputStream();
                    for (int b; (b = in.read()) >= 0; ) {
                        got.write(b);
                    }
                    closed = true; // FIN
                } catch (SocketTimeoutException e) {
                    closed = false;
                } catch (SocketException e) {
                    closed = true; // RST
                }
                assertTrue(closed, kind + " " + how + ": still open after " + (System.nanoTime() - start) / 1_000_000 + " ms");
                if (how.startsWith("reply")) {
                    assertEquals("400\n", got.toString(StandardCharsets.US_ASCII), "the reply went out before the close");
                }
            } finally {
                server.close().sync();
            }
        }
    }

    private static io.netty.buffer.ByteBuf reply() {
        return Unpooled.copiedBuffer("400\n", StandardCharsets.US_ASCII);
    }

    /** The connection's first handler: every close passes it on its way to the socket. */
    private static final class FirstHandler extends ChannelDuplexHandler {
        @Override
        public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
            NextTurnClose.close(ctx, promise);
        }
    }
}
