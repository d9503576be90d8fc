package io.sourcemesh.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.H2Frames;
import io.sourcemesh.proxy.testing.HttpBootstrap;
import io.sourcemesh.proxy.testing.Origin;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Envoy's HTTP/2 flood protection (http2_flood_integration_test.cc; protocol_constraints.cc), with raw frames from a
 * client that misbehaves: each limit terminates its connection, counts its http2.* stat, and other clients go on
 * being served.
 */
class Http2FloodTest {
    private Origin origin;
    private Proxy proxy;

    @BeforeEach
    void startOrigin() throws Exception {
        origin = Origin.start();
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        origin.close();
    }

    private void start(String hcmFields) {
        HttpBootstrap b = HttpBootstrap.toOrigin(origin.port());
        proxy = Proxy.start(BootstrapLoader.loadText((hcmFields.isEmpty() ? b : b.hcmFields(hcmFields)).yaml()), 1);
    }

    private long counter(String name) {
        return proxy.stats().counters().getOrDefault(name, 0L);
    }

    private Socket connect() throws IOException {
        Socket s = new Socket();
        s.setReceiveBufferSize(4096); // a client that reads nothing fills a small window
        s.connect(proxy.listenerAddress("http"));
        s.setSoTimeout(5_000);
        return s;
    }

    /** Another client on its own connection is answered. */
    private void othersServed() {
        Curl.Result r = Curl.exec(java.util.List.of("curl", "-s", "--max-time", "20", "-o", "/dev/null", "-w",
                "%{http_code} %{http_version}", "--http2-prior-knowledge", "http://127.0.0.1:" + proxy.listenerAddress("http").getPort() + "/"));
        assertEquals("200 2", r.out().trim(), r.toString());
    }

    /** Reads (and drops) until the proxy closes the connection; false if it is still open after {@code millis}. */
    private static boolean closedWithin(Socket s, int millis) throws IOException {
        s.setSoTimeout(millis);
        InputStream in = s.getInputStream();
        byte[] buf = new byte[65536];
        try {
            while (in.read(buf) >= 0) {
                // drained
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset
        }
    }

    /** Writes PINGs and never reads the ACKs, until the proxy ends the connection; how many were written. */
    private static int pingFlood(Socket s, int max) {
        byte[] pings = new byte[17 * 1000];
        H2Frames f = new H2Frames();
        for (int i = 0; i < 1000; i++) {
            f.ping(false, i);
        }
        System.arraycopy(f.bytes(), 0, pings, 0, pings.length);
        int sent = 0;
        try {
            s.getOutputStream().write(new H2Frames().preface().bytes());
            while (sent < max) {
                s.getOutputStream().write(pings);
                sent += 1000;
            }
        } catch (IOException e) {
            // the proxy closed the connection
        }
        return sent;
    }

    @Test
    void pingsWhoseAcksAreNeverReadTerminateTheConnectionAsAnOutboundControlFlood() throws Exception {
        start("");
        try (Socket s = connect()) {
            int sent = pingFlood(s, 5_000_000);
            assertTrue(sent < 5_000_000, "the proxy kept taking PINGs");
            assertTrue(closedWithin(s, 5_000));
        }
        assertEquals(1, counter("http2.outbound_control_flood"));
        assertEquals(0, counter("http2.outbound_flood"));
        othersServed();
    }

    @Test
    void maxOutboundFramesCountsEveryQueuedFrame() throws Exception {
        start("http2_protocol_options: {max_outbound_frames: 100, max_outbound_control_frames: 1000000}");
        try (Socket s = connect()) {
            assertTrue(pingFlood(s, 5_000_000) < 5_000_000, "the proxy kept taking PINGs");
            assertTrue(closedWithin(s, 5_000));
        }
        assertEquals(1, counter("http2.outbound_flood"));
        assertEquals(0, counter("http2.outbound_control_flood"));
        othersServed();
    }

    @Test
    void pingsAnsweredAndReadAreNoFlood() throws Exception {
        start("");
        try (Socket s = connect(); H2Frames.Reader reader = new H2Frames.Reader()) {
            s.getOutputStream().write(new H2Frames().preface().bytes());
            int acks = 0;
            io.netty.buffer.ByteBuf in = io.netty.buffer.Unpooled.buffer();
            byte[] buf = new byte[16384];
            for (int batch = 0; batch < 6; batch++) { // three times the control limit in all, each batch's ACKs read
                H2Frames f = new H2Frames();
                for (int i = 0; i < 500; i++) {
                    f.ping(false, i);
                }
                s.getOutputStream().write(f.bytes());
                while (acks < 500 * (batch + 1)) {
                    int n = s.getInputStream().read(buf);
                    assertTrue(n > 0, "closed after " + acks + " ACKs");
                    in.writeBytes(buf, 0, n);
                    acks += (int) reader.read(in).stream().filter(x -> x.type() == 6).count();
                }
            }
        }
        assertEquals(0, counter("http2.outbound_control_flood"));
    }

    /** Envoy's limit of 1: the second empty DATA frame without END_STREAM in a row ends the connection. */
    @Test
    void consecutiveEmptyDataFramesTerminateTheConnection() throws Exception {
        start("");
        try (Socket s = connect()) {
            s.getOutputStream().write(new H2Frames().preface()
                    .headers(1, false, ":method", "POST", ":scheme", "http", ":path", "/", ":authority", "app")
                    .data(1, false, "").data(1, false, "").bytes());
            assertTrue(closedWithin(s, 5_000));
        }
        assertEquals(1, counter("http2.inbound_empty_frames_flood"));
        othersServed();
    }

    /** The limit is configurable: three empty frames pass a limit of 3, and the request is served. */
    @Test
    void emptyFramesUpToAConfiguredLimitAreServed() throws Exception {
        start("http2_protocol_options: {max_consecutive_inbound_frames_with_empty_payload: 3}");
        try (Socket s = connect(); H2Frames.Reader reader = new H2Frames.Reader()) {
            s.getOutputStream().write(new H2Frames().preface()
                    .headers(1, false, ":method", "POST", ":scheme", "http", ":path", "/", ":authority", "app")
                    .data(1, false, "").data(1, false, "").data(1, false, "").data(1, true, "x").bytes());
            assertTrue(readsStatus(s, reader, 1, "200"));
        }
        assertEquals(0, counter("http2.inbound_empty_frames_flood"));
    }

    private static boolean readsStatus(Socket s, H2Frames.Reader reader, int stream, String status) throws IOException {
        io.netty.buffer.ByteBuf in = io.netty.buffer.Unpooled.buffer();
        byte[] buf = new byte[16384];
        while (true) {
            int n = s.getInputStream().read(buf);
            if (n < 0) {
                return false;
            }
            in.writeBytes(buf, 0, n);
            for (H2Frames.Frame f : reader.read(in)) {
                if (f.type() == 1 && f.stream() == stream) {
                    return f.headers().status().toString().equals(status);
                }
            }
        }
    }

    /** 100 PRIORITY frames per opened stream (plus one stream's worth): the 101st on a connection with none ends it. */
    @Test
    void priorityFramesBeyondTheLimitTerminateTheConnection() throws Exception {
        start("");
        try (Socket s = connect(); H2Frames.Reader reader = new H2Frames.Reader()) {
            H2Frames f = new H2Frames().preface();
            for (int i = 0; i < 100; i++) {
                f.priority(1 + 2 * i);
            }
            s.getOutputStream().write(f.get(201, "/").bytes());
            assertTrue(readsStatus(s, reader, 201, "200"), "100 PRIORITY frames are within the limit");
            H2Frames more = new H2Frames();
            for (int i = 0; i < 101; i++) { // one stream opened: 200 allowed, 201 sent
                more.priority(203);
            }
            s.getOutputStream().write(more.bytes());
            assertTrue(closedWithin(s, 5_000));
        }
        assertEquals(1, counter("http2.inbound_priority_frames_flood"));
        othersServed();
    }

    /** WINDOW_UPDATEs: 1 + 2 × (streams + 10 × DATA frames sent); with nothing open or sent, the second is one too many. */
    @Test
    void windowUpdatesBeyondTheLimitTerminateTheConnection() throws Exception {
        start("");
        try (Socket s = connect()) {
            s.getOutputStream().write(new H2Frames().preface().windowUpdate(0, 1).windowUpdate(0, 1).bytes());
            assertTrue(closedWithin(s, 5_000));
        }
        assertEquals(1, counter("http2.inbound_window_update_frames_flood"));
        othersServed();
    }

    /** DATA sent raise the WINDOW_UPDATE allowance: a response body lets the client send its window updates. */
    @Test
    void windowUpdatesWithinTheAllowanceAreServed() throws Exception {
        start("");
        try (Socket s = connect(); H2Frames.Reader reader = new H2Frames.Reader()) {
            s.getOutputStream().write(new H2Frames().preface().windowUpdate(0, 1).get(1, "/").bytes());
            assertTrue(readsStatus(s, reader, 1, "200"));
            H2Frames f = new H2Frames();
            for (int i = 0; i < 2; i++) { // 1 + 2 × (1 stream + 10 × ≥1 DATA) ≥ 23 allowed; 3 sent in all
                f.windowUpdate(0, 1);
            }
            s.getOutputStream().write(f.get(3, "/").bytes());
            assertTrue(readsStatus(s, reader, 3, "200"));
        }
        assertEquals(0, counter("http2.inbound_window_update_frames_flood"));
    }

    /** Writes HEADERS (a GET) and at once RST_STREAM (CANCEL) on {@code n} streams from {@code first}. */
    private static void rapidResets(Socket s, int first, int n) throws IOException {
        for (int i = 0; i < n; i++) {
            int stream = first + 2 * i;
            s.getOutputStream().write(new H2Frames().get(stream, "/").rst(stream, 8).bytes());
        }
    }

    /**
     * Rapid reset (CVE-2023-44487) as Envoy's maybeDrainDueToPrematureResets: streams reset before any response, 250 of
     * them (half of 500) while fewer than 500 have ended, close the connection, counted in
     * downstream_rq_too_many_premature_resets.
     */
    @Test
    void streamsResetBeforeTheirResponseCloseTheConnectionAsEnvoysPrematureResets() throws Exception {
        start("");
        try (Socket s = connect()) {
            s.getOutputStream().write(new H2Frames().preface().bytes());
            try {
                rapidResets(s, 1, 400);
            } catch (IOException e) {
                // closed under the writes
            }
            assertTrue(closedWithin(s, 5_000));
        }
        assertEquals(1, counter("http.http.downstream_rq_too_many_premature_resets"));
        othersServed();
    }

    /**
     * Resets are counted against the streams that ended: after 260 answered streams, 240 resets (more than Netty's own
     * 200-in-30-s limit, which is off) leave the connection open, and it still serves.
     */
    @Test
    void resetsAmongAnsweredStreamsBelowHalfKeepTheConnection() throws Exception {
        start("");
        try (Socket s = connect(); H2Frames.Reader reader = new H2Frames.Reader()) {
            s.getOutputStream().write(new H2Frames().preface().bytes());
            int stream = 1;
            for (int i = 0; i < 260; i++, stream += 2) {
                s.getOutputStream().write(new H2Frames().get(stream, "/").bytes());
                assertTrue(readsStatus(s, reader, stream, "200"), "stream " + stream);
            }
            rapidResets(s, stream, 240);
            stream += 480;
            s.getOutputStream().write(new H2Frames().get(stream, "/").bytes());
            assertTrue(readsStatus(s, reader, stream, "200"), "served after the resets");
        }
        assertEquals(0, counter("http.http.downstream_rq_too_many_premature_resets"));
    }

    /** One client connection's frames as they come, read with a buffer and HPACK table kept across reads. */
    private static final class Frames implements AutoCloseable {
        private final Socket socket;
        private final H2Frames.Reader reader = new H2Frames.Reader();
        private final io.netty.buffer.ByteBuf in = io.netty.buffer.Unpooled.buffer();
        private final java.util.ArrayDeque<H2Frames.Frame> read = new java.util.ArrayDeque<>();
        private final byte[] buf = new byte[65536];

        Frames(Socket socket) {
            this.socket = socket;
        }

        /** The :status of the next HEADERS on {@code stream}; null if the connection closed first. */
        String status(int stream) throws IOException {
            while (true) {
                for (H2Frames.Frame f; (f = read.poll()) != null; ) {
                    if (f.type() == 1 && f.stream() == stream) {
                        return f.headers().status().toString();
                    }
                }
                int n;
                try {
                    n = socket.getInputStream().read(buf);
                } catch (IOException e) {
                    return null; // reset
                }
                if (n < 0) {
                    return null;
                }
                in.writeBytes(buf, 0, n);
                read.addAll(reader.read(in));
                in.discardReadBytes();
            }
        }

        @Override
        public void close() {
            reader.close();
            in.release();
        }
    }

    private static void write(Socket s, H2Frames frames) throws IOException {
        s.getOutputStream().write(frames.bytes());
    }

    /**
     * Envoy's isPrematureRstStream asks whether the stream has a response code, and a 1xx gives it one: chargeStats
     * sets it for the 100 Continue the connection manager sends itself (decodeHeaders) as for a proxied 1xx
     * (encode1xxHeaders). So streams answered 100 Continue and then reset are not premature resets: 300 of them (more
     * than the 250 that close a connection) leave it open and serving.
     */
    @Test
    void streamsResetAfterA100ContinueAreNotPrematureResets() throws Exception {
        start("");
        try (Socket s = connect(); Frames frames = new Frames(s)) {
            write(s, new H2Frames().preface());
            int stream = 1;
            for (int i = 0; i < 300; i++, stream += 2) {
                // /upload answers once it has the body, which never comes: the 100 is all the stream gets
                write(s, new H2Frames().headers(stream, false, ":method", "POST", ":scheme", "http", ":path", "/upload",
                        ":authority", "app", "expect", "100-continue"));
                assertEquals("100", frames.status(stream), "stream " + stream);
                write(s, new H2Frames().rst(stream, 8));
            }
            write(s, new H2Frames().get(stream, "/"));
            assertEquals("200", frames.status(stream), "served after the resets");
        }
        assertEquals(0, counter("http.http.downstream_rq_too_many_premature_resets"));
    }

    /**
     * Streams reset once their final response head is out, its body still coming (more than the client's window),
     * are not premature resets either: 300 of them leave the connection open and serving.
     */
    @Test
    void streamsResetAfterTheirResponseHeadAreNotPrematureResets() throws Exception {
        start("");
        try (Socket s = connect(); Frames frames = new Frames(s)) {
            write(s, new H2Frames().preface());
            int stream = 1;
            for (int i = 0; i < 300; i++, stream += 2) {
                write(s, new H2Frames().get(stream, "/bytes/1000000"));
                assertEquals("200", frames.status(stream), "stream " + stream);
                write(s, new H2Frames().rst(stream, 8));
            }
            write(s, new H2Frames().get(stream, "/"));
            assertEquals("200", frames.status(stream), "served after the resets");
        }
        assertEquals(0, counter("http.http.downstream_rq_too_many_premature_resets"));
    }
}
