package io.sourcemesh.l4;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.embedded.EmbeddedChannel;
import io.sourcemesh.l4.transport.Transport;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ByteRelayTest {
    /**
     * A client that sends and closes before the upstream connected (io_uring reads it on POLLRDHUP
     * before the relay asks): its bytes still reach the peer, then the peer is closed.
     */
    @Test
    void bytesReadBeforeThePeerCameAreSentEvenAfterThisSideClosed() {
        ByteRelay relay = ByteRelay.pending(n -> { }, () -> { });
        EmbeddedChannel down = new EmbeddedChannel(relay);
        down.writeInbound(Unpooled.copiedBuffer("hello", StandardCharsets.US_ASCII));
        down.close();
        EmbeddedChannel up = new EmbeddedChannel();
        relay.peer(null, up);
        ByteBuf sent = up.readOutbound();
        assertEquals("hello", sent.toString(StandardCharsets.US_ASCII));
        sent.release();
        up.runPendingTasks();
        assertFalse(up.isOpen(), "the peer is closed once the held bytes are written");
    }

    @Test
    void abandonReleasesWhatWasHeld() {
        ByteRelay relay = ByteRelay.pending(n -> { }, () -> { });
        EmbeddedChannel down = new EmbeddedChannel(relay);
        ByteBuf held = Unpooled.copiedBuffer("hello", StandardCharsets.US_ASCII);
        down.writeInbound(held);
        down.close();
        relay.abandon();
        assertEquals(0, held.refCnt());
        assertNull(down.readInbound());
    }

    /**
     * A far side that does not read: the relay reads ahead while a write is in flight, but stops once
     * the bytes waiting for that socket pass {@link ByteRelay#BUFFER_LIMIT} — never more than the
     * limit plus one read held in the process — and resumes when the reader drains it, every byte
     * arriving in order, the client's FIN last. On each transport a relay runs on.
     */
    @ParameterizedTest
    @ValueSource(strings = {"io_uring", "epoll", "nio"})
    void aReaderThatStopsHoldsTheRelayToItsBufferLimitAndEveryByteArrives(String kind) throws Exception {
        String before = System.getProperty(Transport.PROPERTY);
        System.setProperty(Transport.PROPERTY, kind);
        Transport transport;
        try {
            transport = Transport.create(1);
        } finally {
            if (before == null) {
                System.clearProperty(Transport.PROPERTY);
            } else {
                System.setProperty(Transport.PROPERTY, before);
            }
        }
        InetAddress loopback = InetAddress.getLoopbackAddress();
        byte[] data = new byte[24 << 20];
        new Random(42).nextBytes(data);
        AtomicLong read = new AtomicLong();
        CompletableFuture<Channel> upstream = new CompletableFuture<>();
        try (ServerSocket sink = new ServerSocket()) {
            sink.setReceiveBufferSize(64 << 10); // the kernel's share stays small: the relay's is what fills
            sink.bind(new InetSocketAddress(loopback, 0));
            UpstreamConnector connector = new UpstreamConnector(transport);
            Channel listener = new ServerBootstrap().group(transport.group()).channel(transport.serverChannelType())
                    .childOption(ChannelOption.AUTO_READ, false)
                    .childHandler(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelActive(ChannelHandlerContext ctx) {
                            Channel down = ctx.channel();
                            ByteRelay fromClient = ByteRelay.pending(read::addAndGet, () -> { });
                            ctx.pipeline().replace(this, "relay", fromClient);
                            connector.connect(down.eventLoop(), (InetSocketAddress) sink.getLocalSocketAddress(), SourceBinding.NONE,
                                    Duration.ofSeconds(5), ByteRelay.to(down, n -> { }, () -> { }))
                                    .addListener((ChannelFutureListener) f -> {
                                        upstream.complete(f.channel());
                                        fromClient.peer(down.pipeline().context("relay"), f.channel());
                                        f.channel().read();
                                    });
                        }
                    })
                    .bind(new InetSocketAddress(loopback, 0)).sync().channel();
            try (Socket client = new Socket()) {
                client.setSendBufferSize(64 << 10);
                client.connect(listener.localAddress());
                CompletableFuture<Void> sending = CompletableFuture.runAsync(() -> {
                    try (OutputStream out = client.getOutputStream()) {
                        for (int off = 0; off < data.length; off += 64 << 10) {
                            out.write(data, off, Math.min(64 << 10, data.length - off));
                        }
                        client.shutdownOutput();
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                try (Socket far = sink.accept()) {
                    Channel up = upstream.get(10, java.util.concurrent.TimeUnit.SECONDS);
                    // Stalled (a busy machine can pause the relay briefly: only a stall past the limit counts).
                    long pending = awaitStall(read, () -> up.eventLoop().submit(
                            () -> up.unsafe().outboundBuffer().totalPendingWriteBytes()).get(), ByteRelay.BUFFER_LIMIT);
                    assertTrue(read.get() < data.length, "the relay stopped reading before the end: " + read.get());
                    assertTrue(pending > ByteRelay.BUFFER_LIMIT, "read ahead while writes waited, up to the limit: " + pending);
                    assertTrue(pending <= ByteRelay.BUFFER_LIMIT + ByteRelay.MAX_READ, "never more than the limit and one read: " + pending);
                    far.setSoTimeout(20_000);
                    InputStream in = far.getInputStream();
                    byte[] got = in.readNBytes(data.length);
                    assertEquals(-1, in.read(), "the client's FIN follows its last byte");
                    assertEquals(data.length, got.length);
                    assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(data),
                            MessageDigest.getInstance("SHA-256").digest(got), "every byte, in order");
                    sending.get();
                }
            } finally {
                listener.close().sync();
                connector.closeAll();
            }
        } finally {
            transport.close();
        }
    }

    /**
     * Waits until {@code read} stops growing for 600 ms while {@code pending} is past {@code limit};
     * returns that pending count, or the last one seen once 30 s passed.
     */
    private static long awaitStall(AtomicLong read, java.util.concurrent.Callable<Long> pending, long limit) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        long last = -1;
        int still = 0;
        long p = 0;
        while (System.nanoTime() < deadline) {
            long now = read.get();
            p = pending.call();
            still = now == last && now > 0 ? still + 1 : 0;
            if (still >= 3 && p > limit) {
                return p;
            }
            last = now;
            Thread.sleep(200);
        }
        return p;
    }
}
