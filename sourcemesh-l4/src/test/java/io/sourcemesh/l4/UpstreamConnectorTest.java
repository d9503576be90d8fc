package io.sourcemesh.l4;

import io.sourcemesh.l4.embedded.Interception;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.sourcemesh.l4.transport.Transport;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class UpstreamConnectorTest {
    /**
     * The embedded runtime binds a pod's sockets to its own address (the connector's default
     * source); that must not drop the PROXY header the binding asks for — it once did, and a
     * DestinationRule's proxyProtocol was accepted and never sent.
     */
    @Test
    void aPodsDefaultSourceKeepsTheProxyHeader() throws Exception {
        Transport transport = Transport.create(1);
        InetAddress pod = InetAddress.getByName("127.0.0.1");
        ProxyHeader header = new ProxyHeader(1, new InetSocketAddress("127.120.0.10", 50000), new InetSocketAddress("127.0.0.1", 8000));
        try (ServerSocket server = new ServerSocket(0, 1, pod)) {
            UpstreamConnector connector = new UpstreamConnector(transport, Interception.NONE, Optional.of(pod));
            var future = connector.connect(transport.group().next(), (InetSocketAddress) server.getLocalSocketAddress(),
                    SourceBinding.NONE.withProxyHeader(header), Duration.ofSeconds(5), new ChannelInboundHandlerAdapter());
            try (Socket accepted = server.accept()) {
                assertTrue(future.await(5_000) && future.isSuccess(), "connected");
                assertEquals(pod, accepted.getInetAddress(), "bound to the pod's own address");
                accepted.setSoTimeout(5_000);
                InputStream in = accepted.getInputStream();
                byte[] line = in.readNBytes("PROXY TCP4 127.120.0.10 127.0.0.1 50000 8000\r\n".length());
                assertEquals("PROXY TCP4 127.120.0.10 127.0.0.1 50000 8000\r\n", new String(line, StandardCharsets.US_ASCII));
            } finally {
                future.channel().close().sync();
            }
        } finally {
            transport.close();
        }
    }

    /**
     * A cluster's tcp_keepalive on the upstream socket, as Envoy's buildTcpKeepaliveOptions
     * (source/common/network/socket_option_factory.cc) sets it, on each transport the proxy runs on: the kernel's
     * view of the socket (ss) shows the keepalive timer at the configured idle time, and TCP_KEEPINTVL/TCP_KEEPCNT read
     * back as configured; a field left at 0 keeps the kernel's default, and no keepalive leaves no timer.
     */
    @ParameterizedTest
    @ValueSource(strings = {"io_uring", "epoll", "nio"})
    void keepaliveIsOnTheUpstreamSocket(String kind) throws Exception {
        Transport transport = Transport.create(kind, 1);
        try (ServerSocket server = new ServerSocket(0, 4, InetAddress.getLoopbackAddress())) {
            assumeTrue(transport.kind().label().equals(kind), transport::description);
            UpstreamConnector connector = new UpstreamConnector(transport);
            InetSocketAddress to = (InetSocketAddress) server.getLocalSocketAddress();
            Channel kept = connected(connector.connect(transport.group().next(), to, SourceBinding.NONE, Duration.ofSeconds(5),
                    new TcpKeepalive(4, 7, 3), new ChannelInboundHandlerAdapter()));
            Channel defaults = connected(connector.connect(transport.group().next(), to, SourceBinding.NONE, Duration.ofSeconds(5),
                    new TcpKeepalive(0, 0, 0), new ChannelInboundHandlerAdapter()));
            Channel none = connected(connector.connect(transport.group().next(), to, SourceBinding.NONE, Duration.ofSeconds(5),
                    new ChannelInboundHandlerAdapter()));
            try (Socket a = server.accept(); Socket b = server.accept(); Socket c = server.accept()) {
                double idle = keepaliveTimerSeconds(kept);
                assertTrue(idle > 0 && idle <= 7, "the keepalive timer runs from the configured 7s idle time: " + idle);
                assertEquals(3, (int) option(kept, "TCP_KEEPINTVL", 5));
                assertEquals(4, (int) option(kept, "TCP_KEEPCNT", 6));
                assertEquals(7, (int) option(kept, "TCP_KEEPIDLE", 4));
                int kernelIdle = option(none, "TCP_KEEPIDLE", 4); // a socket nothing was set on reads the kernel's default
                assertTrue(keepaliveTimerSeconds(defaults) > 7, "the kernel's own idle time, " + kernelIdle + "s");
                assertEquals(kernelIdle, (int) option(defaults, "TCP_KEEPIDLE", 4));
                assertEquals((int) option(none, "TCP_KEEPCNT", 6), (int) option(defaults, "TCP_KEEPCNT", 6));
                assertEquals(-1, keepaliveTimerSeconds(none), "no SO_KEEPALIVE without tcp_keepalive");
            } finally {
                kept.close().sync();
                defaults.close().sync();
                none.close().sync();
            }
        } finally {
            transport.close();
        }
    }

    private static Channel connected(io.netty.channel.ChannelFuture f) throws InterruptedException {
        assertTrue(f.await(5_000) && f.isSuccess(), () -> "connected: " + f.cause());
        return f.channel();
    }

    /** An IPPROTO_TCP option of the socket as the kernel reads it back (getsockopt). */
    private static Integer option(Channel ch, String name, int optname) {
        if (ch instanceof io.netty.channel.socket.nio.NioSocketChannel) {
            var option = switch (name) {
                case "TCP_KEEPIDLE" -> jdk.net.ExtendedSocketOptions.TCP_KEEPIDLE;
                case "TCP_KEEPINTVL" -> jdk.net.ExtendedSocketOptions.TCP_KEEPINTERVAL;
                default -> jdk.net.ExtendedSocketOptions.TCP_KEEPCOUNT;
            };
            return ch.config().getOption(io.netty.channel.socket.nio.NioChannelOption.of(option));
        }
        return ch.config().getOption(new io.netty.channel.unix.IntegerUnixChannelOption(name, 6, optname));
    }

    /**
     * The seconds left on the socket's keepalive timer as ss shows it, or -1 when it has none: iproute2's print_ms_timer
     * writes {@code 119min}, {@code 45sec}, {@code 6.960ms} (6 s 960 ms) or {@code 960ms}.
     */
    private static double keepaliveTimerSeconds(Channel ch) throws Exception {
        int port = ((InetSocketAddress) ch.localAddress()).getPort();
        Process p = new ProcessBuilder("ss", "-tnoH", "state", "established", "( sport = :" + port + " )").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("timer:\\(keepalive,(?:(\\d+)min)?(?:(\\d+)(?:sec|\\.))?(?:(\\d+)ms)?,")
                .matcher(out);
        if (!m.find()) {
            assertTrue(out.contains(":" + port), "ss shows the socket: " + out);
            return -1;
        }
        return number(m.group(1)) * 60 + number(m.group(2)) + number(m.group(3)) / 1000;
    }

    private static double number(String digits) {
        return digits == null ? 0 : Double.parseDouble(digits);
    }
}
