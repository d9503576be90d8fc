package io.sourcemesh.cli;

import java.io.BufferedInputStream;
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
    /**
     * Rounds of {@link #bodyShapes} on one keep-alive connection, through a service's route to a {@link BodyOrigin}: chunked
     * bodies both ways, bodies split over reads, longer than a read, none. Without them a sidecar's first such request or
     * response met C2 code compiled from profiles that lacked them: an uncommon trap each (~40 methods: a class check on
     * the body's type in {@code HttpStream.encodeHeaders}, branches in our codecs, Netty's HTTP encoder, buffers and
     * outbound buffer). ~0.15 s of the training.
     */
    static final int BODY_ROUNDS = 20;
    /** The service whose route is to the training's {@link BodyOrigin}. */
    static final String BODIES_HOST = "bodies.training.svc.cluster.local";
    private static final String LARGE_REQUEST_BODY = "y".repeat(BodyOrigin.LARGE);
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
        BodyOrigin bodies = BodyOrigin.start();
        Path bootstrap = Files.createTempFile("sourcemesh-proxy-training", ".yaml");
        Files.writeString(bootstrap, template.replace("@ADMIN@", String.valueOf(admin))
                .replace("@FRONT@", String.valueOf(front)).replace("@BACK@", String.valueOf(back)).replace("@LOGGED@", String.valueOf(logged))
                .replace("@CLOSING@", String.valueOf(closing.port())).replace("@BODIES@", String.valueOf(bodies.port())));
        AtomicInteger status = new AtomicInteger(-1);
        Thread proxy = new Thread(() -> status.set(train("proxy", "-c", bootstrap.toString(), "--concurrency", "1")),
                "proxy");
        proxy.setDaemon(true);
        proxy.start();
        try {
            awaitReady(admin, proxy, status);
            System.out.println(SERVED + " " + serve(front, logged, bodies));
            loadRaceClasses();
        } catch (IOException | RuntimeException e) {
            System.err.println("proxy training failed: " + e);
            Runtime.getRuntime().halt(1); // no cache from a run that did not serve
        } finally {
            Files.deleteIfExists(bootstrap);
            closing.close();
            bodies.close();
        }
        System.exit(0); // the proxy's shutdown hook closes it; then the JVM writes the cache
    }

    /**
     * Keep-alive connections closed by the client after their requests, then one connection per request;
     * says how many 200s came back on each kind. (Not the admin's stats: their views would join the cache.)
     */
    static String serve(int front, int logged, BodyOrigin origin) throws IOException {
        List<Client> parked = new ArrayList<>();
        for (int c = 0; c < PARKED_CONNECTIONS; c++) {
            parked.add(connect(front));
            expect200(exchange(parked.getLast(), "GET /parked/" + c + " HTTP/1.1\r\nHost: training\r\n\r\n", false), "parked " + c);
        }
        long parkedAt = System.nanoTime();
        int bodies = 0;
        try (Client b = connect(front)) {
            for (int c = 0; c < KEEP_ALIVE_CONNECTIONS; c++) {
                if (c % 2 == 1) {
                    // Half before the second connection, half before the fourth: the profiles meet them while the request
                    // path is still profiled and again once C2 has compiled it (either alone left some of them out).
                    for (int r = 0; r < BODY_ROUNDS / 2; r++) {
                        bodies += bodyShapes(b, BODIES_HOST, origin);
                    }
                }
                try (Client s = connect(front)) {
                    for (int i = 0; i < KEEP_ALIVE_REQUESTS; i++) {
                        expect200(exchange(s, keepAliveRequest(c, i), false), "request " + i);
                    }
                }
            }
        }
        // The parked connections are woken in four groups between the phases below, not all at the end: with the body
        // shapes, the end's wake met HttpConnection.channelRead re-profiling after a trap, not its C2 code, and the cache's
        // profile then lacked it (a sidecar's first wake deoptimized channelRead, in each such run measured).
        int group = PARKED_CONNECTIONS / 4;
        wake(parked.subList(0, group), parkedAt);
        for (int i = 0; i < CLOSE_REQUESTS; i++) {
            try (Client s = connect(front)) {
                expect200(exchange(s, "POST /training HTTP/1.1\r\nHost: training\r\nContent-Length: 5\r\n"
                        + "Connection: close\r\n\r\nhello", true), "request on a new connection");
            }
        }
        wake(parked.subList(group, 2 * group), parkedAt);
        try (Client s = connect(logged)) {
            for (int i = 0; i < LOGGED_REQUESTS; i++) {
                expect200(exchange(s, "GET /logged/" + i + " HTTP/1.1\r\nHost: training\r\nUser-Agent: training\r\n\r\n", false),
                        "logged request " + i);
            }
        }
        for (int i = 0; i < ODD_CONNECTIONS; i++) {
            oddClients(front);
        }
        wake(parked.subList(2 * group, 3 * group), parkedAt);
        int closing = upstreamCloses(front, CLOSING_CONNECTIONS);
        wake(parked.subList(3 * group, PARKED_CONNECTIONS), parkedAt);
        // Every exchange above but the upstream's closes answered 200 (204 for a body shape) or threw: the counts are what came back.
        return KEEP_ALIVE_CONNECTIONS * KEEP_ALIVE_REQUESTS + " keep-alive 200s on " + KEEP_ALIVE_CONNECTIONS
                + " connections the client closed, " + CLOSE_REQUESTS + " Connection: close 200s, " + LOGGED_REQUESTS
                + " logged 200s, " + closing + " 200s from an upstream that ends its connections, " + PARKED_CONNECTIONS
                + " 200s on connections idle for " + PARKED_MILLIS + " ms, " + bodies
                + " 200s and 204s with chunked, split, large and empty bodies";
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

    /**
     * One request of each body shape on {@code s}, to {@code host}, whose route is to {@code origin}: request bodies
     * chunked, chunked and split over reads, split from the head, larger than a read; responses chunked, chunked and
     * split, split from the head, larger than a read, 204, Content-Length: 0. Returns the 2xx answers (a non-2xx throws).
     */
    static int bodyShapes(Client s, String host, BodyOrigin origin) throws IOException {
        String post = " HTTP/1.1\r\nHost: " + host + "\r\n";
        String chunked = "Transfer-Encoding: chunked\r\n\r\n";
        int ok = expect2xx(exchange(s, "POST /bodies/chunked-request" + post + chunked + BodyOrigin.FIRST_CHUNK + BodyOrigin.LAST_CHUNKS,
                false), "a chunked request");
        ok += expect2xx(splitExchange(s, origin, "POST /bodies/split-request" + post + chunked, BodyOrigin.FIRST_CHUNK,
                BodyOrigin.LAST_CHUNKS), "a chunked request over reads");
        ok += expect2xx(splitExchange(s, origin, "POST /bodies/split-request" + post + "Content-Length: 11\r\n\r\n", "hello world"),
                "a body after its head");
        ok += expect2xx(exchange(s, "POST /bodies/large-request" + post + "Content-Length: " + BodyOrigin.LARGE + "\r\n\r\n"
                + LARGE_REQUEST_BODY, false), "a large request body");
        for (String shape : List.of("chunked", "split-chunked", "split", "large", "no-content", "empty")) {
            send(s, "GET /bodies/" + shape + "/ HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
            // A split response's next piece comes once its client has read the last (BodyOrigin).
            ok += expect2xx(response(s, shape.startsWith("split") ? origin.responsePieceRead::release : null), "a " + shape + " response");
        }
        return ok;
    }

    /** Sends {@code pieces}, each once the origin has read the one before (so each comes in a read of its own); reads the answer. */
    private static String splitExchange(Client s, BodyOrigin origin, String... pieces) throws IOException {
        origin.requestPieceRead.drainPermits(); // the origin's releases for earlier requests, all made before their answers
        for (int i = 0; i < pieces.length; i++) {
            if (i > 0 && !BodyOrigin.await(origin.requestPieceRead)) {
                throw new IOException("the origin did not read a split request's piece");
            }
            send(s, pieces[i]);
        }
        return response(s, null);
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
        s.setTcpNoDelay(true); // a request's pieces written apart go at once, not after the last one's ACK (Nagle)
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

    private static int expect2xx(String response, String what) throws IOException {
        if (!response.startsWith("HTTP/1.1 2")) {
            throw new IOException(what + ": " + response.lines().findFirst().orElse("no response"));
        }
        return 1;
    }

    private static void expect200(String response, String what) throws IOException {
        if (!response.startsWith("HTTP/1.1 200")) {
            throw new IOException(what + ": " + response.lines().findFirst().orElse("no response"));
        }
    }

    /** Sends {@code request}; reads the answer to the end of its body or, with {@code toEof}, of the stream. */
    static String exchange(Client s, String request, boolean toEof) throws IOException {
        send(s, request);
        if (toEof) {
            return new String(s.in().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
        return response(s, null);
    }

    static void send(Client s, String request) throws IOException {
        OutputStream out = s.socket().getOutputStream();
        out.write(request.getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    /**
     * Reads a response to the end of its body (Content-Length, chunks, or none: 1xx, 204, 304) and returns its head;
     * {@code onPiece}, if any, runs once the head is read and after each chunk.
     */
    static String response(Client s, Runnable onPiece) throws IOException {
        InputStream in = s.in();
        String head = BodyOrigin.readHead(in); // the proxy sends nothing after the body
        String headers = head == null ? "" : head;
        if (onPiece != null) {
            onPiece.run();
        }
        if (BodyOrigin.chunked(headers)) {
            BodyOrigin.skipChunks(in, onPiece);
            return headers;
        }
        String length = BodyOrigin.header(headers, "content-length");
        if (length == null && !headers.matches("HTTP/1\\.1 (1\\d\\d|204|304) (?s).*")) {
            throw new IOException("no content-length in " + headers);
        }
        in.readNBytes(length == null ? 0 : Integer.parseInt(length));
        return headers;
    }
}
