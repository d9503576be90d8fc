package io.sourcemesh.cli;

import java.io.BufferedInputStream;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The training run of the proxy's JDK 25 AOT cache ({@code sourcemesh proxy --make-aot-cache}, run by
 * the launcher under {@code -XX:AOTCacheOutput}): runs {@code sourcemesh proxy} on a bootstrap of its
 * own (free loopback ports), sends requests through it and to its admin listener, then exits cleanly
 * — the JVM writes the cache at exit, holding the classes this loaded and the methods' profiles. It ends
 * with one line of the 200s it got back ({@link #SERVED}).
 */
final class ProxyTraining {
    /**
     * Keep-alive requests per connection, on {@link #KEEP_ALIVE_CONNECTIONS} connections the client closes:
     * enough for the request path to reach C2 in the training, and for the profiles to hold a connection's
     * close after a hot request path — without it, the first close deoptimizes the path (a branch the
     * profile never saw taken: sourcemesh-bench/tail.sh), and the next second's requests run interpreted.
     */
    static final int KEEP_ALIVE_REQUESTS = 5_000;
    static final int KEEP_ALIVE_CONNECTIONS = 4;
    /** {@code Connection: close} exchanges, a connection each: the accept and close paths' profiles. */
    static final int CLOSE_REQUESTS = 1_500;
    /** Connections that half-close after a request, send nothing, or send a malformed request: of each kind. */
    static final int ODD_CONNECTIONS = 50;
    /** Upstream connections the training's {@link ClosingOrigin} ends, {@link ClosingOrigin#RESPONSES_PER_CONNECTION} requests each. */
    static final int CLOSING_CONNECTIONS = 60;
    /**
     * Keep-alive connections left idle while the others run, for longer than a connection waits before it parks its
     * HTTP codec (1 s, {@code ConnectionTimers.PARK_AFTER_NANOS}), then woken by a request each: the profile holds a
     * parked connection's wake. Without it the first wake in a proxy's life (a sidecar's pooled upstream connection,
     * idle for a second at the server side) hits an uncommon trap in the compiled {@code HttpConnection.channelRead},
     * and the JIT's C2 compiles it again under load (sourcemesh-bench/mesh.sh's tail).
     */
    static final int PARKED_CONNECTIONS = 16;
    /** How long the parked connections idle at least: past the park, with room for the loop's clock to see it due. */
    static final long PARKED_MILLIS = 1_500;
    /** Keep-alive requests through the listener that writes access logs (JSON and text, to /dev/null). */
    static final int LOGGED_REQUESTS = 500;
    /**
     * Netty's classes a proxy needs only when a race happens, which a training run meets by chance: a second close of a
     * connection while a write on it is pending (an upstream that resets as a request goes out), and the callback the
     * io_uring loop runs when another thread wakes it during its drain, and the executor Netty notifies such a race's
     * promises on (with the two thread-locals its static initialiser makes; a CI run saw a proxy load all three from the
     * jar). Loaded here, so a proxy takes them from its cache.
     */
    static final List<String> RACE_CLASSES = List.of("io.netty.util.concurrent.PromiseNotifier",
            "io.netty.channel.uring.IoUringIoHandler$1DrainFdEventCallback", "io.netty.util.concurrent.ImmediateEventExecutor",
            "io.netty.util.concurrent.ImmediateEventExecutor$1", "io.netty.util.concurrent.ImmediateEventExecutor$2");
    /** The summary line's start. */
    static final String SERVED = "proxy training served:";

    private ProxyTraining() {
    }

    public static void main(String[] args) throws Exception {
        NettyLogging.useJul(); // as ProxyMain does: the cache then holds the classes a start loads
        BuiltInSelectorProvider.use();
        int admin = freePort();
        int front = freePort();
        int back = freePort();
        int logged = freePort();
        String template;
        try (InputStream in = Objects.requireNonNull(ProxyTraining.class.getResourceAsStream("proxy-training.yaml"))) {
            template = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        ClosingOrigin closing = ClosingOrigin.start(); // a daemon thread: nothing left running at the training's exit
        Path bootstrap = Files.createTempFile("sourcemesh-proxy-training", ".yaml");
        Files.writeString(bootstrap, template.replace("@ADMIN@", String.valueOf(admin))
                .replace("@FRONT@", String.valueOf(front)).replace("@BACK@", String.valueOf(back)).replace("@LOGGED@", String.valueOf(logged))
                .replace("@CLOSING@", String.valueOf(closing.port())));
        AtomicInteger status = new AtomicInteger(-1);
        Thread proxy = new Thread(() -> status.set(train("proxy", "-c", bootstrap.toString(), "--concurrency", "1")),
                "proxy");
        proxy.setDaemon(true);
        proxy.start();
        try {
            awaitReady(admin, proxy, status);
            System.out.println(SERVED + " " + serve(front, logged));
            loadRaceClasses();
        } catch (IOException | RuntimeException e) {
            System.err.println("proxy training failed: " + e);
            Runtime.getRuntime().halt(1); // no cache from a run that did not serve
        } finally {
            Files.deleteIfExists(bootstrap);
            closing.close();
        }
        System.exit(0); // the proxy's shutdown hook closes it; then the JVM writes the cache
    }

    /**
     * Keep-alive connections closed by the client after their requests, then one connection per request;
     * says how many 200s came back on each kind. (Not the admin's stats: their views would join the cache.)
     */
    static String serve(int front, int logged) throws IOException {
        List<Client> parked = new ArrayList<>();
        for (int c = 0; c < PARKED_CONNECTIONS; c++) {
            parked.add(connect(front));
            expect200(exchange(parked.getLast(), "GET /parked/" + c + " HTTP/1.1\r\nHost: training\r\n\r\n", false), "parked " + c);
        }
        long parkedAt = System.nanoTime();
        for (int c = 0; c < KEEP_ALIVE_CONNECTIONS; c++) {
            try (Client s = connect(front)) {
                for (int i = 0; i < KEEP_ALIVE_REQUESTS; i++) {
                    expect200(exchange(s, keepAliveRequest(c, i), false), "request " + i);
                }
            }
        }
        for (int i = 0; i < CLOSE_REQUESTS; i++) {
            try (Client s = connect(front)) {
                expect200(exchange(s, "POST /training HTTP/1.1\r\nHost: training\r\nContent-Length: 5\r\n"
                        + "Connection: close\r\n\r\nhello", true), "request on a new connection");
            }
        }
        try (Client s = connect(logged)) {
            for (int i = 0; i < LOGGED_REQUESTS; i++) {
                expect200(exchange(s, "GET /logged/" + i + " HTTP/1.1\r\nHost: training\r\nUser-Agent: training\r\n\r\n", false),
                        "logged request " + i);
            }
        }
        for (int i = 0; i < ODD_CONNECTIONS; i++) {
            oddClients(front);
        }
        int closing = upstreamCloses(front, CLOSING_CONNECTIONS);
        wake(parked, parkedAt);
        // Every exchange above but the upstream's closes answered 200 or threw: the counts are what came back.
        return KEEP_ALIVE_CONNECTIONS * KEEP_ALIVE_REQUESTS + " keep-alive 200s on " + KEEP_ALIVE_CONNECTIONS
                + " connections the client closed, " + CLOSE_REQUESTS + " Connection: close 200s, " + LOGGED_REQUESTS
                + " logged 200s, " + closing + " 200s from an upstream that ends its connections, " + PARKED_CONNECTIONS
                + " 200s on connections idle for " + PARKED_MILLIS + " ms";
    }

    /**
     * The {@code i}th request of keep-alive connection {@code c}: half of them to a service's name (the route a sidecar's
     * outbound traffic takes: a virtual host by domain, a retry policy), and every other one answered with a 1 KB body,
     * so the profiles hold both of each — a sidecar's requests otherwise met branches and types the training never saw
     * (an uncommon trap each and a C2 recompilation, some of them only once traffic changed pace).
     */
    static String keepAliveRequest(int c, int i) {
        String host = c % 2 == 0 ? "training" : "service.training.svc.cluster.local";
        String path = i % 2 == 0 ? "/training/" : "/large/";
        return "GET " + path + i + " HTTP/1.1\r\nHost: " + host + "\r\n\r\n";
    }

    /** A request on each of the {@code parked} connections once {@link #PARKED_MILLIS} have passed since {@code parkedAt}; closes them. */
    static void wake(List<Client> parked, long parkedAt) throws IOException {
        long left = PARKED_MILLIS - (System.nanoTime() - parkedAt) / 1_000_000;
        try {
            if (left > 0) {
                Thread.sleep(left);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        for (int c = 0; c < parked.size(); c++) {
            try (Client s = parked.get(c)) {
                expect200(exchange(s, "GET /woken/" + c + " HTTP/1.1\r\nHost: training\r\n\r\n", false), "woken " + c);
            }
        }
    }

    /**
     * {@code connections} pairs of requests to {@code /closing/} on one keep-alive connection, routed to a
     * {@link ClosingOrigin}, which ends its upstream connection after each pair (Connection: close, a FIN, a reset, in
     * turn); the client pauses after a pair so the proxy mostly sees the end while the connection idles in its pool.
     * Returns the 200s (a request sent on a connection the origin is ending is the router's retry on a fresh one; not
     * counted if that fails too).
     */
    static int upstreamCloses(int port, int connections) throws IOException {
        int ok = 0;
        try (Client s = connect(port)) {
            for (int c = 0; c < connections; c++) {
                for (int i = 0; i < ClosingOrigin.RESPONSES_PER_CONNECTION; i++) {
                    String answer = exchange(s, "GET /closing/" + c + "/" + i + " HTTP/1.1\r\nHost: training\r\n\r\n", false);
                    ok += answer.startsWith("HTTP/1.1 200") ? 1 : 0;
                }
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted", e);
                }
            }
        }
        return ok;
    }

    /**
     * What clients also do, so its classes are in the cache too (each loaded from a jar mid-traffic otherwise): a
     * request and then a half-close (the proxy ends the connection, as Envoy), a connection that sends nothing, and a
     * malformed request, which must be answered 400. ({@code ProxyAotCacheTest} sends the same.)
     */
    static void oddClients(int port) throws IOException {
        try (Client s = connect(port)) {
            s.socket().getOutputStream().write("GET /half-closed HTTP/1.1\r\nHost: training\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            s.socket().shutdownOutput();
            s.in().readAllBytes();
        }
        try (Client s = connect(port)) {
            s.socket().shutdownOutput();
            s.in().readAllBytes();
        }
        try (Client s = connect(port)) {
            String answer = exchange(s, "GARBAGE\r\n\r\n", true);
            if (!answer.startsWith("HTTP/1.1 400")) {
                throw new IOException("a malformed request: " + answer.lines().findFirst().orElse("no response"));
            }
        }
    }

    private static void loadRaceClasses() {
        for (String name : RACE_CLASSES) {
            try {
                Class.forName(name, false, ProxyTraining.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                // A Netty that no longer has it: the cache is still good; ProxyAotCacheTest tells what a proxy loads instead.
                System.err.println("proxy training: no class " + name);
            }
        }
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

    /** A connection with a buffered reader: a byte at a time from the socket would be a system call each. */
    record Client(Socket socket, InputStream in) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    static Client connect(int port) throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
        s.setSoTimeout(10_000);
        return new Client(s, new BufferedInputStream(s.getInputStream()));
    }

    private static void awaitReady(int admin, Thread proxy, AtomicInteger status) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (!proxy.isAlive()) {
                throw new IOException("the proxy exited with status " + status.get());
            }
            try (Client s = connect(admin)) {
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
    static String exchange(Client s, String request, boolean toEof) throws IOException {
        OutputStream out = s.socket().getOutputStream();
        out.write(request.getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = s.in();
        if (toEof) {
            return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        }
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0; // of "\r\n\r\n": the head ends there, and the proxy sends nothing after the body
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            head.write(b);
            matched = b == (matched % 2 == 0 ? '\r' : '\n') ? matched + 1 : b == '\r' ? 1 : 0;
        }
        String headers = head.toString(StandardCharsets.ISO_8859_1);
        int length = headers.lines().filter(l -> l.regionMatches(true, 0, "content-length:", 0, 15))
                .mapToInt(l -> Integer.parseInt(l.substring(15).strip())).findFirst()
                .orElseThrow(() -> new IOException("no content-length in " + headers));
        in.readNBytes(length);
        return headers;
    }
}
