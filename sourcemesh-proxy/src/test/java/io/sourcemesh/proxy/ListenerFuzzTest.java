package io.sourcemesh.proxy;

import static io.sourcemesh.proxy.testing.Configs.*;
import static org.junit.jupiter.api.Assertions.*;

import io.sourcemesh.proxy.config.ListenerFilterConfig;
import io.sourcemesh.proxy.testing.FileDescriptors;
import io.sourcemesh.proxy.testing.MemorySample;
import io.sourcemesh.proxy.testing.OriginProcess;
import io.sourcemesh.proxy.testing.RawSocket;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Random and malformed HTTP/1.1 and PROXY protocol bytes at two real listeners for a bounded time
 * (3 s by default; {@code -Dsourcemesh.fuzz.seconds=N} for the long run of sourcemesh-bench/fuzz.sh),
 * then: a good request is still served on both; the listeners hold no connection; the JVM's
 * sockets (all the proxy's: the origin runs in a child JVM), open file descriptors and threads are back where
 * they were; the live heap after a full GC and Netty's pooled memory are back within a small margin
 * of the baseline (the run goes on past its time until MIN_CASES cases ran, so a loaded machine
 * cannot make the margin too wide to see a leak). The long run samples memory every
 * {@code -Dsourcemesh.fuzz.sampleSeconds} (30) into the report. The seed is printed so a failure
 * can be replayed ({@code -Dsourcemesh.fuzz.seed}).
 */
class ListenerFuzzTest {
    /** Enough cases that a leak of a connection's state on one case in three shows above the slack below. */
    private static final long MIN_CASES = 2000;
    private static final long LIVE_SLACK_KB = 512;
    private static final long DIRECT_SLACK_KB = 2048;
    /** In a child JVM: every socket in this one is then the proxy's or a fuzz client's (closed before its case ends). */
    private OriginProcess origin;
    private Proxy proxy;

    @BeforeEach
    void start() throws Exception {
        origin = OriginProcess.start();
        var pp = new ListenerFilterConfig.ProxyProtocol("envoy.filters.listener.proxy_protocol", false, List.of());
        proxy = Proxy.start(proxy(List.of(
                        listener("http", "127.0.0.1", List.of(), chain(hcm(routeAll("origin"), true, List.of()))),
                        listener("pp", "127.0.0.1", List.of(pp), chain(hcm(routeAll("origin"), true, List.of())))),
                List.of(staticCluster("origin", origin.address()))), 2);
    }

    @AfterEach
    void stop() {
        proxy.close();
        origin.close();
    }

    private static final String[] GOOD = {
            "GET /echo HTTP/1.1\r\nHost: x\r\n\r\n",
            "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
            "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, x-forwarded-for\r\nUpgrade: websocket\r\n\r\n",
            "HEAD / HTTP/1.0\r\n\r\n",
            "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n",
    };
    private static final String[] PROXY_HEADERS = {
            "PROXY TCP4 6.6.6.6 127.0.0.1 1 2\r\n", "PROXY TCP6 ::1 ::1 1 2\r\n", "PROXY UNKNOWN\r\n",
            "PROXY TCP4 bad.cafe 1.2.3.4 1 2\r\n", "PROXY TCP4 127.1 1.2.3.4 1 2\r\n", "PROXY ",
            "\r\n\r\n\u0000\r\nQUIT\n\u0021\u0011\u0000\u000c\u0006\u0006\u0006\u0006\u007f\u0000\u0000\u0001\u0000\u0001\u0000\u0002",
            "\r\n\r\n\u0000\r\nQUIT\n\u0021\u0011\u00ff\u00ff",
    };

    private static final String INSERTS = "\r\n\u0000 \t:;,";

    /** One fuzz case: a good request mutated (truncated, bytes flipped, CR/LF/NUL inserted) or pure noise. */
    static byte[] fuzzCase(Random r, boolean proxyProtocol) {
        StringBuilder b = new StringBuilder();
        if (proxyProtocol) {
            b.append(PROXY_HEADERS[r.nextInt(PROXY_HEADERS.length)]);
        }
        int kind = r.nextInt(5);
        if (kind == 0) {
            byte[] noise = new byte[r.nextInt(2048)];
            r.nextBytes(noise);
            b.append(new String(noise, StandardCharsets.ISO_8859_1));
        } else {
            StringBuilder req = new StringBuilder(GOOD[r.nextInt(GOOD.length)]);
            int edits = r.nextInt(6);
            for (int i = 0; i < edits && req.length() > 0; i++) {
                int at = r.nextInt(req.length());
                switch (r.nextInt(5)) {
                    case 0 -> req.setLength(at);
                    case 1 -> req.setCharAt(at, (char) r.nextInt(256));
                    case 2 -> req.insert(at, INSERTS.charAt(r.nextInt(INSERTS.length())));
                    case 3 -> req.insert(at, "ffffffffffffffff");
                    default -> req.append(GOOD[r.nextInt(GOOD.length)]); // pipelined
                }
            }
            b.append(req);
        }
        return b.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    private static long openFds() {
        return FileDescriptors.count();
    }

    private static long sockets(List<FileDescriptors.Fd> fds) {
        return fds.stream().filter(FileDescriptors.Fd::socket).count();
    }

    /** The connections the proxy's listeners hold open (downstream_cx_active). */
    private long listenerConnections() {
        return proxy.stats().gauges().entrySet().stream()
                .filter(e -> e.getKey().startsWith("listener.") && e.getKey().endsWith("downstream_cx_active"))
                .mapToLong(java.util.Map.Entry::getValue).sum();
    }

    /** The proxy's open upstream connections, over every cluster (the pool keeps idle ones for reuse). */
    private long upstreamConnections() {
        return proxy.stats().gauges().entrySet().stream().filter(e -> e.getKey().endsWith(".upstream_cx_active"))
                .mapToLong(java.util.Map.Entry::getValue).sum();
    }

    /** Live threads, less the fuzz clients' pools ("pool-*", ended but maybe not yet gone): the proxy's own must stay flat. */
    private static long threads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> !t.getName().startsWith("pool-")).count();
    }

    @Test
    void survivesMalformedInputWithoutLeaking() throws Exception {
        int seconds = Integer.getInteger("sourcemesh.fuzz.seconds", 3);
        int sampleSeconds = Integer.getInteger("sourcemesh.fuzz.sampleSeconds", 30);
        // false: the samples during the run force no GC (live heap unknown), to see the heap as the collector alone sizes it.
        boolean sampleGc = Boolean.parseBoolean(System.getProperty("sourcemesh.fuzz.sampleGc", "true"));
        long seed = Long.getLong("sourcemesh.fuzz.seed", System.nanoTime());
        System.out.println("ListenerFuzzTest seed=" + seed + " seconds=" + seconds);
        int[] ports = {proxy.listenerAddress("http").getPort(), proxy.listenerAddress("pp").getPort()};
        for (int i = 0; i < 4; i++) {
            assertGoodRequestsServed(ports); // every worker loop and sink thread started before the baseline
        }
        // A short fuzz first, so what the first malformed inputs build once (Netty's per-loop buffer
        // chunks and recyclers, lazily loaded classes' statics) is in the baseline, not in the growth.
        long fdsWarm = openFds();
        fuzz(ports, ~seed, 1, 0, new AtomicLong(), new AtomicLong());
        awaitFds(fdsWarm + 8);
        Thread.sleep(300);
        List<FileDescriptors.Fd> listBefore = FileDescriptors.list();
        long fdsBefore = listBefore.size();
        long socketsBefore = sockets(listBefore);
        long upstreamBefore = upstreamConnections();
        long threadsBefore = threads();
        MemorySample before = MemorySample.take();
        List<String> series = new java.util.concurrent.CopyOnWriteArrayList<>(List.of(before.line("t=0s")));

        AtomicLong cases = new AtomicLong();
        AtomicLong responses = new AtomicLong();
        long started = System.nanoTime();
        // Memory over time: every sampleSeconds a sample (with a full GC) while the fuzzer runs.
        Thread sampler = Thread.ofPlatform().name("fuzz-memory-sampler").daemon().start(() -> {
            try {
                for (long next = sampleSeconds; next < seconds; next += sampleSeconds) {
                    Thread.sleep(Math.max(0, started / 1_000_000 + next * 1000 - System.nanoTime() / 1_000_000));
                    series.add((sampleGc ? MemorySample.take() : MemorySample.peek()).line("t=" + next + "s cases=" + cases.get()));
                }
            } catch (InterruptedException e) {
                // the run ended first
            }
        });
        fuzz(ports, seed, seconds, MIN_CASES, cases, responses);
        sampler.interrupt();
        sampler.join();
        System.out.println("ListenerFuzzTest cases=" + cases.get() + " answered=" + responses.get());
        assertTrue(cases.get() > 50, "the fuzzer ran: " + cases.get());

        assertGoodRequestsServed(ports);
        // Every fuzz connection is gone: the listeners hold none (downstream_cx_active), and descriptors and threads
        // are back at the baseline. Every socket in this JVM is the proxy's (the origin runs in a process of its own;
        // each fuzz client's socket is closed before its case ends), so a connection the proxy fails to close stays
        // here as a socket: sockets are checked with a slack of 2, all descriptors with one of 8 for what the JVM
        // itself opens now and then (a jar, a class file). (With the origin in this JVM, the extra descriptors of the
        // runs that failed were blocking sockets in TCP's CLOSE state; getsockname showed the proxy's listener ports on
        // them, not the origin's: connections whose client had reset them, held by Netty's multishot POLLIN, see
        // Transport.POLL_ADD_MULTISHOT_PROPERTY. Accepted sockets on io_uring are blocking, as the origin's are.)
        // The upstream connections the proxy keeps pooled for reuse are not a leak: each is one socket here, counted
        // out by the clusters' upstream_cx_active. That gauge is raised before a connection's socket is made and
        // lowered after it is closed (UpstreamRequest.connect), so at rest it is never fewer than the proxy's upstream
        // sockets: listed from /proc/net/tcp (remote port the origin's) at the baseline and at the end of 42 runs of
        // this test under a load of 10 to 20 on 2 CPUs, the two were equal every time. An upstream connection more
        // than the gauge's growth was not seen; the socket slack of 2 would take one.
        long deadline = System.currentTimeMillis() + 20_000;
        long fdsAfter;
        long socketsAfter;
        long pooled;
        long listenersActive;
        List<FileDescriptors.Fd> listAfter;
        while (true) {
            pooled = Math.max(0, upstreamConnections() - upstreamBefore);
            listAfter = FileDescriptors.list();
            fdsAfter = listAfter.size();
            socketsAfter = sockets(listAfter);
            listenersActive = listenerConnections();
            boolean flat = listenersActive == 0 && fdsAfter <= fdsBefore + 8 + pooled && socketsAfter <= socketsBefore + 2 + pooled;
            if (flat || System.currentTimeMillis() > deadline) {
                break;
            }
            Thread.sleep(200);
        }
        long threadsAfter = threads();
        MemorySample after = MemorySample.take();
        series.add(after.line("t=" + TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started) + "s end cases=" + cases.get()));
        long liveGrowthKb = after.liveKb() - before.liveKb();
        long directGrowthKb = after.nettyDirectKb() - before.nettyDirectKb();
        String figures = "seed=" + seed + " seconds=" + seconds + " cases=" + cases.get() + " answered=" + responses.get()
                + " fds_before=" + fdsBefore + " fds_after=" + fdsAfter + " sockets_before=" + socketsBefore
                + " sockets_after=" + socketsAfter + " upstream_pooled_growth=" + pooled
                + " threads_before=" + threadsBefore
                + " threads_after=" + threadsAfter + " rss_kb_before=" + before.rssKb() + " rss_kb_after=" + after.rssKb()
                + " heap_live_kb_before=" + before.liveKb() + " heap_live_kb_after=" + after.liveKb()
                + " netty_direct_kb_before=" + before.nettyDirectKb() + " netty_direct_kb_after=" + after.nettyDirectKb()
                + " exceptions=" + proxy.stats().counters().entrySet().stream()
                        .filter(e -> e.getKey().endsWith("downstream_cx_exception")).mapToLong(java.util.Map.Entry::getValue).sum()
                + " listener_cx_total=" + proxy.stats().counters().entrySet().stream()
                        .filter(e -> e.getKey().startsWith("listener.") && e.getKey().endsWith("downstream_cx_total"))
                        .mapToLong(java.util.Map.Entry::getValue).sum()
                + " listener_cx_active=" + listenersActive
                + " governor_collections=" + HeapGovernor.collections()
                + " governor_pause_ms=" + TimeUnit.NANOSECONDS.toMillis(HeapGovernor.pauseNanos());
        System.out.println("ListenerFuzzTest " + figures);
        series.forEach(l -> System.out.println("ListenerFuzzTest memory " + l));
        String report = System.getProperty("sourcemesh.fuzz.report");
        if (report != null) {
            Files.writeString(Path.of(report), figures + "\n" + String.join("\n", series) + "\n");
        }
        String opened = "; opened since the baseline and still open: " + FileDescriptors.added(listBefore, listAfter);
        assertEquals(0, listenersActive, "every fuzz connection closed by the proxy: " + figures + opened);
        assertTrue(socketsAfter <= socketsBefore + 2 + pooled, "sockets flat: " + figures + opened);
        assertTrue(fdsAfter <= fdsBefore + 8 + pooled, "file descriptors flat: " + figures + opened);
        assertTrue(threadsAfter <= threadsBefore + 4, "threads flat: " + figures);
        // Memory: what is live after a full GC, and the chunks Netty's allocator holds, are back near
        // the baseline. Fuzz runs here grow the live heap by 0.1-0.2 MB (a full GC's noise: recycler
        // and timer-queue high-water marks); a closed connection held by a timer (about 4 kB with its
        // channel, on one case in three) adds 1.1-2.1 MB over MIN_CASES, above LIVE_SLACK_KB.
        assertTrue(liveGrowthKb <= LIVE_SLACK_KB,
                "live heap after a full GC back at the baseline: " + liveGrowthKb + " kB more; " + figures);
        assertTrue(directGrowthKb <= DIRECT_SLACK_KB, "Netty's pooled memory back at the baseline: " + directGrowthKb
                + " kB more; " + figures);
    }

    /**
     * Fuzzes both listeners from 8 clients for {@code seconds}, and on past them (up to five times as
     * long) until {@code minCases} ran; a bug in the fuzzer itself fails the test.
     */
    private static void fuzz(int[] ports, long seed, int seconds, long minCases, AtomicLong cases, AtomicLong responses)
            throws Exception {
        java.util.Queue<RuntimeException> clientErrors = new java.util.concurrent.ConcurrentLinkedQueue<>();
        long start = System.nanoTime();
        long end = start + TimeUnit.SECONDS.toNanos(seconds);
        long cap = start + TimeUnit.SECONDS.toNanos(seconds * 5L);
        try (ExecutorService clients = Executors.newFixedThreadPool(8)) {
            for (int c = 0; c < 8; c++) {
                Random r = new Random(seed + c);
                clients.submit(() -> {
                    for (long now = System.nanoTime(); now < end || (cases.get() < minCases && now < cap); now = System.nanoTime()) {
                        boolean pp = r.nextBoolean();
                        try (Socket s = new Socket("127.0.0.1", ports[pp ? 1 : 0])) {
                            s.setSoTimeout(150);
                            s.setSoLinger(r.nextInt(4) == 0, 0); // sometimes an RST instead of a FIN
                            s.getOutputStream().write(fuzzCase(r, pp));
                            if (r.nextBoolean()) {
                                byte[] buf = new byte[4096];
                                if (s.getInputStream().read(buf) > 0) {
                                    responses.incrementAndGet();
                                }
                            }
                        } catch (IOException e) {
                            // the proxy closing on us is a fine answer to garbage
                        } catch (RuntimeException e) {
                            clientErrors.add(e); // a bug in the fuzzer itself must fail the test, not end it quietly
                        }
                        cases.incrementAndGet();
                    }
                    return null;
                });
            }
        }
        assertTrue(clientErrors.isEmpty(), "fuzzer errors: " + clientErrors);
    }

    /** Waits up to 20 s for the open descriptors to fall to {@code atMost}; returns the last count. */
    private static long awaitFds(long atMost) throws Exception {
        long deadline = System.currentTimeMillis() + 20_000;
        long fds = openFds();
        while (fds > atMost && System.currentTimeMillis() < deadline) {
            Thread.sleep(200);
            fds = openFds();
        }
        return fds;
    }

    private void assertGoodRequestsServed(int[] ports) throws IOException {
        RawSocket.Reply plain = RawSocket.exchange(ports[0], "GET /after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertEquals("HTTP/1.1 200 OK", plain.statusLine(), plain.text());
        RawSocket.Reply pp = RawSocket.exchange(ports[1],
                "PROXY TCP4 6.6.6.6 127.0.0.1 1 2\r\nGET /after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assertEquals("HTTP/1.1 200 OK", pp.statusLine(), pp.text());
        assertTrue(pp.text().contains("\nx-forwarded-for: 6.6.6.6\n"), "the origin saw the PROXY header's address: " + pp.text());
    }
}
