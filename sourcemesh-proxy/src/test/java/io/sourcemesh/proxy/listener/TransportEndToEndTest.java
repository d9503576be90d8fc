package io.sourcemesh.proxy.listener;

import static io.sourcemesh.proxy.testing.Configs.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.Channel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import io.sourcemesh.l4.transport.Transport;
import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.testing.Origin;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The proxy on each transport {@code -Dsourcemesh.transport} names: requests answered, every
 * downstream and upstream socket of that transport's channel class, and each upstream on its
 * downstream's event loop. Where a run names its transport (the surefire execution that runs the
 * end-to-end classes on epoll, or {@code -Dsourcemesh.transport=io_uring} by hand),
 * {@link #theTransportAskedForIsTheOneThatRuns} fails on a silent fall-back.
 */
class TransportEndToEndTest {
    private Proxy proxy;
    private Origin origin;

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (origin != null) {
            origin.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"io_uring", "epoll", "nio"})
    void requestsRunOnTheChosenTransportsChannels(String kind) throws Exception {
        assumeTrue(!kind.equals("io_uring") || IoUring.isAvailable(), () -> "io_uring: " + IoUring.unavailabilityCause());
        assumeTrue(!kind.equals("epoll") || Epoll.isAvailable());
        String before = System.getProperty(Transport.PROPERTY);
        System.setProperty(Transport.PROPERTY, kind);
        try {
            start();
        } finally {
            if (before == null) {
                System.clearProperty(Transport.PROPERTY);
            } else {
                System.setProperty(Transport.PROPERTY, before);
            }
        }
        assertEquals(kind, proxy.transport().kind().label());
        assertServedOnOneFamily();
    }

    @Test
    @EnabledIfSystemProperty(named = Transport.PROPERTY, matches = ".+")
    void theTransportAskedForIsTheOneThatRuns() throws Exception {
        start();
        String asked = System.getProperty(Transport.PROPERTY);
        assertEquals(asked, proxy.transport().description(), "no fall-back from what was asked");
        assertServedOnOneFamily();
    }

    /** io_uring is the default where it loads: a silent fall-back to epoll fails here. */
    @Test
    @DisabledIfSystemProperty(named = Transport.PROPERTY, matches = ".+")
    void withoutTheChoiceTheProxyRunsOnIoUring() throws Exception {
        assumeTrue(IoUring.isAvailable(), () -> "io_uring: " + IoUring.unavailabilityCause());
        start();
        assertEquals("io_uring", proxy.transport().description());
        assertServedOnOneFamily();
        assertSame(io.netty.channel.uring.IoUringSocketChannel.class, proxy.transport().channelType());
    }

    private void start() throws Exception {
        origin = Origin.start();
        proxy = Proxy.start(proxy(List.of(listener("http", "127.0.0.1", List.of(), chain(hcm(routeAll("origin"), false, List.of())))),
                List.of(staticCluster("origin", origin.address()))), 2);
    }

    /** Two keep-alive clients, each answered twice; then every open socket is checked while they stay open. */
    private void assertServedOnOneFamily() throws Exception {
        InetSocketAddress listener = proxy.listenerAddress("http");
        try (Socket a = new Socket(listener.getAddress(), listener.getPort());
                Socket b = new Socket(listener.getAddress(), listener.getPort())) {
            for (int i = 0; i < 2; i++) {
                assertEquals(200, get(a));
                assertEquals(200, get(b));
            }
            Class<? extends Channel> type = proxy.transport().channelType();
            List<Channel> downstream = proxy.listeners().stream().flatMap(l -> l.openConnections().stream()).toList();
            List<Channel> upstream = proxy.clusters().connector().openChannels();
            assertEquals(2, downstream.size(), downstream.toString());
            assertFalse(upstream.isEmpty(), "pooled upstream connections stay open");
            for (Channel ch : downstream) {
                assertSame(type, ch.getClass(), "downstream " + ch);
                // One receive-size predictor config for every accepted connection, with the transport's default reads per read().
                assertSame(ListenerRuntime.RECV_ALLOCATOR, ch.config().getRecvByteBufAllocator(), "downstream " + ch);
                assertEquals(16, ch.config().getMaxMessagesPerRead());
                // Nagle off on the real socket (read back with getsockopt): set by the transport's own channel config.
                assertTrue(ch.config().getOption(io.netty.channel.ChannelOption.TCP_NODELAY), "TCP_NODELAY on downstream " + ch);
            }
            if (!proxy.transport().kind().label().equals("nio")) {
                // io_uring and epoll read each accepted socket's local address into objects of their own (~80 B per
                // open connection); the listener's connections, all reached on one address, share one instance.
                assertSame(downstream.get(0).localAddress(), downstream.get(1).localAddress(), "one local address object: " + downstream);
            }
            for (Channel ch : upstream) {
                assertSame(type, ch.getClass(), "upstream " + ch);
                // Each upstream was opened on the loop of the downstream it served.
                assertTrue(downstream.stream().anyMatch(d -> d.eventLoop() == ch.eventLoop()),
                        "upstream " + ch + " on a loop no downstream uses");
            }
        }
    }

    /** One GET on a kept-alive socket; the status. */
    private static int get(Socket s) throws Exception {
        OutputStream out = s.getOutputStream();
        out.write("GET /echo HTTP/1.1\r\nhost: example\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = s.getInputStream();
        s.setSoTimeout(10_000);
        String head = readHead(in);
        int length = 0;
        for (String line : head.split("\r\n")) {
            if (line.regionMatches(true, 0, "content-length:", 0, 15)) {
                length = Integer.parseInt(line.substring(15).trim());
            }
        }
        assertFalse(head.toLowerCase().contains("transfer-encoding"), head);
        in.readNBytes(length);
        return Integer.parseInt(head.substring(9, 12));
    }

    private static String readHead(InputStream in) throws Exception {
        StringBuilder sb = new StringBuilder();
        for (int c; (c = in.read()) != -1; ) {
            sb.append((char) c);
            if (sb.length() >= 4 && sb.substring(sb.length() - 4).equals("\r\n\r\n")) {
                return sb.toString();
            }
        }
        throw new java.io.EOFException("connection closed after " + sb);
    }
}
