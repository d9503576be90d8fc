package io.sourcemesh.proxy;

import static io.sourcemesh.proxy.testing.Configs.*;
import static org.junit.jupiter.api.Assertions.*;

import io.sourcemesh.proxy.config.AccessLogConfig;
import io.sourcemesh.proxy.config.ConfigException;
import io.sourcemesh.proxy.config.ListenerConfig;
import io.sourcemesh.proxy.config.ProxyConfig;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.LogFiles;
import io.sourcemesh.proxy.testing.Origin;
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
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A config version owns its access logs and the pools of its clusters: once it is replaced and
 * its last connection has ended, its writer threads and files are closed, and the idle upstream
 * connections of a cluster that went away are closed. Connections that started on an old version
 * keep working and logging there until they end.
 */
class ConfigVersionLifecycleTest {
    @TempDir
    Path dir;
    private Proxy proxy;
    private Origin origin;

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        if (origin != null) {
            origin.close();
        }
    }

    private static AccessLogConfig fileLog(Path file) {
        return new AccessLogConfig("file", new AccessLogConfig.Sink(AccessLogConfig.Sink.Kind.FILE, Optional.of(file.toString())),
                Optional.of("%RESPONSE_CODE% %REQ(:PATH)%\n"), Optional.empty());
    }

    private ProxyConfig httpVersion(Path log) {
        ListenerConfig l = listener("http", "127.0.0.1", List.of(), chain(hcm(routeAll("origin"), false, List.of(fileLog(log)))));
        return proxy(List.of(l), List.of(staticCluster("origin", origin.address())));
    }

    /** Access-log writer threads of files in the test's directory. */
    private int writerThreads() {
        return (int) Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("access-log-writer " + dir)).count();
    }

    /** This process's open file descriptors on files in the test's directory. */
    private int openFiles() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return (int) fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).startsWith(dir);
                } catch (IOException gone) {
                    return false; // closed while listed (the listing's own descriptor)
                }
            }).count();
        }
    }

    private static void await(String what, int expected, IntSupplier actual) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (actual.getAsInt() != expected && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(expected, actual.getAsInt(), what);
    }

    private int unchecked(java.util.concurrent.Callable<Integer> c) {
        try {
            return c.call();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /**
     * A push applied after close (an ADS callback that waited for the proxy's lock while close() ran) is
     * refused and binds nothing: a listener bound then stayed open on a closed proxy, holding its pod's
     * address and port from the pod that got that address next (the embedded runtime's sidecars).
     */
    @Test
    void nothingIsAppliedToAClosedProxy() throws Exception {
        origin = Origin.start();
        ProxyConfig first = httpVersion(dir.resolve("first.log"));
        proxy = Proxy.start(first, 1);
        int port;
        try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = free.getLocalPort();
        }
        ListenerConfig l = first.listeners().getFirst();
        ListenerConfig late = new ListenerConfig(l.name(), new InetSocketAddress("127.0.0.1", port), l.transparent(),
                l.useOriginalDst(), l.listenerFilters(), l.filterChains(), l.defaultFilterChain(), l.bindToPort());
        Proxy closed = proxy;
        closed.close();
        proxy = null;
        IllegalStateException refused = assertThrows(IllegalStateException.class,
                () -> closed.apply(proxy(List.of(late), first.clusters())));
        assertTrue(refused.getMessage().contains("closed"), refused.getMessage());
        try (ServerSocket again = new ServerSocket(port, 1, InetAddress.getByName("127.0.0.1"))) {
            assertEquals(port, again.getLocalPort(), "the late listener's port is free");
        }
    }

    @Test
    void replacedVersionsCloseTheirAccessLogWritersAndFiles() throws Exception {
        origin = Origin.start();
        int versions = 12;
        proxy = Proxy.start(httpVersion(dir.resolve("v0.log")), 1);
        String url = "http://127.0.0.1:" + proxy.listenerAddress("http").getPort();
        for (int i = 0; i < versions; i++) {
            if (i > 0) {
                proxy.apply(httpVersion(dir.resolve("v" + i + ".log")));
            }
            assertEquals(200, Curl.run(url + "/v" + i).status());
            assertEquals("200 /v" + i, LogFiles.awaitLine(dir.resolve("v" + i + ".log")), "version " + i + " logs");
        }
        // Only the serving version's writer and file are left, not one per version ever applied.
        await("access-log writer threads", 1, this::writerThreads);
        await("open access-log files", 1, () -> unchecked(this::openFiles));
        proxy.close();
        proxy = null;
        await("writer threads after the proxy closed", 0, this::writerThreads);
        await("open files after the proxy closed", 0, () -> unchecked(this::openFiles));
    }

    @Test
    void anUnchangedListenerKeepsItsVersionAndItsLog() throws Exception {
        origin = Origin.start();
        proxy = Proxy.start(httpVersion(dir.resolve("same.log")), 1);
        for (int i = 0; i < 5; i++) {
            proxy.apply(httpVersion(dir.resolve("same.log")));
        }
        assertEquals(200, Curl.run("http://127.0.0.1:" + proxy.listenerAddress("http").getPort() + "/x").status());
        assertEquals("200 /x", LogFiles.awaitLine(dir.resolve("same.log")));
        assertEquals(1, writerThreads());
        assertEquals(1, openFiles());
    }

    @Test
    void aConfigThatFailsToBuildLeavesNoWriterBehind() throws Exception {
        origin = Origin.start();
        proxy = Proxy.start(httpVersion(dir.resolve("good.log")), 1);
        ListenerConfig fresh = listener("http", "127.0.0.1", List.of(),
                chain(hcm(routeAll("origin"), false, List.of(fileLog(dir.resolve("fresh.log"))))));
        ListenerConfig bad = listener("bad", "127.0.0.1", List.of(),
                chain(hcm(routeAll("origin"), false, List.of(fileLog(dir.resolve("missing/dir.log"))))));
        assertThrows(ConfigException.class, () -> proxy.apply(proxy(List.of(fresh, bad), List.of(staticCluster("origin", origin.address())))));
        await("only the serving version's writer is left", 1, this::writerThreads);
        await("only the serving version's file is open", 1, () -> unchecked(this::openFiles));
        assertEquals(200, Curl.run("http://127.0.0.1:" + proxy.listenerAddress("http").getPort() + "/still").status());
        assertEquals("200 /still", LogFiles.awaitLine(dir.resolve("good.log")));
    }

    @Test
    void aConnectionOpenedOnTheOldVersionKeepsWorkingAndLoggingThere() throws Exception {
        try (ServerSocket echo = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread.ofVirtual().start(() -> echo(echo));
            InetSocketAddress echoAddress = (InetSocketAddress) echo.getLocalSocketAddress();
            Path v1 = dir.resolve("v1.log");
            Path v2 = dir.resolve("v2.log");
            proxy = Proxy.start(tcpVersion(v1, echoAddress), 1);
            int port = proxy.listenerAddress("tcp").getPort();
            try (Socket old = new Socket(InetAddress.getLoopbackAddress(), port)) {
                old.setSoTimeout(5000);
                assertEquals("one", roundTrip(old, "one"));
                proxy.apply(tcpVersion(v2, echoAddress));
                try (Socket fresh = new Socket(InetAddress.getLoopbackAddress(), port)) {
                    fresh.setSoTimeout(5000);
                    assertEquals("new", roundTrip(fresh, "new"));
                }
                assertEquals("tcp", LogFiles.awaitLine(v2), "the new connection logs on version 2");
                assertEquals("two", roundTrip(old, "two"), "the old connection still relays after version 2 is applied");
                assertEquals(2, writerThreads(), "version 1 stays open while its connection lives");
            }
            assertEquals("tcp", LogFiles.awaitLine(v1), "the old connection logs on version 1 when it ends");
            await("version 1's writer closed after its last connection", 1, this::writerThreads);
            await("version 1's file closed after its last connection", 1, () -> unchecked(this::openFiles));
        }
    }

    @Test
    void aRemovedClustersIdleUpstreamConnectionsAreClosed() throws Exception {
        CountDownLatch upstreamClosed = new CountDownLatch(1);
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread.ofVirtual().start(() -> keepAliveOrigin(server, upstreamClosed));
            origin = Origin.start();
            InetSocketAddress a = (InetSocketAddress) server.getLocalSocketAddress();
            ListenerConfig toA = listener("http", "127.0.0.1", List.of(), chain(hcm(routeAll("a"), false, List.of())));
            proxy = Proxy.start(proxy(List.of(toA), List.of(staticCluster("a", a))), 1);
            String url = "http://127.0.0.1:" + proxy.listenerAddress("http").getPort() + "/";
            assertEquals("a", Curl.run(url).body()); // leaves an idle pooled connection to a
            ListenerConfig toB = listener("http", "127.0.0.1", List.of(), chain(hcm(routeAll("b"), false, List.of())));
            proxy.apply(proxy(List.of(toB), List.of(staticCluster("b", origin.address()))));
            assertTrue(upstreamClosed.await(10, TimeUnit.SECONDS), "the pooled connection of the removed cluster was closed");
            assertEquals(200, Curl.run(url).status());
        }
    }

    private static ProxyConfig tcpVersion(Path log, InetSocketAddress echo) {
        var chain = chain(new io.sourcemesh.proxy.config.TcpProxyConfig("envoy.filters.network.tcp_proxy", "tcp",
                Optional.of("echo"), List.of(), Optional.empty(),
                List.of(new AccessLogConfig("file", new AccessLogConfig.Sink(AccessLogConfig.Sink.Kind.FILE, Optional.of(log.toString())),
                        Optional.of("tcp\n"), Optional.empty()))));
        return proxy(List.of(listener("tcp", "127.0.0.1", List.of(), chain)), List.of(staticCluster("echo", echo)));
    }

    private static String roundTrip(Socket s, String text) throws IOException {
        s.getOutputStream().write((text + "\n").getBytes(StandardCharsets.US_ASCII));
        StringBuilder line = new StringBuilder();
        InputStream in = s.getInputStream();
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) {
                throw new IOException("closed after " + line);
            }
            line.append((char) c);
        }
        return line.toString();
    }

    private static void echo(ServerSocket server) {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                Thread.ofVirtual().start(() -> {
                    try (s) {
                        s.getInputStream().transferTo(s.getOutputStream());
                    } catch (IOException ignored) {
                        // the client went away
                    }
                });
            } catch (IOException closed) {
                return;
            }
        }
    }

    /** Answers one request with a keep-alive 200 "a", then waits for the proxy to close the connection. */
    private static void keepAliveOrigin(ServerSocket server, CountDownLatch closed) {
        try (Socket s = server.accept()) {
            InputStream in = s.getInputStream();
            int matched = 0;
            byte[] end = "\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
            while (matched < 4) {
                int c = in.read();
                if (c < 0) {
                    return;
                }
                matched = c == end[matched] ? matched + 1 : (c == '\r' ? 1 : 0);
            }
            OutputStream out = s.getOutputStream();
            out.write("HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\na".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            if (in.read() < 0) {
                closed.countDown();
            }
        } catch (IOException e) {
            closed.countDown(); // reset by the proxy: closed too
        }
    }
}
