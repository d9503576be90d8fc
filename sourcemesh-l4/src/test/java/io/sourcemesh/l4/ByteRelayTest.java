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
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
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
        Transport transport = Transport.create(kind, 1);
        InetAddress loopback = InetAddress.getLoopbackAddress();
        byte[] data = new byte[24 << 20];
        new Random(42).nextBytes(data);
        AtomicLong read = new AtomicLong();
        CompletableFuture<Channel> upstream = new CompletableFuture<>();
        try (ServerSocket sink = new ServerSocket()) {
            sink.setReceiveBufferSize(64 << 10); // the kernel's share stays small: the relay's is what fills
            sink.bind(new InetSocketAddress(loopback, 0));
            UpstreamConnector connector = new UpstreamConnector(transport);
            Channel listener = relayListener(transport, connector, loopback, sink, read, upstream::complete);
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
     * Many connections whose far sides stop reading, all on one worker: each may read ahead up to the
     * buffer limit, but together they hold no more than the worker's {@link ReadAheadBudget} plus one
     * read each (without the budget: more than the limit each, 16 MiB here); the others read after
     * write. Once the readers drain, every byte arrives on every connection and the budget is whole again.
     * The clients' FIN waits until the readers drain: after a FIN, epoll and io_uring (Netty 4.2.18)
     * read the socket to its end unasked, which no relay can refuse (nio does not).
     */
    @ParameterizedTest
    @ValueSource(strings = {"io_uring", "epoll", "nio"})
    @Timeout(120)
    void manyStalledConnectionsShareTheWorkersReadAheadBudget(String kind) throws Exception {
        int connections = 16;
        Transport transport = Transport.create(kind, 1);
        InetAddress loopback = InetAddress.getLoopbackAddress();
        byte[] data = new byte[8 << 20];
        new Random(7).nextBytes(data);
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(data);
        AtomicLong read = new AtomicLong();
        List<Channel> upstreams = new CopyOnWriteArrayList<>();
        CountDownLatch drain = new CountDownLatch(1);
        try (ServerSocket sink = new ServerSocket();
                ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            sink.setReceiveBufferSize(64 << 10);
            sink.setSoTimeout(20_000);
            sink.bind(new InetSocketAddress(loopback, 0));
            UpstreamConnector connector = new UpstreamConnector(transport);
            Channel listener = relayListener(transport, connector, loopback, sink, read, upstreams::add);
            List<Socket> clients = new ArrayList<>();
            List<Future<?>> work = new ArrayList<>();
            try {
                for (int i = 0; i < connections; i++) {
                    Socket client = new Socket();
                    clients.add(client);
                    client.setSendBufferSize(64 << 10);
                    client.connect(listener.localAddress());
                    work.add(threads.submit(() -> {
                        try (OutputStream out = client.getOutputStream()) {
                            for (int off = 0; off < data.length; off += 64 << 10) {
                                out.write(data, off, Math.min(64 << 10, data.length - off));
                            }
                            drain.await();
                            client.shutdownOutput();
                        }
                        return null;
                    }));
                    Socket far = sink.accept();
                    work.add(threads.submit(() -> {
                        try (far) {
                            drain.await();
                            far.setSoTimeout(30_000);
                            InputStream in = far.getInputStream();
                            byte[] got = in.readNBytes(data.length);
                            assertEquals(-1, in.read(), "the client's FIN follows its last byte");
                            assertArrayEquals(digest, MessageDigest.getInstance("SHA-256").digest(got), "every byte, in order");
                        }
                        return null;
                    }));
                }
                EventLoop loop = transport.group().next();
                Callable<Long> pending = () -> loop.submit(() -> upstreams.stream()
                        .mapToLong(c -> c.unsafe().outboundBuffer() == null ? 0 : c.unsafe().outboundBuffer().totalPendingWriteBytes())
                        .sum()).get();
                long held = awaitStall(read, pending, 0);
                long taken = loop.submit(() -> ReadAheadBudget.current().taken()).get();
                assertEquals(connections, upstreams.size());
                List<String> each = loop.submit(() -> upstreams.stream().map(c -> c.unsafe().outboundBuffer())
                        .map(b -> b.totalPendingWriteBytes() + "/" + b.size()).toList()).get();
                assertTrue(taken > 0, "some relays read ahead: " + taken);
                assertTrue(taken <= ReadAheadBudget.PER_WORKER, "within the budget: " + taken);
                assertTrue(held <= ReadAheadBudget.PER_WORKER + (long) connections * ByteRelay.MAX_READ,
                        "all relays together hold no more than the budget and one read each: " + held + " (bytes/writes " + each + ")");
                drain.countDown();
                for (Future<?> f : work) {
                    f.get(60, TimeUnit.SECONDS);
                }
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (loop.submit(() -> ReadAheadBudget.current().taken()).get() != 0 && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                assertEquals(0, loop.submit(() -> ReadAheadBudget.current().taken()).get(), "every byte taken was given back");
            } finally {
                drain.countDown();
                for (Socket c : clients) {
                    c.close();
                }
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

    /**
     * A listener on {@code loopback} whose every connection is relayed both ways to {@code sink}: the
     * client's side counts what it reads into {@code read}; each upstream channel goes to {@code upstreams}.
     */
    private static Channel relayListener(Transport transport, UpstreamConnector connector, InetAddress loopback, ServerSocket sink,
            AtomicLong read, Consumer<Channel> upstreams) throws InterruptedException {
        return new ServerBootstrap().group(transport.group()).channel(transport.serverChannelType())
                .childOption(ChannelOption.AUTO_READ, false)
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel down) {
                        ByteRelay fromClient = ByteRelay.pending(read::addAndGet, () -> { });
                        down.pipeline().addLast("relay", fromClient);
                        connector.connect(down.eventLoop(), (InetSocketAddress) sink.getLocalSocketAddress(), SourceBinding.NONE,
                                Duration.ofSeconds(5), ByteRelay.to(down, n -> { }, () -> { }))
                                .addListener((ChannelFutureListener) f -> {
                                    upstreams.accept(f.channel());
                                    fromClient.peer(down.pipeline().context("relay"), f.channel());
                                    f.channel().read();
                                });
                    }
                })
                .bind(new InetSocketAddress(loopback, 0)).sync().channel();
    }
}
