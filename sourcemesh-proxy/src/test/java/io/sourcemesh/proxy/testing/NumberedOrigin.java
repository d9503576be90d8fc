package io.sourcemesh.proxy.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A keep-alive origin on loopback that numbers its connections and answers every request with
 * "conn-N", N the number of the connection it came on; a request for {@code /slow} is answered after
 * a set delay. It records when each connection was accepted and last answered on, and when the
 * other side closed it — what a test of the proxy's upstream connection lifetimes asks.
 */
public final class NumberedOrigin implements AutoCloseable {
    private final ServerSocket server;
    private final Duration slow;
    private final AtomicInteger connections = new AtomicInteger();
    private final Map<Integer, Long> acceptedAt = new ConcurrentHashMap<>();
    private final Map<Integer, Long> answeredAt = new ConcurrentHashMap<>();
    private final Map<Integer, CountDownLatch> closed = new ConcurrentHashMap<>();

    private NumberedOrigin(Duration slow) throws IOException {
        this.slow = slow;
        server = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        Thread.ofVirtual().start(this::accept);
    }

    /** An origin whose {@code /slow} answers after {@code slow}. */
    public static NumberedOrigin start(Duration slow) throws IOException {
        return new NumberedOrigin(slow);
    }

    public int port() {
        return server.getLocalPort();
    }

    /** Waits up to {@code timeout} for connection {@code n} to be closed by its peer (or reset). */
    public boolean awaitClosed(int n, Duration timeout) throws InterruptedException {
        return closed.computeIfAbsent(n, k -> new CountDownLatch(1)).await(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Milliseconds since connection {@code n} was accepted. */
    public long millisSinceAccepted(int n) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - acceptedAt.get(n));
    }

    /** Milliseconds since the origin last answered on connection {@code n}. */
    public long millisSinceAnswered(int n) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - answeredAt.get(n));
    }

    private void accept() {
        try {
            while (true) {
                Socket s = server.accept();
                int n = connections.incrementAndGet();
                acceptedAt.put(n, System.nanoTime());
                closed.computeIfAbsent(n, k -> new CountDownLatch(1));
                Thread.ofVirtual().start(() -> serve(s, n));
            }
        } catch (IOException over) {
            // closed: the test is over
        }
    }

    private void serve(Socket s, int n) {
        try (s) {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            String target;
            while ((target = readHead(in)) != null) {
                if (target.startsWith("/slow")) {
                    Thread.sleep(slow);
                }
                String body = "conn-" + n;
                answeredAt.put(n, System.nanoTime());
                out.write(("HTTP/1.1 200 OK\r\ncontent-length: " + body.length() + "\r\n\r\n" + body)
                        .getBytes(StandardCharsets.US_ASCII));
                out.flush();
            }
        } catch (IOException | InterruptedException e) {
            // a reset is a close too
        } finally {
            closed.get(n).countDown();
        }
    }

    /** The request target of the next request head, or null at the end of the stream. */
    private static String readHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        for (int b; (b = in.read()) != -1; ) {
            head.append((char) b);
            if (head.length() >= 4 && head.substring(head.length() - 4).equals("\r\n\r\n")) {
                return head.toString().split(" ")[1];
            }
        }
        return null;
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
