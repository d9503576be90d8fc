package io.sourcemesh.l4;

import io.sourcemesh.l4.embedded.Interception;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
}
