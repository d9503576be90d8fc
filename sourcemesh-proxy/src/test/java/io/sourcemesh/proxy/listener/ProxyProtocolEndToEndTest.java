package io.sourcemesh.proxy.listener;

import static io.sourcemesh.proxy.testing.Configs.*;
import static org.junit.jupiter.api.Assertions.*;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.ListenerFilterConfig;
import io.sourcemesh.proxy.testing.Origin;
import io.sourcemesh.proxy.testing.RawSocket;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Refused PROXY headers close the connection at a real listener; nothing reaches the origin. */
class ProxyProtocolEndToEndTest {
    private Origin origin;
    private Proxy proxy;
    private int port;

    @BeforeEach
    void start() throws Exception {
        origin = Origin.start();
        var pp = new ListenerFilterConfig.ProxyProtocol("envoy.filters.listener.proxy_protocol", false, List.of());
        proxy = Proxy.start(proxy(List.of(listener("pp", "127.0.0.1", List.of(pp), chain(hcm(routeAll("origin"), true, List.of())))),
                List.of(staticCluster("origin", origin.address()))), 1);
        port = proxy.listenerAddress("pp").getPort();
    }

    @AfterEach
    void stop() {
        proxy.close();
        origin.close();
    }

    @Test
    void nonLiteralAddressesCloseTheConnection() throws Exception {
        for (String source : List.of("010.6.6.6", "127.1", "bad.cafe", "localhost")) {
            RawSocket.Reply r = RawSocket.exchange(port,
                    "PROXY TCP4 " + source + " 127.0.0.1 1234 80\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
            assertTrue(r.closed(), source);
            assertEquals("", r.text(), source);
        }
        assertTrue(origin.seen().isEmpty());
        RawSocket.Reply good = RawSocket.exchange(port,
                "PROXY TCP4 6.6.6.6 127.0.0.1 1234 80\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertEquals("HTTP/1.1 200 OK", good.statusLine());
        assertEquals("6.6.6.6", origin.last().header("x-forwarded-for"));
    }

    @Test
    void v2LocalKeepsTheSocketsAddress() throws Exception {
        byte[] local = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A, 0x20, 0x00, 0x00, 0x00};
        try (RawSocket s = RawSocket.connect(port)) {
            s.send(local).send("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertEquals("HTTP/1.1 200 OK", s.readUntilClose(3000).statusLine());
        }
        assertEquals("127.0.0.1", origin.last().header("x-forwarded-for"));
    }

    /** The client address a TCP6 header names keeps its family, as Envoy's: XFF carries {@code ::ffff:6.6.6.6}, not 6.6.6.6. */
    @Test
    void anIpv4MappedSourceStaysIpv6AndANonUnicastOneIsRefused() throws Exception {
        RawSocket.Reply mapped = RawSocket.exchange(port,
                "PROXY TCP6 ::ffff:6.6.6.6 ::1 1234 80\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertEquals("HTTP/1.1 200 OK", mapped.statusLine());
        assertEquals("::ffff:6.6.6.6", origin.last().header("x-forwarded-for"));
        RawSocket.Reply broadcast = RawSocket.exchange(port,
                "PROXY TCP4 255.255.255.255 127.0.0.1 1234 80\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assertTrue(broadcast.closed());
        assertEquals("", broadcast.text());
    }
}
