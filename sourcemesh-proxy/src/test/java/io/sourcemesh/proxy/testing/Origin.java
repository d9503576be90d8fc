package io.sourcemesh.proxy.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;

/**
 * A real HTTP origin on a loopback address for tests. Every request is recorded with the peer
 * address its socket saw; {@code /echo} returns that peer and the request headers, {@code /bytes/N}
 * streams N bytes chunked, {@code /upload} consumes the body and returns its size, {@code /sleep/MS} waits,
 * {@code /empty/CODE} answers that status without a body (content-length 0, none for 204 and 304).
 */
public final class Origin implements AutoCloseable {
    private final HttpServer server;
    private final ConcurrentLinkedQueue<Seen> seen = new ConcurrentLinkedQueue<>();
    /** Whether requests are recorded ({@link #seen()}); not in a child process, where nothing would read them. */
    private final boolean record;

    /** One request as the origin saw it. */
    public record Seen(InetSocketAddress peer, InetSocketAddress local, String method, String uri, Map<String, List<String>> headers) {
        public String header(String name) {
            for (Map.Entry<String, List<String>> e : headers.entrySet()) {
                if (e.getKey().equalsIgnoreCase(name)) {
                    return String.join(",", e.getValue());
                }
            }
            return null;
        }
    }

    private Origin(String host, boolean record) throws IOException {
        this.record = record;
        server = HttpServer.create(new InetSocketAddress(host, 0), 512);
        server.setExecutor(Executors.newFixedThreadPool(8));
        server.createContext("/", this::handle);
        server.start();
    }

    public static Origin start() throws IOException {
        return new Origin("127.0.0.1", true);
    }

    public static Origin start(String host) throws IOException {
        return new Origin(host, true);
    }

    /**
     * The origin of {@link OriginProcess}: serves on 127.0.0.1 (or {@code args[0]}), says its port
     * on a line of standard output, and stops when its standard input ends (the parent closed it,
     * or died). Records nothing: a long run would fill the child's heap with what no one reads.
     */
    public static void main(String[] args) throws IOException {
        Origin origin = new Origin(args.length > 0 ? args[0] : "127.0.0.1", false);
        System.out.println("port " + origin.port());
        System.out.flush();
        while (System.in.read() >= 0) {
            // nothing is sent: only the end matters
        }
        origin.close();
    }

    public InetSocketAddress address() {
        return server.getAddress();
    }

    public int port() {
        return server.getAddress().getPort();
    }

    public List<Seen> seen() {
        return List.copyOf(seen);
    }

    /** Drops the record of requests seen so far: a soak test's heap must not grow with the origin's memory of them. */
    public void forget() {
        seen.clear();
    }

    public Seen last() {
        List<Seen> all = seen();
        return all.isEmpty() ? null : all.get(all.size() - 1);
    }

    private void handle(HttpExchange ex) throws IOException {
        if (record) {
            seen.add(new Seen(ex.getRemoteAddress(), ex.getLocalAddress(), ex.getRequestMethod(), ex.getRequestURI().toString(),
                    Map.copyOf(ex.getRequestHeaders())));
        }
        String path = ex.getRequestURI().getPath();
        try (ex) {
            if (path.startsWith("/bytes/")) {
                long n = Long.parseLong(path.substring(7));
                ex.sendResponseHeaders(200, 0); // chunked
                byte[] block = new byte[64 * 1024];
                try (OutputStream out = ex.getResponseBody()) {
                    for (long left = n; left > 0; left -= block.length) {
                        out.write(block, 0, (int) Math.min(block.length, left));
                    }
                }
                return;
            }
            if (path.startsWith("/upload")) {
                long total = 0;
                try (InputStream in = ex.getRequestBody()) {
                    byte[] buf = new byte[64 * 1024];
                    for (int r; (r = in.read(buf)) > 0; ) {
                        total += r;
                    }
                }
                respond(ex, 200, "{\"received\":" + total + "}");
                return;
            }
            if (path.startsWith("/empty/")) {
                ex.getRequestBody().readAllBytes();
                ex.sendResponseHeaders(Integer.parseInt(path.substring(7)), -1);
                return;
            }
            if (path.startsWith("/code/")) { // answers with that status
                ex.getRequestBody().readAllBytes();
                respond(ex, Integer.parseInt(path.substring(6)), "status");
                return;
            }
            if (path.startsWith("/sleep/")) {
                try {
                    Thread.sleep(Long.parseLong(path.substring(7)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            ex.getRequestBody().readAllBytes();
            StringBuilder body = new StringBuilder("peer=" + ex.getRemoteAddress().getAddress().getHostAddress()
                    + "\nlocal=" + ex.getLocalAddress().getAddress().getHostAddress() + "\n");
            ex.getRequestHeaders().forEach((k, v) -> body.append(k.toLowerCase()).append(": ").append(String.join(",", v)).append('\n'));
            respond(ex, 200, body.toString());
        }
    }

    private static void respond(HttpExchange ex, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("content-type", "text/plain");
        ex.sendResponseHeaders(status, b.length);
        ex.getResponseBody().write(b);
    }

    @Override
    public void close() {
        server.stop(0);
        ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
    }
}
