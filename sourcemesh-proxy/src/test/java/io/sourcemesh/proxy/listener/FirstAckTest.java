package io.sourcemesh.proxy.listener;

import static io.sourcemesh.proxy.testing.Configs.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sourcemesh.l4.transport.Transport;
import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.ListenerConfig;
import io.sourcemesh.proxy.config.ListenerFilterConfig;
import io.sourcemesh.proxy.config.ProxyConfig;
import io.sourcemesh.proxy.testing.Http1Response;
import io.sourcemesh.proxy.testing.Origin;
import io.sourcemesh.proxy.testing.SocketSegments;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The first ACK of a connection to an HTTP listener ({@link io.sourcemesh.proxy.network.FirstAck}), on the real
 * kernel: an HTTP-only listener's connections start with their ACK delayed, so the first response carries it (the
 * client receives no bare ACK: counted in its socket's {@code segs_in} by {@code ss}); a listener that also speaks
 * TCP keeps quick ACKs; a client holding the rest of its first request back for an ACK (Nagle) gets it at once.
 */
class FirstAckTest {
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

    @Test
    void anHttpListenersConnectionsStartWithTheirFirstAckDelayed() throws Exception {
        start(httpOnly(), tcpOnly(), mixed());
        assertEquals(0, quickAckOfAConnectionTo("http"), "HTTP only: the first ACK waits for the response");
        assertEquals(1, quickAckOfAConnectionTo("tcp"), "tcp_proxy: the kernel's default");
        assertEquals(1, quickAckOfAConnectionTo("mixed"), "an HTTP chain beside a tcp_proxy one: the kernel's default");
    }

    @Test
    void theResponseCarriesTheFirstRequestsAck() throws Exception {
        start(httpOnly());
        InetSocketAddress listener = proxy.listenerAddress("http");
        for (int i = 0; i < 3; i++) { // the path warmed: a reply within the kernel's 40 ms delayed-ACK timeout
            try (Socket s = new Socket(listener.getAddress(), listener.getPort())) {
                assertEquals(200, get(s));
            }
        }
        List<Integer> segmentsIn = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            try (Socket s = new Socket(listener.getAddress(), listener.getPort())) {
                assertEquals(200, get(s));
                segmentsIn.add(SocketSegments.received(s)); // keep-alive: no FIN yet; the SYN-ACK, the response, and any bare ACK
            }
        }
        // With quick ACKs every connection receives 3 (the kernel acknowledges the request on arrival); a reply
        // later than the delayed-ACK timeout (a loaded machine) adds one for that connection only.
        long carried = segmentsIn.stream().filter(n -> n == 2).count();
        assertTrue(carried >= 5, "segments the client received per connection (SYN-ACK, response, bare ACK?): " + segmentsIn);
    }

    @Test
    void aFirstRequestHeldBackForItsAckIsAcknowledgedAtOnce() throws Exception {
        start(httpOnly());
        assertAcknowledgedAtOnce("http", "", "GET /echo HTTP/1.1\r\n", "host: example\r\n\r\n");
    }

    @Test
    void aProxyProtocolHeaderHeldBackForItsAckIsAcknowledgedAtOnce() throws Exception {
        var proxyProtocol = new ListenerFilterConfig.ProxyProtocol("envoy.filters.listener.proxy_protocol", false, List.of());
        start(listener("http", "127.0.0.1", List.of(proxyProtocol), chain(hcm(routeAll("origin"), false, List.of()))));
        // The listener filter waits for the rest of the header: the client may be waiting for the ACK of the first piece.
        assertAcknowledgedAtOnce("http", "PROXY TCP4 192.0.2.1 127.0.0.1 40000 80\r\n", "PROXY TCP4 192.0.2.1 ",
                "127.0.0.1 40000 80\r\nGET /echo HTTP/1.1\r\nhost: example\r\n\r\n");
    }

    /**
     * A first request written in two pieces with Nagle on (Java's default): the second waits until the first is
     * acknowledged. A delayed ACK comes after the kernel's timeout, at least 40 ms; acknowledged at once, the whole
     * exchange takes a few. {@code warm}: what precedes a whole request on the warm-up connection.
     */
    private void assertAcknowledgedAtOnce(String name, String warm, String first, String rest) throws Exception {
        InetSocketAddress listener = proxy.listenerAddress(name);
        try (Socket s = new Socket(listener.getAddress(), listener.getPort())) {
            s.getOutputStream().write(warm.getBytes(StandardCharsets.US_ASCII));
            assertEquals(200, get(s));
        }
        List<Long> millis = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            try (Socket s = new Socket(listener.getAddress(), listener.getPort())) {
                s.setSoTimeout(10_000);
                OutputStream out = s.getOutputStream();
                long start = System.nanoTime();
                out.write(first.getBytes(StandardCharsets.US_ASCII));
                out.write(rest.getBytes(StandardCharsets.US_ASCII));
                assertEquals(200, Http1Response.status(s.getInputStream()));
                millis.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
            }
        }
        assertTrue(millis.stream().anyMatch(ms -> ms < 35), "a first request in two pieces, ms each: " + millis);
    }

    @Test
    void aListenerThatStopsSpeakingOnlyHttpAcksAtOnceAgain() throws Exception {
        start(httpOnly());
        assertEquals(0, quickAckOfAConnectionTo("http"));
        proxy.apply(config(new ListenerConfig("http", new InetSocketAddress("127.0.0.1", 0), false, false, List.of(),
                List.of(chain(hcm(routeAll("origin"), false, List.of()))), Optional.of(chain(tcp("origin", List.of()))), true)));
        assertEquals(1, quickAckOfAConnectionTo("http"), "the same bound socket, now also tcp_proxy");
        proxy.apply(config(httpOnly()));
        assertEquals(0, quickAckOfAConnectionTo("http"), "HTTP only again");
    }

    private void start(ListenerConfig... listeners) throws Exception {
        origin = Origin.start();
        proxy = Proxy.start(config(listeners), 1);
        assumeTrue(proxy.transport().isNative(), "TCP_QUICKACK needs a native transport: " + proxy.transport().description());
    }

    private ProxyConfig config(ListenerConfig... listeners) {
        return proxy(List.of(listeners), List.of(staticCluster("origin", origin.address())));
    }

    private static ListenerConfig httpOnly() {
        return listener("http", "127.0.0.1", List.of(), chain(hcm(routeAll("origin"), false, List.of())));
    }

    private static ListenerConfig tcpOnly() {
        return listener("tcp", "127.0.0.1", List.of(), chain(tcp("origin", List.of())));
    }

    private static ListenerConfig mixed() {
        return new ListenerConfig("mixed", new InetSocketAddress("127.0.0.1", 0), false, false, List.of(),
                List.of(chain(hcm(routeAll("origin"), false, List.of()))), Optional.of(chain(tcp("origin", List.of()))), true);
    }

    /** TCP_QUICKACK read back from the socket the listener accepted for a new client that has sent nothing yet. */
    private int quickAckOfAConnectionTo(String name) throws Exception {
        InetSocketAddress address = proxy.listenerAddress(name);
        ListenerRuntime listener = proxy.listeners().stream().filter(l -> l.name().equals(name)).findFirst().orElseThrow();
        try (Socket s = new Socket(address.getAddress(), address.getPort())) {
            return AcceptedSockets.of(listener, s).config().getOption(Transport.TCP_QUICKACK);
        }
    }

    private static int get(Socket s) throws Exception {
        s.getOutputStream().write("GET /echo HTTP/1.1\r\nhost: example\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        s.setSoTimeout(10_000);
        return Http1Response.status(s.getInputStream());
    }
}
