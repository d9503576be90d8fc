package io.sourcemesh.cluster.apps;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Sockets, timing and logging: delays that block nobody, keep-alive, pipelining, the access log. */
class HttpbinConnectionTest {
    private static HttpbinFixture bin;

    @BeforeAll
    static void start() {
        bin = HttpbinFixture.start("127.17.0.7");
    }

    @AfterAll
    static void stop() {
        bin.close();
    }

    @Test
    void bindsExactlyTheGivenAddress() throws Exception {
        assertEquals("127.17.0.7", bin.app.address().getAddress().getHostAddress());
        assertTrue(bin.app.address().getPort() > 0);
        try (Socket other = new Socket()) {
            // the same port on another loopback address has nobody listening
            assertThrows(java.net.ConnectException.class,
                    () -> other.connect(new InetSocketAddress("127.17.0.8", bin.app.address().getPort()), 2000));
        }
    }

    @Test
    void bindingATakenAddressFailsClearly() {
        UncheckedIOException e = assertThrows(UncheckedIOException.class,
                () -> HttpbinApp.start(bin.app.address(), bin.group));
        assertTrue(e.getMessage().contains(bin.app.address().toString()), e.getMessage());
    }

    @Test
    void delaysRunSideBySideNotOneAfterAnother() throws Exception {
        long start = System.nanoTime();
        CompletableFuture<HttpResponse<String>> a = CompletableFuture.supplyAsync(() -> get("/delay/1"));
        CompletableFuture<HttpResponse<String>> b = CompletableFuture.supplyAsync(() -> get("/delay/1?n=2"));
        HttpResponse<String> ip = get("/ip"); // while both wait, the app answers at once
        long ipMillis = (System.nanoTime() - start) / 1_000_000;
        assertEquals(200, a.join().statusCode());
        assertEquals(200, b.join().statusCode());
        long totalMillis = (System.nanoTime() - start) / 1_000_000;
        assertEquals(200, ip.statusCode());
        assertTrue(ipMillis < 900, "/ip waited for the delays: " + ipMillis + " ms");
        assertTrue(totalMillis >= 1000 && totalMillis < 1900, "two 1 s delays took " + totalMillis + " ms");
        assertEquals(java.util.Set.of("args", "data", "files", "form", "headers", "origin", "url"),
                fieldNames(HttpbinFixture.json(b.join())));
        assertEquals("2", HttpbinFixture.json(b.join()).get("args").get("n").asText());
    }

    @Test
    void delayIsCappedAtTenSecondsAndTakesFractions() throws Exception {
        long start = System.nanoTime();
        assertEquals(200, get("/delay/0.3").statusCode());
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(millis >= 300 && millis < 1000, millis + " ms");
    }

    @Test
    void keepAliveServesManyRequestsOnOneSocket() throws Exception {
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.77"), 0));
            s.connect(bin.app.address());
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            for (int i = 0; i < 3; i++) {
                out.write(("GET /ip HTTP/1.1\r\nHost: httpbin:8000\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                String response = readResponse(in);
                assertTrue(response.startsWith("HTTP/1.1 200 OK\r\n"), response);
                assertTrue(response.contains("\r\nConnection: keep-alive\r\n"), response);
                assertTrue(response.endsWith("\r\n\r\n{\n  \"origin\": \"127.0.0.77\"\n}\n"), response);
            }
        }
    }

    @Test
    void pipelinedRequestsAreAnsweredInOrderBehindADelay() throws Exception {
        try (Socket s = new Socket()) {
            s.connect(bin.app.address());
            s.getOutputStream().write(("GET /delay/0.5 HTTP/1.1\r\nHost: h\r\n\r\n"
                    + "GET /status/418 HTTP/1.1\r\nHost: h\r\n\r\n"
                    + "GET /ip HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            assertTrue(readResponse(in).startsWith("HTTP/1.1 200 OK"));
            assertTrue(readResponse(in).startsWith("HTTP/1.1 418 I'M A TEAPOT"));
            String last = readResponse(in);
            assertTrue(last.contains("\r\nConnection: close\r\n"), last);
            assertEquals(-1, in.read(), "closed after Connection: close");
        }
    }

    @Test
    void http10ClosesAfterTheResponse() throws Exception {
        try (Socket s = new Socket()) {
            s.connect(bin.app.address());
            s.getOutputStream().write("GET /stream/2 HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(all.startsWith("HTTP/1.0 200 OK\r\n"), all);
            assertTrue(all.contains("\r\nContent-Length: "), "no chunks in HTTP/1.0: " + all);
            assertEquals(2, all.substring(all.indexOf("\r\n\r\n") + 4).split("\n").length);
        }
    }

    @Test
    void garbageGetsA400AndTheSocketCloses() throws Exception {
        try (Socket s = new Socket()) {
            s.connect(bin.app.address());
            s.getOutputStream().write("NOT HTTP AT ALL\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            String all = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(all.startsWith("HTTP/1.1 400 BAD REQUEST\r\n"), all);
        }
    }

    @Test
    void accessLogIsGunicornsDefaultFormat() throws Exception {
        bin.log.clear();
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.6"), 0));
            s.connect(bin.app.address());
            s.getOutputStream().write(("GET /status/404?x=1 HTTP/1.1\r\nHost: h\r\nUser-Agent: curl/8.5.0\r\n"
                    + "Referer: http://r/\r\nAuthorization: Basic dXNlcjpwYXNz\r\nX-Forwarded-For: 9.9.9.9\r\n"
                    + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            s.getInputStream().readAllBytes();
        }
        get("/ip");
        // A line of an earlier test's request may still land after clear(): keep this test's two,
        // the raw request's line and the /ip line that follows it.
        java.util.function.Supplier<java.util.List<String>> mine = () -> {
            java.util.List<String> all = java.util.List.copyOf(bin.log);
            int raw = -1;
            for (int i = 0; i < all.size(); i++) {
                if (all.get(i).contains("/status/404?x=1")) {
                    raw = i;
                }
            }
            java.util.List<String> out = new java.util.ArrayList<>();
            if (raw >= 0) {
                out.add(all.get(raw));
                all.subList(raw + 1, all.size()).stream().filter(l -> l.contains("Java-http-client")).findFirst().ifPresent(out::add);
            }
            return out;
        };
        long deadline = System.currentTimeMillis() + 2000;
        while (mine.get().size() < 2 && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
        }
        java.util.List<String> lines = mine.get();
        assertEquals(2, lines.size(), bin.log.toString());
        String time = "\\[\\d{2}/[A-Z][a-z]{2}/\\d{4}:\\d{2}:\\d{2}:\\d{2} [+-]\\d{4}\\]";
        assertTrue(Pattern.matches("127\\.0\\.0\\.6 - user " + time
                + " \"GET /status/404\\?x=1 HTTP/1\\.1\" 404 - \"http://r/\" \"curl/8\\.5\\.0\"", lines.get(0)),
                lines.get(0));
        assertTrue(Pattern.matches("127\\.0\\.0\\.1 - - " + time
                + " \"GET /ip HTTP/1\\.1\" 200 28 \"-\" \"Java-http-client/[0-9.]+\"", lines.get(1)), lines.get(1));
    }

    @Test
    void closeStopsListening() throws Exception {
        HttpbinApp app = HttpbinApp.start(new InetSocketAddress("127.17.0.10", 0), bin.group);
        InetSocketAddress at = app.address();
        try (Socket s = new Socket()) {
            s.connect(at, 2000);
        }
        app.close();
        try (Socket s = new Socket()) {
            assertThrows(java.net.ConnectException.class, () -> s.connect(at, 2000));
        }
    }

    @Test
    void runsOnAnNioGroupToo() throws Exception {
        var nio = new io.netty.channel.MultiThreadIoEventLoopGroup(1, io.netty.channel.nio.NioIoHandler.newFactory());
        try {
            HttpbinApp app = HttpbinApp.start(new InetSocketAddress("127.17.0.11", 0), nio);
            try (Socket s = new Socket()) {
                s.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.88"), 0));
                s.connect(app.address());
                s.getOutputStream().write("GET /ip HTTP/1.1\r\nHost: h\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                assertTrue(readResponse(s.getInputStream()).endsWith("{\n  \"origin\": \"127.0.0.88\"\n}\n"));
            } finally {
                app.close();
            }
        } finally {
            nio.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    private static java.util.Set<String> fieldNames(com.fasterxml.jackson.databind.JsonNode node) {
        java.util.Set<String> out = new java.util.HashSet<>();
        node.fieldNames().forEachRemaining(out::add);
        return out;
    }

    private static HttpResponse<String> get(String path) {
        try {
            return bin.get(path);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Reads one response with a Content-Length body from a raw socket. */
    private static String readResponse(InputStream in) throws Exception {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IllegalStateException("connection closed mid-headers: " + head);
            }
            head.write(b);
        }
        String headers = head.toString(StandardCharsets.ISO_8859_1);
        var m = Pattern.compile("(?i)\r\ncontent-length: (\\d+)\r\n").matcher(headers);
        int length = m.find() ? Integer.parseInt(m.group(1)) : 0;
        return headers + new String(in.readNBytes(length), StandardCharsets.UTF_8);
    }
}
