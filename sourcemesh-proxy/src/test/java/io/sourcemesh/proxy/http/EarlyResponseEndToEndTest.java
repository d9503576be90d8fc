package io.sourcemesh.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.HttpBootstrap;
import io.sourcemesh.proxy.testing.Curl;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A response that starts before the request's body has all arrived, as Envoy's connection manager answers it on
 * HTTP/1: Connection: close, downstream_rq_response_before_rq_complete counted, and the connection closed once the
 * response is out — after a delay in which what the client still sends is dropped, so the close is not a reset that
 * could reach the client before the response.
 */
class EarlyResponseEndToEndTest {
    private static final String BIG_POST_HEAD = "Host: x\r\nContent-Length: 10000000\r\n\r\n";

    private ServerSocket earlyOrigin;
    private Thread earlyOriginThread;
    private Proxy proxy;

    @BeforeEach
    void start() throws Exception {
        // An upstream that answers 413 as soon as it has a request's head, reads nothing more and keeps the connection.
        earlyOrigin = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        earlyOriginThread = Thread.ofPlatform().daemon().start(() -> {
            while (!earlyOrigin.isClosed()) {
                try {
                    Socket s = earlyOrigin.accept();
                    readHead(s.getInputStream());
                    s.getOutputStream().write("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 4\r\n\r\nbig!"
                            .getBytes(StandardCharsets.ISO_8859_1));
                } catch (IOException e) {
                    return;
                }
            }
        });
        String yaml = HttpBootstrap.toOrigin(earlyOrigin.getLocalPort()).statPrefix("early").routes("""
                - match: {prefix: /local}
                  direct_response: {status: 200, body: {inline_string: local}}
                - match: {prefix: /up}
                  route: {cluster: origin}
                """).yaml();
        proxy = Proxy.start(BootstrapLoader.loadText(yaml), 1);
    }

    @AfterEach
    void stop() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        earlyOrigin.close();
        earlyOriginThread.join(5_000);
    }

    private int port() {
        return proxy.listenerAddress("http").getPort();
    }

    private long earlyResponses() {
        return proxy.stats().counters().getOrDefault("http.early.downstream_rq_response_before_rq_complete", 0L);
    }

    /** Reads up to the end of a head (the blank line); returns it. */
    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("closed before the end of a head: " + head);
            }
            head.write(b);
            matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        return head.toString(StandardCharsets.ISO_8859_1);
    }

    /**
     * Sends a request's head and the first 64 KB of its 10 MB body, reads the response, sends 256 KB more (dropped by
     * the proxy) and stops without closing: the proxy must close the connection itself, with a FIN, not a reset.
     */
    private String answeredEarly(String requestLine, String bodyTail) throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port())) {
            s.setSoTimeout(5_000);
            OutputStream out = s.getOutputStream();
            out.write((requestLine + "\r\n" + BIG_POST_HEAD).getBytes(StandardCharsets.ISO_8859_1));
            byte[] part = new byte[64 * 1024];
            out.write(part);
            out.flush();
            InputStream in = s.getInputStream();
            String head = readHead(in);
            byte[] body = in.readNBytes(bodyTail.length());
            assertEquals(bodyTail, new String(body, StandardCharsets.ISO_8859_1), head);
            for (int i = 0; i < 4; i++) {
                out.write(part); // the client has not read the response yet: still sending its body
            }
            out.flush();
            long sent = System.nanoTime();
            assertEquals(-1, in.read(), "the proxy closes the connection, with a FIN: " + head);
            long waitedMillis = (System.nanoTime() - sent) / 1_000_000;
            assertTrue(waitedMillis < 3_000, "closed " + waitedMillis + " ms after the client stopped sending");
            return head.toLowerCase(Locale.ROOT);
        }
    }

    @Test
    void aLocalReplyBeforeTheBodyEndsSaysCloseAndCloses() throws Exception {
        String head = answeredEarly("POST /local HTTP/1.1", "local");
        assertTrue(head.startsWith("http/1.1 200 ok\r\n"), head);
        assertTrue(head.contains("\r\nconnection: close\r\n"), head);
        assertEquals(1, earlyResponses());
    }

    @Test
    void anUpstreamAnsweringBeforeTheBodyEndsSaysCloseAndCloses() throws Exception {
        String head = answeredEarly("POST /up HTTP/1.1", "big!");
        assertTrue(head.startsWith("http/1.1 413 payload too large\r\n"), head);
        assertTrue(head.contains("\r\nconnection: close\r\n"), head);
        assertEquals(1, earlyResponses());
    }

    @Test
    void aRefusedTargetWithABodyToComeAlsoCloses() throws Exception {
        // Answered by the connection manager before routing (a #fragment): the same rule as any other early answer.
        String head = answeredEarly("POST /local#part HTTP/1.1", "");
        assertTrue(head.startsWith("http/1.1 400 bad request\r\n"), head);
        assertTrue(head.contains("\r\nconnection: close\r\n"), head);
        assertEquals(1, earlyResponses());
    }

    @Test
    void aRequestWithoutABodyAnsweredLocallyKeepsItsConnection() throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port())) {
            s.setSoTimeout(5_000);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            for (int i = 0; i < 2; i++) {
                out.write("GET /local HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                String head = readHead(in).toLowerCase(Locale.ROOT);
                assertFalse(head.contains("connection: close"), head);
                assertEquals("local", new String(in.readNBytes(5), StandardCharsets.ISO_8859_1));
            }
        }
        assertEquals(0, earlyResponses());
    }

    /** curl uploading 8 MB to a route that answers at once gets the answer, not a reset, and exits 0. */
    @Test
    void anUploadAnsweredEarlyReachesCurlWhole(@TempDir Path dir) throws Exception {
        Path upload = dir.resolve("upload");
        Files.write(upload, new byte[8 * 1024 * 1024]);
        for (int i = 0; i < 3; i++) {
            Curl.Result r = Curl.run("-H", "Expect:", "--data-binary", "@" + upload, "http://127.0.0.1:" + port() + "/local");
            assertEquals(0, r.exitCode(), r.err());
            assertEquals(200, r.status(), r.err());
            assertEquals("local", r.body());
        }
        assertEquals(3, earlyResponses());
    }
}
