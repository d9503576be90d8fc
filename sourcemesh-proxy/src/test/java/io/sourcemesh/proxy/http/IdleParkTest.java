package io.sourcemesh.proxy.http;

import static io.sourcemesh.proxy.http.EmbeddedProxy.send;
import static io.sourcemesh.proxy.http.EmbeddedProxy.written;
import static io.sourcemesh.proxy.testing.Configs.*;
import static org.junit.jupiter.api.Assertions.*;

import io.netty.channel.embedded.EmbeddedChannel;
import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.ClusterConfig;
import io.sourcemesh.proxy.config.HttpConnectionManagerConfig;
import io.sourcemesh.proxy.config.HttpProtocolLimits;
import io.sourcemesh.proxy.testing.Origin;
import io.sourcemesh.proxy.testing.RawSocket;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * A connection idle for {@link ConnectionTimers#PARK_AFTER_NANOS} parks its HTTP codec (out of the
 * pipeline) and makes a fresh one on the client's next byte: what the client sees is the same —
 * split, pipelined and slow requests after a park, and every timeout as without one.
 */
class IdleParkTest {
    private static final InetSocketAddress A = new InetSocketAddress("127.0.0.1", 8001);
    private static final String GET = "GET /x HTTP/1.1\r\nHost: app\r\n\r\n";
    private static final String OK = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";

    private static EmbeddedProxy embedded() {
        return new EmbeddedProxy(routes(route("r", "/", EmbeddedProxy.forward("origin", Duration.ofSeconds(15), null))),
                EmbeddedProxy.cluster("origin", ClusterConfig.CircuitBreakers.DEFAULTS, A));
    }

    /** Waits past the park delay and runs the connection's due checks. */
    private static void idleLongEnough(EmbeddedChannel client) throws InterruptedException {
        Thread.sleep(Duration.ofNanos(ConnectionTimers.PARK_AFTER_NANOS).toMillis() + 150);
        client.runScheduledPendingTasks();
    }

    /** Answers every request the upstreams were sent since the last call with OK, in order. */
    private static int answerAll(EmbeddedProxy proxy) {
        int answered = 0;
        for (EmbeddedProxy.Upstream up : proxy.upstreams) {
            String request = up.request();
            int n = request.split("GET /", -1).length - 1;
            for (int i = 0; i < n; i++) {
                up.respond(OK);
                answered++;
            }
        }
        return answered;
    }

    private static int responses(String text) {
        return text.split("HTTP/1.1 200 OK", -1).length - 1;
    }

    @Test
    void anIdleKeepAliveConnectionParksItsCodecAndASplitRequestWakesIt() throws Exception {
        try (EmbeddedProxy proxy = embedded()) {
            EmbeddedChannel client = proxy.client();
            send(client, GET);
            assertEquals(1, answerAll(proxy));
            assertEquals(1, responses(written(client)));
            assertNotNull(client.pipeline().get("http-codec"), "not parked right after a response");

            idleLongEnough(client);
            assertNull(client.pipeline().get("http-codec"), "parked once idle");

            send(client, "GET /x HT");
            assertNotNull(client.pipeline().get("http-codec"), "the first byte brings a codec back");
            send(client, "TP/1.1\r\nHost: app\r\n\r\n");
            assertEquals(1, answerAll(proxy));
            assertEquals(1, responses(written(client)));
            assertTrue(client.isActive());
        }
    }

    @Test
    void pipelinedRequestsAfterAParkAreAnsweredInOrder() throws Exception {
        try (EmbeddedProxy proxy = embedded()) {
            EmbeddedChannel client = proxy.client();
            idleLongEnough(client); // a connection that never sent anything parks too
            assertNull(client.pipeline().get("http-codec"));
            send(client, GET.replace("/x", "/one") + GET.replace("/x", "/two"));
            StringBuilder seen = new StringBuilder();
            for (int i = 0; i < 2; i++) {
                for (EmbeddedProxy.Upstream up : proxy.upstreams) {
                    String request = up.request();
                    if (!request.isEmpty()) {
                        seen.append(request, 0, request.indexOf(' ', 4)).append(';');
                        up.respond(OK);
                    }
                }
            }
            assertEquals("GET /one;GET /two;", seen.toString());
            assertEquals(2, responses(written(client)));
        }
    }

    @Test
    void aConnectionHoldingPartOfARequestDoesNotPark() throws Exception {
        try (EmbeddedProxy proxy = embedded()) {
            EmbeddedChannel client = proxy.client();
            send(client, "GET /x HTTP/1.1\r\nHost: a");
            idleLongEnough(client);
            assertNotNull(client.pipeline().get("http-codec"), "the codec holds the bytes so far");
            send(client, "pp\r\n\r\n");
            assertEquals(1, answerAll(proxy));
            assertEquals(1, responses(written(client)));
        }
    }

    @Test
    void aConnectionAnsweringARequestDoesNotPark() throws Exception {
        try (EmbeddedProxy proxy = embedded()) {
            EmbeddedChannel client = proxy.client();
            send(client, GET);
            idleLongEnough(client); // the upstream takes its time
            assertNotNull(client.pipeline().get("http-codec"));
            assertEquals(1, answerAll(proxy));
            assertEquals(1, responses(written(client)));
        }
    }

    @Test
    void timeoutsRunOnAParkedConnectionAsOnAnyOther() throws Exception {
        // Real sockets: request_headers_timeout after a park (its clock starts at the waking bytes), then
        // idle_timeout closes a parked connection.
        Optional<Duration> headers = Optional.of(Duration.ofMillis(400));
        Optional<Duration> idle = Optional.of(Duration.ofMillis(2500));
        try (Origin origin = Origin.start()) {
            HttpConnectionManagerConfig hcm = hcm(routeAll("origin"), false, List.of())
                    .withTimeouts(Optional.empty(), Optional.empty(), new HttpProtocolLimits(idle, headers, 100, 60));
            Proxy proxy = Proxy.start(proxy(List.of(listener("http", "127.0.0.1", List.of(), chain(hcm))),
                    List.of(staticCluster("origin", origin.address()))), 1);
            try {
                int port = proxy.listenerAddress("http").getPort();
                try (RawSocket s = RawSocket.connect(port)) {
                    RawSocket.Reply r = s.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n").readUntil(t -> t.contains("\r\n\r\n"), 300);
                    assertEquals("HTTP/1.1 200 OK", r.statusLine(), r.text());
                    Thread.sleep(1500); // parked
                    long t0 = System.nanoTime();
                    r = s.send("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n").readUntilClose(10_000);
                    assertTrue(r.closed());
                    assertEquals("HTTP/1.1 408 Request Timeout", r.statusLine(), r.text());
                    long waited = System.nanoTime() - t0;
                    assertTrue(waited >= 300_000_000L && waited < 2_000_000_000L, "answered by the headers timeout: " + waited);
                }
                assertEquals(1, proxy.stats().counters().getOrDefault("http.ingress_http.downstream_rq_header_timeout", 0L));
                try (RawSocket s = RawSocket.connect(port)) {
                    RawSocket.Reply r = s.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n").readUntilClose(10_000);
                    assertEquals("HTTP/1.1 200 OK", r.statusLine(), r.text());
                    assertTrue(r.closed(), "closed once idle, parked or not");
                }
                assertEquals(1, proxy.stats().counters().getOrDefault("http.ingress_http.downstream_cx_idle_timeout", 0L));
            } finally {
                proxy.close();
            }
        }
    }
}
