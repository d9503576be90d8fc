package io.sourcemesh.l4.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.sourcemesh.l4.SourceBinding;
import io.sourcemesh.l4.UpstreamConnector;
import io.sourcemesh.l4.embedded.Interception;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class TransportTest {
    private static final Supplier<Optional<String>> LOADS = Optional::empty;

    @Test
    void eachKindIsChosenByName() {
        assertEquals(new Transport.Choice(Transport.Kind.IO_URING, Optional.empty()), Transport.choose("io_uring", false, LOADS, LOADS));
        assertEquals(new Transport.Choice(Transport.Kind.EPOLL, Optional.empty()), Transport.choose("epoll", false, LOADS, LOADS));
        assertEquals(new Transport.Choice(Transport.Kind.NIO, Optional.empty()), Transport.choose("nio", false, LOADS, LOADS));
        assertEquals(new Transport.Choice(Transport.DEFAULT, Optional.empty()), Transport.choose(null, false, LOADS, LOADS));
    }

    @Test
    void anUnknownNameIsRefusedNamingTheProperty() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Transport.choose("uring", false, LOADS, LOADS));
        assertEquals("-Dsourcemesh.transport=uring: not one of io_uring, epoll, nio", e.getMessage());
    }

    @Test
    void spliceKeepsTheProcessOnEpollAndSaysWhy() {
        Transport.Choice c = Transport.choose("io_uring", true, LOADS, LOADS);
        assertEquals(Transport.Kind.EPOLL, c.kind());
        assertTrue(c.fallback().orElseThrow().contains("sourcemesh.tcpProxy.splice=true needs epoll"), c.fallback().get());
        assertEquals("io_uring is the default, but -Dsourcemesh.tcpProxy.splice=true needs epoll's splice",
                Transport.choose(null, true, LOADS, LOADS).fallback().orElseThrow());
        // Splice asked for on epoll or NIO changes nothing: the tcp filter relays without it on NIO, and says so.
        assertEquals(new Transport.Choice(Transport.Kind.EPOLL, Optional.empty()), Transport.choose("epoll", true, LOADS, LOADS));
    }

    @Test
    void aMissingNativeTransportFallsBackWithItsCause() {
        Transport.Choice toEpoll = Transport.choose("io_uring", false, () -> Optional.of("io_uring_setup: EPERM"), LOADS);
        assertEquals(Transport.Kind.EPOLL, toEpoll.kind());
        assertEquals("io_uring unavailable (io_uring_setup: EPERM)", toEpoll.fallback().orElseThrow());
        Transport.Choice toNio = Transport.choose("io_uring", false, () -> Optional.of("no ring"), () -> Optional.of("no epoll"));
        assertEquals(Transport.Kind.NIO, toNio.kind());
        assertEquals("io_uring unavailable (no ring); epoll unavailable (no epoll): no SO_ORIGINAL_DST, IP_TRANSPARENT or SO_MARK",
                toNio.fallback().orElseThrow());
    }

    @Test
    void ioUringRunsIoUringChannelsWithUpstreamsOnTheDownstreamsLoop() throws Exception {
        assumeTrue(IoUring.isAvailable(), () -> "io_uring: " + IoUring.unavailabilityCause());
        Transport t = Transport.create("io_uring", 1);
        try {
            assertEquals(Transport.Kind.IO_URING, t.kind());
            assertEquals("io_uring", t.description());
            assertTrue(((IoEventLoopGroup) t.group()).isIoType(IoUringIoHandler.class));
            assertSame(IoUringServerSocketChannel.class, Transport.serverChannelType(t.group()));
            Connection c = connectThrough(t);
            assertSame(IoUringSocketChannel.class, c.accepted().getClass());
            assertSame(IoUringSocketChannel.class, c.upstream().getClass());
            assertSame(c.accepted().eventLoop(), c.upstream().eventLoop());
            c.close();
        } finally {
            t.close();
        }
    }

    /**
     * A proxy process loads this class before Netty's IoUring (Transport.create is what asks io_uring), so its loops
     * arm one-shot POLLINs: with Netty's multishot POLLIN, connections reading on demand now and then never saw their
     * client's close (ListenerFuzzTest: 2 to 8 of 2,000 fuzz connections held open per run). Checked in a JVM of its
     * own, without the property the build sets for test JVMs (the pom), as a proxy process starts.
     */
    @Test
    void aProcessOnIoUringArmsNoMultishotPollIn() throws Exception {
        assumeTrue(IoUring.isAvailable(), () -> "io_uring: " + IoUring.unavailabilityCause());
        ProcessBuilder pb = new ProcessBuilder(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), PollInMode.class.getName());
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        pb.redirectError(ProcessBuilder.Redirect.DISCARD);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the child JVM ended");
        assertEquals("io_uring multishot POLLIN=false", out);
    }

    /** The child of {@link #aProcessOnIoUringArmsNoMultishotPollIn}: starts a transport as a proxy does, says what Netty arms. */
    static final class PollInMode {
        public static void main(String[] args) {
            Transport t = Transport.create("io_uring", 1);
            System.out.println(t.kind().label() + " multishot POLLIN=" + IoUring.isPollAddMultishotEnabled());
            t.close();
        }
    }

    @Test
    void epollRunsEpollChannels() throws Exception {
        assumeTrue(Epoll.isAvailable());
        Transport t = Transport.create("epoll", 1);
        try {
            assertTrue(((IoEventLoopGroup) t.group()).isIoType(EpollIoHandler.class));
            assertSame(EpollServerSocketChannel.class, Transport.serverChannelType(t.group()));
            Connection c = connectThrough(t);
            assertSame(EpollSocketChannel.class, c.accepted().getClass());
            assertSame(EpollSocketChannel.class, c.upstream().getClass());
            c.close();
        } finally {
            t.close();
        }
    }

    /**
     * What TPROXY interception sets on an upstream socket — IP_TRANSPARENT and SO_MARK — is really
     * set on io_uring's sockets too (read back from the kernel). Needs CAP_NET_ADMIN.
     */
    @Test
    void ioUringSetsIpTransparentAndSoMarkOnUpstreams() throws Exception {
        assumeTrue(IoUring.isAvailable(), () -> "io_uring: " + IoUring.unavailabilityCause());
        assumeTrue(hasNetAdmin(), "needs CAP_NET_ADMIN");
        for (String kind : new String[] {"io_uring", "epoll"}) {
            Transport t = Transport.create(kind, 1);
            try {
                // As originalSource() binds an off-loopback client; on loopback the address itself needs neither.
                SourceBinding binding = new SourceBinding(Optional.of(new InetSocketAddress("127.0.0.1", 0)), true, 1337);
                Connection c = connectThrough(t, binding);
                assertEquals(1337, c.upstream().config().getOption(Transport.SO_MARK), kind);
                assertEquals(Boolean.TRUE, c.upstream().config().getOption(t.ipTransparent().orElseThrow()), kind);
                c.close();
            } finally {
                t.close();
            }
        }
    }

    /**
     * The provided-buffer ring is opt-in; with it, the listener's and the connector's connections read through
     * the loop's ring (their buffer group set) and carry bytes both ways as without it.
     */
    @Test
    void aBufferRingIsOptInAndConnectionsReadThroughIt() throws Exception {
        assumeTrue(IoUring.isAvailable(), () -> "io_uring: " + IoUring.unavailabilityCause());
        Transport plain = Transport.create("io_uring", 1);
        try {
            assumeTrue(plain.kind() == Transport.Kind.IO_URING, plain::description); // the rings fit here
            assertFalse(plain.bufferRing(), "off unless asked for");
        } finally {
            plain.close();
        }
        assumeTrue(IoUring.isRegisterBufferRingSupported(), "this kernel has no buffer rings");
        System.setProperty(Transport.BUFFER_RING_PROPERTY, "true");
        Transport t;
        try {
            t = Transport.create("io_uring", 1);
        } finally {
            System.clearProperty(Transport.BUFFER_RING_PROPERTY);
        }
        try {
            assertTrue(t.bufferRing(), t.description());
            CompletableFuture<Channel> accepted = new CompletableFuture<>();
            Channel server = new ServerBootstrap().group(t.group()).channel(t.serverChannelType())
                    .childHandler(new io.netty.channel.ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            t.acceptedOptions(ch.config()); // as a listener's acceptor does, before the first read
                            ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
                                @Override
                                public void channelActive(io.netty.channel.ChannelHandlerContext ctx) {
                                    accepted.complete(ctx.channel());
                                    ctx.fireChannelActive();
                                }

                                @Override
                                public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
                                    ctx.writeAndFlush(msg); // echo
                                }
                            });
                        }
                    })
                    .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
            StringBuilder echoed = new StringBuilder();
            java.util.concurrent.CountDownLatch got = new java.util.concurrent.CountDownLatch(1);
            UpstreamConnector connector = new UpstreamConnector(t, Interception.NONE, Optional.empty());
            ChannelFuture up = connector.connect(t.group().next(), (InetSocketAddress) server.localAddress(), SourceBinding.NONE,
                    Duration.ofSeconds(5), new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
                            io.netty.buffer.ByteBuf b = (io.netty.buffer.ByteBuf) msg;
                            echoed.append(b.toString(java.nio.charset.StandardCharsets.US_ASCII));
                            b.release();
                            if (echoed.length() >= 5) {
                                got.countDown();
                            }
                            ctx.read();
                        }
                    });
            assertTrue(up.await(5_000) && up.isSuccess(), () -> "connected: " + up.cause());
            Channel client = up.channel();
            client.read();
            client.writeAndFlush(io.netty.buffer.Unpooled.copiedBuffer("hello", java.nio.charset.StandardCharsets.US_ASCII)).sync();
            assertTrue(got.await(5, TimeUnit.SECONDS), "echoed: " + echoed);
            assertEquals("hello", echoed.toString());
            assertEquals((short) 0, client.config().getOption(io.netty.channel.uring.IoUringChannelOption.IO_URING_BUFFER_GROUP_ID));
            assertEquals((short) 0, accepted.get(5, TimeUnit.SECONDS).config()
                    .getOption(io.netty.channel.uring.IoUringChannelOption.IO_URING_BUFFER_GROUP_ID));
            client.close().sync();
            server.close().sync();
        } finally {
            t.close();
        }
    }

    // ------------------------------------------------------------------------------------------

    private record Connection(Channel server, Channel accepted, Channel upstream) {
        void close() {
            upstream.close().syncUninterruptibly();
            server.close().syncUninterruptibly();
        }
    }

    /** A listener on the transport, an upstream connection to it opened from the accepted socket's loop. */
    private static Connection connectThrough(Transport t) throws Exception {
        return connectThrough(t, SourceBinding.NONE);
    }

    private static Connection connectThrough(Transport t, SourceBinding binding) throws Exception {
        CompletableFuture<Channel> accepted = new CompletableFuture<>();
        ServerBootstrap sb = new ServerBootstrap().group(t.group()).channel(t.serverChannelType())
                .childHandler(new ChannelInitializer<>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        accepted.complete(ch);
                    }
                });
        t.ipTransparent().ifPresent(o -> {
            if (hasNetAdmin()) {
                sb.option(o, true);
            }
        });
        Channel server = sb.bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
        // First connection: only to learn a loop an accepted socket is on.
        UpstreamConnector connector = new UpstreamConnector(t, Interception.NONE, Optional.empty());
        ChannelFuture probe = connector.connect(t.group().next(), (InetSocketAddress) server.localAddress(), SourceBinding.NONE,
                Duration.ofSeconds(5), new ChannelInboundHandlerAdapter());
        assertTrue(probe.await(5_000) && probe.isSuccess(), "probe connected");
        Channel downstream = accepted.get(5, TimeUnit.SECONDS);
        ChannelFuture up = connector.connect(downstream.eventLoop(), (InetSocketAddress) server.localAddress(), binding,
                Duration.ofSeconds(5), new ChannelInboundHandlerAdapter());
        assertTrue(up.await(5_000), "connect finished");
        assertTrue(up.isSuccess(), () -> "connected: " + up.cause());
        probe.channel().close().sync();
        return new Connection(server, downstream, up.channel());
    }

    /** CAP_NET_ADMIN in this process's effective set. */
    private static boolean hasNetAdmin() {
        try {
            return Capabilities.ofThisProcess().has(Capabilities.CAP_NET_ADMIN);
        } catch (IOException e) {
            return false;
        }
    }
}
