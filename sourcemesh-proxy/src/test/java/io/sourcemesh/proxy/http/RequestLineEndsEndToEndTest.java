package io.sourcemesh.proxy.http;

import static org.junit.jupiter.api.Assertions.*;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.HttpBootstrap;
import io.sourcemesh.proxy.testing.RawOrigin;
import io.sourcemesh.proxy.testing.RawSocket;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A request head whose lines end in a bare LF, or with a lone CR in a value, over a real socket: Envoy's server codec
 * takes it. Balsa ends a line at LF with or without a CR before it and the head at an empty line or a lone CR
 * ({@code quiche/balsa/balsa_frame.cc} ProcessHeaders); Envoy's policy leaves disallow_lone_cr_in_request_headers off
 * and its BalsaParser removes CR and LF from values ({@code source/common/http/http1/balsa_parser.cc}). The request goes
 * upstream as a CRLF head, the next one on the connection is served. A CR before a name's colon is still refused
 * (not a token byte: HPE_INVALID_HEADER_TOKEN).
 */
class RequestLineEndsEndToEndTest {
    private static final String OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    private RawOrigin origin;
    private Proxy proxy;
    private int port;

    @BeforeEach
    void start() throws Exception {
        origin = RawOrigin.replyingInTurn(OK);
        proxy = Proxy.start(BootstrapLoader.loadText(HttpBootstrap.toOrigin(origin.address().getPort()).yaml()), 1);
        port = proxy.listenerAddress("http").getPort();
    }

    @AfterEach
    void stop() throws Exception {
        proxy.close();
        origin.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "GET /a HTTP/1.1\nHost: x\nX-A: b\n\n",
            "GET /a HTTP/1.1\r\nHost: x\nX-A: b\r\n\n",
            "GET /a HTTP/1.1\nHost: x\r\nX-A: b\n\r\n",
            "GET /a HTTP/1.1\r\nHost: x\r\nX-A: \rb\r\n\r\n",
            "GET /a HTTP/1.1\r\nHost: x\r\nX-A: b\r\r\n\r\n",
    })
    void aHeadWithBareLineFeedsOrALoneCarriageReturnIsServed(String head) throws Exception {
        try (RawSocket s = RawSocket.connect(port)) {
            s.send(head);
            String first = s.readUntil(t -> t.endsWith("ok"), 50).text();
            assertTrue(first.startsWith("HTTP/1.1 200 OK\r\n"), first);
            s.send("GET /b HTTP/1.1\r\nHost: x\r\n\r\n");
            String second = s.readUntil(t -> t.endsWith("ok"), 50).text();
            assertTrue(second.startsWith("HTTP/1.1 200 OK\r\n"), second);
        }
        List<String> seen = origin.requests();
        assertEquals(2, seen.size(), seen.toString());
        assertTrue(seen.get(0).startsWith("GET /a HTTP/1.1\r\n"), seen.get(0));
        assertTrue(seen.get(0).contains("\r\nx-a: b\r\n"), "the value without its CR: " + seen.get(0));
        assertTrue(seen.get(0).contains("\r\nhost: x\r\n"), seen.get(0));
        assertFalse(seen.get(0).replace("\r\n", "").contains("\r") || seen.get(0).replace("\r\n", "").contains("\n"),
                "CRLF lines only: " + seen.get(0));
        assertTrue(seen.get(1).startsWith("GET /b HTTP/1.1\r\n"), seen.get(1));
    }

    /**
     * A byte no method starts with, first in a request, is refused there, as Envoy's BalsaParser (HPE_INVALID_METHOD):
     * a TLS ClientHello sent to this plaintext port (no line end in sight) gets its 400 and the close at once, not after
     * the client gives up; so does a request after a served one on the same connection. Others are still served.
     */
    @Test
    void aRequestThatNoMethodStartsIsRefusedAtItsFirstByte() throws Exception {
        byte[] clientHello = {0x16, 0x03, 0x01, 0x00, (byte) 0xa5, 0x01, 0x00, 0x00, (byte) 0xa1, 0x03, 0x03, 0x11, 0x22};
        try (RawSocket s = RawSocket.connect(port)) {
            long start = System.nanoTime();
            RawSocket.Reply reply = s.send(clientHello).readUntilClose(5_000);
            assertTrue(reply.closed(), "closed: " + reply.text());
            assertTrue(reply.text().startsWith("HTTP/1.1 400 Bad Request\r\n"), reply.text());
            assertTrue(System.nanoTime() - start < 4_000_000_000L, "answered at once");
        }
        try (RawSocket s = RawSocket.connect(port)) {
            s.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
            assertTrue(s.readUntil(t -> t.endsWith("ok"), 50).text().startsWith("HTTP/1.1 200 OK\r\n"));
            RawSocket.Reply second = s.send("\u0001GET /b HTTP/1.1\r\nHost: x\r\n\r\n").readUntilClose(5_000);
            assertTrue(second.closed() && second.text().startsWith("HTTP/1.1 400 Bad Request\r\n"), second.text());
        }
        assertEquals(List.of("GET /a"), origin.requests().stream().map(r -> r.substring(0, 6)).toList());
        assertTrue(RawSocket.exchange(port, "GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").text()
                .startsWith("HTTP/1.1 200 OK\r\n"));
    }

    /**
     * A request line no version ends — a PROXY protocol header (then TLS, as a sidecar that wraps its mesh TLS in one
     * sends) to this plaintext port, or a line of two words — is refused once it is all here, as Envoy's parser refuses
     * it at the version: a 400 and the close at once, not a wait for a head's end that never comes.
     */
    @ParameterizedTest
    @ValueSource(strings = {"PROXY TCP4 10.0.0.1 10.0.0.2 40000 8000\r\n\u0016\u0003\u0001\u0000\u00a5\u0001",
            "PROXY TCP4 10.0.0.1 10.0.0.2 40000 8000\r\nX", "GET /a\r\n", "GET /a HTTP/\r\nHost: x"})
    void aRequestLineNoVersionEndsIsRefusedOnceItIsHere(String start) throws Exception {
        try (RawSocket s = RawSocket.connect(port)) {
            long begin = System.nanoTime();
            RawSocket.Reply reply = s.send(start.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1)).readUntilClose(5_000);
            assertTrue(reply.closed(), "closed: " + reply.text());
            assertTrue(reply.text().startsWith("HTTP/1.1 400 Bad Request\r\n"), reply.text());
            assertTrue(System.nanoTime() - begin < 4_000_000_000L, "answered at once");
        }
        assertTrue(origin.requests().isEmpty(), origin.requests().toString());
        // a valid line still waits for its head, which then is served — after the empty lines a client may send first too
        for (String line : new String[] {"GET /a HTTP/1.1\r\n", "\r\nGET /a HTTP/1.1\r\n"}) {
            try (RawSocket s = RawSocket.connect(port)) {
                s.send(line);
                Thread.sleep(100);
                s.send("Host: x\nX-A: b\n\n");
                String reply = s.readUntil(t -> t.endsWith("ok"), 50).text();
                assertTrue(reply.startsWith("HTTP/1.1 200 OK\r\n"), line + " -> " + reply);
            }
        }
    }

    /** A body after a bare-LF head is read as its Content-Length says. */
    @Test
    void aBodyAfterABareLineFeedHeadIsForwarded() throws Exception {
        try (RawSocket s = RawSocket.connect(port)) {
            s.send("POST /p HTTP/1.1\nHost: x\nContent-Length: 5\n\nhello");
            String reply = s.readUntil(t -> t.endsWith("ok"), 50).text();
            assertTrue(reply.startsWith("HTTP/1.1 200 OK\r\n"), reply);
        }
        assertTrue(origin.requests().get(0).contains("\r\ncontent-length: 5\r\n"), origin.requests().get(0));
    }

    @Test
    void aCarriageReturnInANameIsRefused() throws Exception {
        RawSocket.Reply r = RawSocket.exchange(port, "GET /a HTTP/1.1\nHost: x\nX-\rA: b\n\n");
        assertEquals("HTTP/1.1 400 Bad Request", r.statusLine(), r.text());
        assertTrue(origin.requests().isEmpty(), origin.requests().toString());
    }
}
