package io.sourcemesh.proxy.listener;

import static io.sourcemesh.proxy.testing.Configs.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.Channel;
import io.sourcemesh.l4.transport.Transport;
import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.testing.Origin;
import io.sourcemesh.proxy.testing.SocketSegments;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A response that closes its connection leaves with the FIN in its last segment (the socket corked for the last
 * write, {@code HttpStream.flushResponse}); a connection kept alive is never corked. In the listener's package to
 * read the accepted sockets' options back.
 */
class FinWithLastResponseTest {
    private Proxy proxy;
    private Origin origin;
    private InetSocketAddress listener;

    @BeforeEach
    void start() throws Exception {
        origin = Origin.start();
        proxy = Proxy.start(proxy(List.of(listener("http", "127.0.0.1", List.of(), chain(hcm(routeAll("origin"), false, List.of())))),
                List.of(staticCluster("origin", origin.address()))), 1);
        assumeTrue(proxy.transport().isNative(), "TCP_CORK needs a native transport: " + proxy.transport().description());
        listener = proxy.listenerAddress("http");
    }

    @AfterEach
    void stop() {
        proxy.close();
        origin.close();
    }

    @Test
    void aResponseThatClosesTheConnectionCarriesTheFin() throws Exception {
        for (int i = 0; i < 3; i++) { // the path warmed
            try (Socket s = new Socket(listener.getAddress(), listener.getPort())) {
                assertEquals(200, closingGet(s));
            }
        }
        List<Integer> segmentsIn = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            try (Socket s = new Socket(listener.getAddress(), listener.getPort())) {
                assertEquals(200, closingGet(s));
                assertEquals(-1, s.getInputStream().read(), "the proxy closed the connection");
                segmentsIn.add(SocketSegments.received(s));
            }
        }
        // The SYN-ACK and the response with the FIN (the request's ACK rides on the response: FirstAck). Sent apart,
        // the FIN is a third; a close later than the kernel's 200 ms cork limit (a loaded machine) sends it apart too.
        long together = segmentsIn.stream().filter(n -> n == 2).count();
        assertTrue(together >= 5, "segments the client received per connection: " + segmentsIn);
    }

    @Test
    void aConnectionKeptAliveIsNeverCorked() throws Exception {
        try (Socket s = new Socket(listener.getAddress(), listener.getPort())) {
            for (int i = 0; i < 3; i++) {
                s.getOutputStream().write("GET /echo HTTP/1.1\r\nhost: example\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                assertEquals(200, response(s));
                assertEquals(0, acceptedFrom(s).config().getOption(Transport.TCP_CORK), "after response " + (i + 1));
            }
            assertEquals(200, closingGet(s));
            assertEquals(-1, s.getInputStream().read(), "the proxy closed the connection after the last");
        }
    }

    /** The accepted socket of this client. */
    private Channel acceptedFrom(Socket s) throws Exception {
        ListenerRuntime runtime = proxy.listeners().get(0);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            for (Channel ch : runtime.openConnections()) {
                if (((InetSocketAddress) ch.remoteAddress()).getPort() == s.getLocalPort()) {
                    return ch;
                }
            }
            Thread.sleep(5);
        }
        throw new AssertionError("no accepted connection from port " + s.getLocalPort());
    }

    private static int closingGet(Socket s) throws Exception {
        s.getOutputStream().write("GET /echo HTTP/1.1\r\nhost: example\r\nconnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        return response(s);
    }

    /** Reads one response with a Content-Length body; its status. */
    private static int response(Socket s) throws Exception {
        s.setSoTimeout(10_000);
        InputStream in = s.getInputStream();
        StringBuilder head = new StringBuilder();
        for (int c; (c = in.read()) != -1; ) {
            head.append((char) c);
            if (head.length() >= 4 && head.substring(head.length() - 4).equals("\r\n\r\n")) {
                int length = 0;
                for (String line : head.toString().split("\r\n")) {
                    if (line.regionMatches(true, 0, "content-length:", 0, 15)) {
                        length = Integer.parseInt(line.substring(15).trim());
                    }
                }
                in.readNBytes(length);
                return Integer.parseInt(head.substring(9, 12));
            }
        }
        throw new java.io.EOFException("connection closed after " + head);
    }
}
