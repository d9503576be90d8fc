package io.sourcemesh.proxy.listener;

import static io.sourcemesh.proxy.testing.Configs.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sourcemesh.l4.transport.Transport;
import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.testing.Http1Response;
import io.sourcemesh.proxy.testing.Origin;
import io.sourcemesh.proxy.testing.SocketSegments;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
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
                assertEquals(0, AcceptedSockets.of(proxy.listeners().get(0), s).config().getOption(Transport.TCP_CORK), "after response " + (i + 1));
            }
            assertEquals(200, closingGet(s));
            assertEquals(-1, s.getInputStream().read(), "the proxy closed the connection after the last");
        }
    }

    private static int closingGet(Socket s) throws Exception {
        s.getOutputStream().write("GET /echo HTTP/1.1\r\nhost: example\r\nconnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        return response(s);
    }

    private static int response(Socket s) throws Exception {
        s.setSoTimeout(10_000);
        return Http1Response.status(s.getInputStream());
    }
}
