package io.sourcemesh.proxy.http;

import static io.sourcemesh.proxy.testing.Configs.*;
import static org.junit.jupiter.api.Assertions.*;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.testing.Origin;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What a stream writes upstream is flushed once at the end of the client's read burst, or at once
 * when it is written outside one (after a connect, for pipelined requests taken up later). A raw
 * client socket controls exactly what arrives in one burst.
 */
class UpstreamFlushTest {
    private Origin origin;
    private Proxy proxy;

    @BeforeEach
    void start() throws Exception {
        origin = Origin.start();
        proxy = Proxy.start(proxy(List.of(listener("http", "127.0.0.1", List.of(), chain(hcm(routeAll("origin"), false, List.of())))),
                List.of(staticCluster("origin", origin.address()))), 1);
    }

    @AfterEach
    void stop() {
        proxy.close();
        origin.close();
    }

    private Socket client() throws IOException {
        Socket s = new Socket("127.0.0.1", proxy.listenerAddress("http").getPort());
        s.setSoTimeout(20_000);
        return s;
    }

    @Test
    void pipelinedRequestsInOneWriteAreAllForwarded() throws Exception {
        try (Socket s = client()) {
            send(s, "GET /a HTTP/1.1\r\nhost: x\r\n\r\nGET /b HTTP/1.1\r\nhost: x\r\n\r\nGET /c HTTP/1.1\r\nhost: x\r\n\r\n");
            InputStream in = s.getInputStream();
            for (int i = 0; i < 3; i++) {
                assertTrue(readResponse(in).startsWith("HTTP/1.1 200"));
            }
        }
        assertEquals(List.of("/a", "/b", "/c"), origin.seen().stream().map(Origin.Seen::uri).toList());
    }

    @Test
    void aBodyInTheSameBurstAsItsHeadReachesTheOrigin() throws Exception {
        try (Socket s = client()) {
            send(s, "POST /upload HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\n\r\nhello");
            assertTrue(readResponse(s.getInputStream()).endsWith("{\"received\":5}"));
        }
    }

    @Test
    void aBodyThatComesLaterIsForwardedWhenItComes() throws Exception {
        try (Socket s = client()) {
            send(s, "POST /upload HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n");
            Thread.sleep(200); // a separate read burst for the rest of the body
            send(s, "6\r\n world\r\n0\r\n\r\n");
            assertTrue(readResponse(s.getInputStream()).endsWith("{\"received\":11}"));
        }
    }

    private static void send(Socket s, String text) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(text.getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    /** One response with a content-length body: its head and body as text. */
    private static String readResponse(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b == -1) {
                throw new IOException("connection closed after " + head);
            }
            head.write(b);
            matched = (b == "\r\n\r\n".charAt(matched)) ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        String text = head.toString(StandardCharsets.US_ASCII);
        int length = 0;
        for (String line : text.split("\r\n")) {
            if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                length = Integer.parseInt(line.substring(15).trim());
            }
        }
        return text + new String(in.readNBytes(length), StandardCharsets.US_ASCII);
    }
}
