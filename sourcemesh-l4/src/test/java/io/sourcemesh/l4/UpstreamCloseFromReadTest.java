package io.sourcemesh.l4;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import io.netty.util.ReferenceCountUtil;
import io.sourcemesh.l4.transport.Transport;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.function.Consumer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * An upstream connection (one {@link UpstreamConnector} opened) closed while its read is handled reaches the server at
 * once (well within 1 s), on io_uring as on epoll: the server sends its bytes and then only waits. The cases are the
 * proxy's: an HTTP/1 upstream that answered with {@code Connection: close} while our request is still being written
 * (a write in the ring that the server does not read), the next read asked for, then the close. Without the connector's
 * first handler closing through NextTurnClose, io_uring holds such a connection until the server sends again.
 */
class UpstreamCloseFromReadTest {
    private static final int BOUND_MILLIS = 1_000;

    @ParameterizedTest
    @CsvSource({
        "io_uring,writeReadClose", "io_uring,readWriteClose", "io_uring,writeClose", "io_uring,close",
        "epoll,writeReadClose", "epoll,readWriteClose", "epoll,writeClose", "epoll,close"})
    void aCloseFromAnUpstreamReadReachesAWaitingServer(String kind, String how) throws Exception {
        assumeTrue(!kind.equals("io_uring") || IoUring.isAvailable(), () -> "io_uring unavailable: " + IoUring.unavailabilityCause());
        assumeTrue(!kind.equals("epoll") || Epoll.isAvailable(), () -> "epoll unavailable: " + Epoll.unavailabilityCause());
        Consumer<ChannelHandlerContext> onRead = switch (how) {
            case "writeReadClose" -> ctx -> {
                ctx.writeAndFlush(big());
                ctx.read();
                ctx.channel().close();
            };
            case "readWriteClose" -> ctx -> {
                ctx.read();
                ctx.writeAndFlush(big());
                ctx.close();
            };
            case "writeClose" -> ctx -> {
                ctx.writeAndFlush(big());
                ctx.channel().close();
            };
            case "close" -> ctx -> ctx.close();
            default -> throw new IllegalArgumentException(how);
        };
        try (Transport t = Transport.create(kind, 1);
                ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            UpstreamConnector connector = new UpstreamConnector(t);
            Channel ch = connector.connect(t.group().next(), (InetSocketAddress) server.getLocalSocketAddress(), SourceBinding.NONE,
                    Duration.ofSeconds(2), new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelActive(ChannelHandlerContext ctx) {
                            // our request, then a read for the answer (auto-read is off, as in the proxy)
                            ctx.writeAndFlush(Unpooled.copiedBuffer("GET\n", StandardCharsets.US_ASCII))
                                    .addListener((ChannelFutureListener) f -> ctx.read());
                        }

                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            ReferenceCountUtil.release(msg);
                            onRead.accept(ctx);
                        }
                    }).sync().channel();
            try (Socket s = server.accept()) {
                InputStream in = s.getInputStream();
                in.readNBytes(4); // the request
                s.getOutputStream().write("close\n".getBytes(StandardCharsets.US_ASCII));
                // Not read for a while: a large write of the client's stays in the ring (a full socket buffer).
                Thread.sleep(200);
                s.setSoTimeout(BOUND_MILLIS);
                long start = System.nanoTime();
                boolean closed;
                try {
                    byte[] buf = new byte[64 << 10];
                    while (in.read(buf) >= 0) {
                        // what was written before the close
                    }
                    closed = true; // FIN
                } catch (SocketTimeoutException e) {
                    closed = false;
                } catch (IOException e) {
                    closed = true; // RST
                }
                assertTrue(closed, kind + " " + how + ": still open " + (System.nanoTime() - start) / 1_000_000
                        + " ms after the server's bytes (channel open: " + ch.isOpen() + ")");
            } finally {
                connector.closeAll();
            }
        }
    }

    /** More than loopback socket buffers hold: its write stays in flight while the server does not read. */
    private static io.netty.buffer.ByteBuf big() {
        return Unpooled.wrappedBuffer(new byte[8 << 20]);
    }
}
