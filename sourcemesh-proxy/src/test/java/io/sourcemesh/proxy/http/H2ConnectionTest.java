package io.sourcemesh.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.sourcemesh.proxy.config.ClusterConfig;
import io.sourcemesh.proxy.testing.Configs;
import io.sourcemesh.proxy.testing.H2Frames;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * codec_type AUTO's choice on {@link EmbeddedChannel}s (Envoy's determineNextProtocol): the HTTP/2 preface makes the
 * connection HTTP/2 (the HTTP/1 codec leaves, the bytes go on to the frame codec), anything else stays HTTP/1, a
 * preface arriving byte by byte waits to be told apart; then a stream's request reaches the upstream as HTTP/1.1.
 */
class H2ConnectionTest {
    private static final InetSocketAddress ORIGIN = new InetSocketAddress("127.0.0.1", 9000);
    private EmbeddedProxy proxy;

    @AfterEach
    void close() {
        if (proxy != null) {
            proxy.close();
        }
    }

    private EmbeddedChannel client() throws Exception {
        proxy = new EmbeddedProxy(Configs.routeAll("origin"), EmbeddedProxy.cluster("origin", ClusterConfig.CircuitBreakers.DEFAULTS, ORIGIN));
        return proxy.acceptedClient();
    }

    private static ByteBuf outbound(EmbeddedChannel ch) {
        ByteBuf all = Unpooled.buffer();
        Object o;
        while ((o = ch.readOutbound()) != null) {
            if (o instanceof ByteBuf b) {
                all.writeBytes(b);
                b.release();
            }
        }
        return all;
    }

    @Test
    void thePrefaceMakesTheConnectionHttp2() throws Exception {
        EmbeddedChannel ch = client();
        ch.writeInbound(new H2Frames().preface().get(1, "/a").buffer());
        ch.runPendingTasks();
        assertNotNull(ch.pipeline().get(Http2FrameCodec.class));
        assertNull(ch.pipeline().get(ServerCodec.class), "the HTTP/1 codec left");
        assertNull(ch.pipeline().get(HttpConnection.class));
        H2Frames.Reader reader = new H2Frames.Reader();
        List<H2Frames.Frame> frames = reader.read(outbound(ch));
        assertEquals(4, frames.getFirst().type(), "the server's SETTINGS first: " + frames);
        assertEquals(1, proxy.counter("http.ingress_http.downstream_cx_http2_total"));
        assertEquals(1, proxy.stats.gauges().get("http.ingress_http.downstream_cx_http2_active"));
        assertEquals(1, proxy.counter("http.ingress_http.downstream_rq_http2_total"));
        assertEquals(1, proxy.upstreams.size(), "the stream went upstream");
        String request = EmbeddedProxy.written(proxy.upstreams.getFirst().channel());
        assertTrue(request.startsWith("GET /a HTTP/1.1\r\n"), request);
        assertTrue(request.toLowerCase().contains("host: app\r\n"), request);
        proxy.upstreams.getFirst().respond("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
        ch.runPendingTasks();
        List<H2Frames.Frame> answer = reader.read(outbound(ch));
        assertTrue(answer.stream().anyMatch(f -> f.type() == 1 && f.stream() == 1 && f.headers().status().toString().equals("200")),
                answer.toString());
        assertTrue(answer.stream().anyMatch(f -> f.type() == 0 && f.stream() == 1 && f.data().equals("ok") && f.endStream()),
                answer.toString());
        // a second stream on the same connection, later
        ch.writeInbound(new H2Frames().get(3, "/b").buffer());
        ch.runPendingTasks();
        String second = EmbeddedProxy.written(proxy.upstreams.getLast().channel());
        assertTrue(second.startsWith("GET /b HTTP/1.1\r\n"), "stream 3 went up (on the pooled connection): " + second);
        proxy.upstreams.getLast().respond("HTTP/1.1 204 No Content\r\n\r\n");
        ch.runPendingTasks();
        List<H2Frames.Frame> third = reader.read(outbound(ch));
        assertTrue(third.stream().anyMatch(f -> f.type() == 1 && f.stream() == 3 && f.headers().status().toString().equals("204")),
                third.toString());
        assertTrue(third.stream().anyMatch(f -> f.stream() == 3 && f.endStream()), third.toString());
        reader.close();
    }

    @Test
    void http1StaysHttp1() throws Exception {
        EmbeddedChannel ch = client();
        EmbeddedProxy.send(ch, "GET /a HTTP/1.1\r\nHost: app\r\n\r\n");
        assertNull(ch.pipeline().get(Http2FrameCodec.class));
        assertNotNull(ch.pipeline().get(ServerCodec.class));
        assertEquals(1, proxy.upstreams.size());
        assertEquals(0, proxy.counter("http.ingress_http.downstream_cx_http2_total"));
    }

    @Test
    void aPrefaceInPiecesWaitsToBeToldApart() throws Exception {
        EmbeddedChannel ch = client();
        byte[] all = new H2Frames().preface().get(1, "/a").bytes();
        for (int i = 0; i < all.length; i++) {
            ch.writeInbound(Unpooled.wrappedBuffer(Arrays.copyOfRange(all, i, i + 1)));
            if (i < 11) {
                assertNotNull(ch.pipeline().get(ServerCodec.class), "undecided after " + (i + 1) + " bytes");
                assertEquals(0, outbound(ch).readableBytes(), "nothing answered while undecided");
            }
        }
        ch.runPendingTasks();
        assertNotNull(ch.pipeline().get(Http2FrameCodec.class));
        assertEquals(1, proxy.upstreams.size());
    }

    @Test
    void aPrefixOfThePrefaceThatTurnsIntoHttp1IsHttp1() throws Exception {
        EmbeddedChannel ch = client();
        EmbeddedProxy.send(ch, "PR");
        EmbeddedProxy.send(ch, "OPFIND /a HTTP/1.1\r\nHost: app\r\n\r\n");
        assertNull(ch.pipeline().get(Http2FrameCodec.class));
        assertEquals(1, proxy.upstreams.size());
        assertTrue(EmbeddedProxy.written(proxy.upstreams.getFirst().channel()).startsWith("PROPFIND /a HTTP/1.1\r\n"));
    }

    @Test
    void anUppercaseHeaderNameResetsTheStreamAndNotTheConnection() throws Exception {
        EmbeddedChannel ch = client();
        ch.writeInbound(new H2Frames().preface()
                .headers(1, true, ":method", "GET", ":scheme", "http", ":path", "/a", ":authority", "app", "X-Bad", "1")
                .get(3, "/b").buffer());
        ch.runPendingTasks();
        List<H2Frames.Frame> frames = H2Frames.read(outbound(ch));
        assertTrue(frames.stream().anyMatch(f -> f.type() == 3 && f.stream() == 1 && f.errorCode() == 1), frames.toString());
        assertFalse(frames.stream().anyMatch(f -> f.type() == 7), "no GOAWAY: " + frames);
        assertTrue(ch.isActive());
        assertEquals(1, proxy.upstreams.size(), "only stream 3 went up");
        assertTrue(EmbeddedProxy.written(proxy.upstreams.getFirst().channel()).startsWith("GET /b HTTP/1.1\r\n"));
        assertEquals(1, proxy.counter("http2.rx_messaging_error"));
    }

    /**
     * An HTTP/2 read is one event of the loop's clock ({@link LoopClock#now}): a stream it starts (its connection
     * manager's clocks, its log's start, its premature-reset lifetime) and the request sent upstream read the clock
     * once between them.
     */
    @Test
    void aStreamStartReadsTheClockOnce() throws Exception {
        EmbeddedChannel ch = client();
        ch.writeInbound(new H2Frames().preface().get(1, "/a").buffer());
        ch.runPendingTasks();
        proxy.upstreams.getFirst().respond("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
        ch.runPendingTasks();
        outbound(ch).release();
        LoopClock clock = LoopClock.of(ch.eventLoop());
        long before = clock.reads();
        ch.writeInbound(new H2Frames().get(3, "/b").buffer());
        assertEquals(1, clock.reads() - before, "clock readings for a stream's start");
        ch.runPendingTasks();
        assertTrue(EmbeddedProxy.written(proxy.upstreams.getLast().channel()).contains("GET /b HTTP/1.1\r\n"), "stream 3 went up");
        proxy.upstreams.getLast().respond("HTTP/1.1 204 No Content\r\n\r\n");
        ch.runPendingTasks();
    }
}
