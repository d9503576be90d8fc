package io.sourcemesh.cli;

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
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The training run of the proxy's JDK 25 AOT cache ({@code sourcemesh proxy --make-aot-cache}, run by
 * the launcher under {@code -XX:AOTCacheOutput}): runs {@code sourcemesh proxy} on a bootstrap of its
 * own (free loopback ports), sends requests through it and to its admin listener, then exits cleanly
 * — the JVM writes the cache at exit, holding the classes this loaded and the methods' profiles.
 */
final class ProxyTraining {
    /** Enough for the request path's methods to reach the JIT's profiling tiers. */
    private static final int REQUESTS = 300;

    private ProxyTraining() {
    }

    public static void main(String[] args) throws Exception {
        NettyLogging.useJul(); // as ProxyMain does: the cache then holds the classes a start loads
        int admin = freePort();
        int front = freePort();
        int back = freePort();
        String template;
        try (InputStream in = Objects.requireNonNull(ProxyTraining.class.getResourceAsStream("proxy-training.yaml"))) {
            template = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Path bootstrap = Files.createTempFile("sourcemesh-proxy-training", ".yaml");
        Files.writeString(bootstrap, template.replace("@ADMIN@", String.valueOf(admin))
                .replace("@FRONT@", String.valueOf(front)).replace("@BACK@", String.valueOf(back)));
        AtomicInteger status = new AtomicInteger(-1);
        Thread proxy = new Thread(() -> status.set(train("proxy", "-c", bootstrap.toString(), "--concurrency", "1")),
                "proxy");
        proxy.setDaemon(true);
        proxy.start();
        try {
            awaitReady(admin, proxy, status);
            // Keep-alive and one connection per request: both connection paths and the upstream pool.
            try (Socket s = connect(front)) {
                for (int i = 0; i < REQUESTS; i++) {
                    expect200(exchange(s, "GET /training/" + i + " HTTP/1.1\r\nHost: training\r\n\r\n", false), "request " + i);
                }
            }
            for (int i = 0; i < 20; i++) {
                try (Socket s = connect(front)) {
                    expect200(exchange(s, "POST /training HTTP/1.1\r\nHost: training\r\nContent-Length: 5\r\n"
                            + "Connection: close\r\n\r\nhello", true), "request on a new connection");
                }
            }
        } catch (IOException | RuntimeException e) {
            System.err.println("proxy training failed: " + e);
            Runtime.getRuntime().halt(1); // no cache from a run that did not serve
        } finally {
            Files.deleteIfExists(bootstrap);
        }
        System.exit(0); // the proxy's shutdown hook closes it; then the JVM writes the cache
    }

    /** The proxy as the launcher starts it: through {@link ProxyMain}, so the cache holds what a proxy loads. */
    private static int train(String... args) {
        try {
            return ProxyMain.execute(args);
        } catch (Exception e) {
            System.err.println("proxy training failed: " + e);
            return 1;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static Socket connect(int port) throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
        s.setSoTimeout(10_000);
        return s;
    }

    private static void awaitReady(int admin, Thread proxy, AtomicInteger status) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (!proxy.isAlive()) {
                throw new IOException("the proxy exited with status " + status.get());
            }
            try (Socket s = connect(admin)) {
                if (exchange(s, "GET /ready HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n", true).startsWith("HTTP/1.1 200")) {
                    return;
                }
            } catch (IOException notYet) {
                // the admin listener is not bound yet
            }
            Thread.sleep(50);
        }
        throw new IOException("the proxy was not ready in 60 s");
    }

    private static void expect200(String response, String what) throws IOException {
        if (!response.startsWith("HTTP/1.1 200")) {
            throw new IOException(what + ": " + response.lines().findFirst().orElse("no response"));
        }
    }

    /** Sends {@code request}; reads the answer to the end of its body (Content-Length) or, with {@code toEof}, of the stream. */
    private static String exchange(Socket s, String request, boolean toEof) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(request.getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = s.getInputStream();
        if (toEof) {
            return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        }
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0) {
            head.write(b);
            byte[] h = head.toByteArray();
            int n = h.length;
            if (n >= 4 && h[n - 4] == '\r' && h[n - 3] == '\n' && h[n - 2] == '\r' && h[n - 1] == '\n') {
                break;
            }
        }
        String headers = head.toString(StandardCharsets.ISO_8859_1);
        int length = headers.lines().filter(l -> l.regionMatches(true, 0, "content-length:", 0, 15))
                .mapToInt(l -> Integer.parseInt(l.substring(15).strip())).findFirst()
                .orElseThrow(() -> new IOException("no content-length in " + headers));
        in.readNBytes(length);
        return headers;
    }
}
