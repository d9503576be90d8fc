package io.sourcemesh.bench.floor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.zip.CRC32;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The benchmark's floor proxies for real: curl on loopback through it to an origin (the JDK's HTTP server) that
 * echoes what it saw — the X-Forwarded-For, the upstream connection's port (which connection carried the
 * request), the body's length and CRC. On every transport this machine has.
 */
class FloorProxyTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private static HttpServer origin;
    private static final byte[] BIG = new byte[1 << 20];
    private static final int HUGE = 32 << 20;
    /** How much of /huge the origin has handed to its socket so far. */
    private static final java.util.concurrent.atomic.AtomicLong HUGE_WRITTEN = new java.util.concurrent.atomic.AtomicLong();

    @TempDir
    Path tmp;

    @BeforeAll
    static void startOrigin() throws IOException {
        new Random(14).nextBytes(BIG);
        origin = HttpServer.create(new InetSocketAddress(LOOPBACK, 0), 64);
        origin.createContext("/", FloorProxyTest::echo);
        origin.createContext("/big", ex -> {
            ex.getRequestBody().readAllBytes();
            ex.sendResponseHeaders(200, BIG.length);
            try (OutputStream o = ex.getResponseBody()) {
                o.write(BIG);
            }
        });
        origin.createContext("/huge", ex -> {
            ex.getRequestBody().readAllBytes();
            ex.sendResponseHeaders(200, HUGE);
            try (OutputStream o = ex.getResponseBody()) {
                HUGE_WRITTEN.set(0);
                for (int sent = 0; sent < HUGE; sent += BIG.length) {
                    o.write(BIG);
                    HUGE_WRITTEN.addAndGet(BIG.length);
                }
            }
        });
        origin.start();
    }

    @AfterAll
    static void stopOrigin() {
        origin.stop(0);
    }

    private static void echo(HttpExchange ex) throws IOException {
        byte[] body = ex.getRequestBody().readAllBytes();
        CRC32 crc = new CRC32();
        crc.update(body);
        String xff = ex.getRequestHeaders().getFirst("X-Forwarded-For");
        String out = "xff=" + xff + ";port=" + ex.getRemoteAddress().getPort() + ";method=" + ex.getRequestMethod()
                + ";len=" + body.length + ";crc=" + Long.toHexString(crc.getValue()) + "\n";
        byte[] b = out.getBytes(StandardCharsets.US_ASCII);
        ex.sendResponseHeaders(200, b.length);
        try (OutputStream o = ex.getResponseBody()) {
            o.write(b);
        }
    }

    private static FloorProxy floor(FloorTransport t) throws InterruptedException {
        assumeTrue(t.available(), t + " is not available here");
        return FloorProxy.start(new InetSocketAddress(LOOPBACK, 0), origin.getAddress(), t.toString(), 1);
    }

    private static String url(FloorProxy p, String path) {
        return "http://" + LOOPBACK.getHostAddress() + ":" + p.address().getPort() + path;
    }

    /** curl's standard output (its error output too, on failure). */
    private static String curl(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--max-time", "10"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(15, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), () -> "curl " + cmd + ": " + out);
        return out;
    }

    private static String field(String line, String name) {
        for (String kv : line.trim().split(";")) {
            if (kv.startsWith(name + "=")) {
                return kv.substring(name.length() + 1);
            }
        }
        throw new AssertionError("no " + name + " in " + line);
    }

    @ParameterizedTest
    @EnumSource(FloorTransport.class)
    void keepAliveRequestsReuseOnePooledUpstreamAndCarryTheClientsAddress(FloorTransport t) throws Exception {
        try (FloorProxy p = floor(t)) {
            // two requests on one client connection: curl connects once
            String out = curl("-w", "connects=%{num_connects}\n", url(p, "/a"), url(p, "/b"));
            String[] lines = out.split("\n");
            assertEquals(4, lines.length, out);
            assertEquals("127.0.0.1", field(lines[0], "xff"), out);
            assertEquals("connects=1", lines[1], out);
            assertEquals("connects=0", lines[3], out);
            String port = field(lines[0], "port");
            assertEquals(port, field(lines[2], "port"), "the second request went over the pooled upstream connection");
            assertEquals(1, p.idleUpstreams());
            // another client connection, later: the same upstream connection, from the loop's pool
            assertEquals(port, field(curl(url(p, "/c")), "port"));
            // a client's X-Forwarded-For is appended to
            assertEquals("203.0.113.9, 127.0.0.1",
                    field(curl("-H", "X-Forwarded-For: 203.0.113.9", url(p, "/")), "xff"));
        }
    }

    @ParameterizedTest
    @EnumSource(FloorTransport.class)
    void aClientsConnectionCloseEndsItsConnectionButNotTheUpstreams(FloorTransport t) throws Exception {
        try (FloorProxy p = floor(t)) {
            String first = curl(url(p, "/"));
            String out = curl("-D", "-", "-H", "Connection: close", url(p, "/"));
            assertTrue(out.toLowerCase().contains("\r\nconnection: close\r\n"), out);
            assertEquals(field(first, "port"), field(out.substring(out.indexOf("xff=")), "port"));
            assertEquals(1, p.idleUpstreams());
        }
    }

    @ParameterizedTest
    @EnumSource(FloorTransport.class)
    void bodiesPassWholeBothWays(FloorTransport t) throws Exception {
        try (FloorProxy p = floor(t)) {
            byte[] body = new byte[300_000];
            new Random(7).nextBytes(body);
            Path f = tmp.resolve("body");
            Files.write(f, body);
            CRC32 crc = new CRC32();
            crc.update(body);
            String out = curl("--data-binary", "@" + f, url(p, "/post"));
            assertEquals("POST", field(out, "method"));
            assertEquals("300000", field(out, "len"));
            assertEquals(Long.toHexString(crc.getValue()), field(out, "crc"));
            Path got = tmp.resolve("big");
            curl("-o", got.toString(), url(p, "/big"));
            assertTrue(java.util.Arrays.equals(BIG, Files.readAllBytes(got)), "the 1 MiB response arrived whole");
        }
    }

    @ParameterizedTest
    @EnumSource(FloorTransport.class)
    void pipelinedRequestsAreAnsweredInOrder(FloorTransport t) throws Exception {
        try (FloorProxy p = floor(t); Socket s = new Socket(LOOPBACK, p.address().getPort())) {
            s.setSoTimeout(10_000);
            String req = "GET /one HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "POST /two HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                    + "GET /three HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
            s.getOutputStream().write(req.getBytes(StandardCharsets.US_ASCII)); // one write: the proxy reads them together
            String all = new String(readToEnd(s.getInputStream()), StandardCharsets.US_ASCII);
            List<String> bodies = new ArrayList<>();
            for (String part : all.split("\r\n\r\n")) {
                if (part.startsWith("xff=")) {
                    bodies.add(part.substring(0, part.indexOf('\n')));
                }
            }
            assertEquals(3, bodies.size(), all);
            assertEquals("GET", field(bodies.get(0), "method"));
            assertEquals("POST", field(bodies.get(1), "method"));
            assertEquals("3", field(bodies.get(1), "len"));
            assertEquals("GET", field(bodies.get(2), "method"));
            assertTrue(all.toLowerCase().contains("connection: close"), all);
        }
    }

    @ParameterizedTest
    @EnumSource(FloorTransport.class)
    void aClientThatDoesNotReadStopsItsUpstreamAndItsConnectionServesOnAfter(FloorTransport t) throws Exception {
        try (FloorProxy p = floor(t); Socket s = new Socket(LOOPBACK, p.address().getPort())) {
            s.setSoTimeout(10_000);
            s.setReceiveBufferSize(16 * 1024);
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            out.write("GET /huge HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            Thread.sleep(500); // not reading: the proxy's writes to this client back up, and it stops reading the upstream
            // what the socket buffers on the way hold (loopback autotunes them to a few MB each), not the whole response
            assertTrue(HUGE_WRITTEN.get() < HUGE * 3L / 4, "the origin sent " + HUGE_WRITTEN.get() + " bytes to a client not reading");
            long body = 0;
            byte[] buf = new byte[16 * 1024];
            String head = readHead(in);
            assertTrue(head.startsWith("HTTP/1.1 200"), head);
            int reads = 0;
            while (body < HUGE) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, HUGE - body));
                assertTrue(n > 0, "the response broke off after " + body + " bytes");
                body += n;
                if (++reads % 4 == 0) {
                    Thread.sleep(1); // slowly to the end: the proxy keeps meeting a full client socket, its last read too
                }
            }
            // the same pooled upstream connection serves the next request: it must be reading again
            out.write("GET /after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            String rest = new String(readToEnd(in), StandardCharsets.US_ASCII);
            assertTrue(rest.startsWith("HTTP/1.1 200") && rest.contains("method=GET"), rest);
        }
    }

    private static String readHead(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        while (!b.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) {
                throw new AssertionError("the connection closed in the head: " + b);
            }
            b.append((char) c);
        }
        return b.toString();
    }

    @ParameterizedTest
    @EnumSource(FloorTransport.class)
    void anUpstreamThatIsNotThereIsA502(FloorTransport t) throws Exception {
        assumeTrue(t.available());
        int closedPort;
        try (ServerSocket ss = new ServerSocket(0, 1, LOOPBACK)) {
            closedPort = ss.getLocalPort();
        }
        try (FloorProxy p = FloorProxy.start(new InetSocketAddress(LOOPBACK, 0),
                new InetSocketAddress(LOOPBACK, closedPort), t.toString(), 1)) {
            assertEquals("502", curl("-o", "/dev/null", "-w", "%{http_code}", url(p, "/")));
            assertEquals("200", curl("-o", "/dev/null", "-w", "%{http_code}", "http://" + LOOPBACK.getHostAddress()
                    + ":" + origin.getAddress().getPort() + "/"), "the origin itself answers");
        }
    }

    @ParameterizedTest
    @EnumSource(FloorTransport.class)
    void whatIsNotHttpIsA400AndReachesNoUpstream(FloorTransport t) throws Exception {
        try (FloorProxy p = floor(t); Socket s = new Socket(LOOPBACK, p.address().getPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write("GET / HTTP/9.Z\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            String all = new String(readToEnd(s.getInputStream()), StandardCharsets.US_ASCII);
            assertTrue(all.startsWith("HTTP/1.1 400 "), all);
            assertEquals(0, p.idleUpstreams(), "no upstream connection was opened for it");
        }
    }

    @Test
    void anAddressInUseIsNamedAndLeavesNoLoopBehind() throws Exception {
        // What this case counts: a floor's loop, by its thread's name (an earlier case's may still be ending).
        Set<Thread> earlier = floorLoops();
        Thread loop;
        try (FloorProxy p = floor(FloorTransport.NIO)) {
            Set<Thread> running = floorLoops();
            running.removeAll(earlier);
            assertEquals(1, running.size(), () -> "the floor's one event loop among " + floorLoops());
            loop = running.iterator().next();
        }
        loop.join(2_000);
        assertFalse(loop.isAlive(), "a closed floor's loop ends");
        try (ServerSocket taken = new ServerSocket(0, 1, LOOPBACK)) {
            InetSocketAddress at = new InetSocketAddress(LOOPBACK, taken.getLocalPort());
            Set<Thread> before = floorLoops();
            IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                    () -> FloorProxy.start(at, origin.getAddress(), "nio", 1));
            assertTrue(e.getMessage().startsWith("cannot listen on " + LOOPBACK.getHostAddress() + ":" + at.getPort() + ": "),
                    e.getMessage());
            Set<Thread> made = floorLoops();
            made.removeAll(before);
            for (int i = 0; i < 100 && !made.isEmpty(); i++) {
                Thread.sleep(20);
                made.removeIf(t -> !t.isAlive());
            }
            assertEquals(Set.of(), made, "the event loop of a failed start was shut down");
        }
    }

    /** The live threads of floors' event loops ({@link FloorProxy#LOOP_THREADS}), whatever else this JVM runs. */
    private static Set<Thread> floorLoops() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().startsWith(FloorProxy.LOOP_THREADS + "-"))
                .collect(Collectors.toCollection(HashSet::new));
    }

    @Test
    void badArgumentsAreNamed() {
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> FloorProxy.hostPort("--upstream", "127.0.0.1"));
        assertEquals("--upstream: HOST:PORT, not 127.0.0.1", e.getMessage());
        e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> FloorProxy.hostPort("--listen", "127.0.0.1:99999"));
        assertEquals("--listen: port 99999 is out of range", e.getMessage());
        e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> FloorTransport.named("kqueue"));
        assertEquals("--transport: io_uring, epoll or nio, not kqueue", e.getMessage());
    }

    private static byte[] readToEnd(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        in.transferTo(b);
        return b.toByteArray();
    }
}
