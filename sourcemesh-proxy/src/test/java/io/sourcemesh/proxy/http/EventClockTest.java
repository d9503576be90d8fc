package io.sourcemesh.proxy.http;

import static io.sourcemesh.proxy.http.EmbeddedProxy.send;
import static io.sourcemesh.proxy.http.EmbeddedProxy.stream;
import static io.sourcemesh.proxy.http.EmbeddedProxy.written;
import static io.sourcemesh.proxy.testing.Configs.route;
import static io.sourcemesh.proxy.testing.Configs.routes;
import static org.junit.jupiter.api.Assertions.*;

import io.netty.channel.embedded.EmbeddedChannel;
import io.sourcemesh.proxy.accesslog.StreamInfo;
import io.sourcemesh.proxy.config.ClusterConfig;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The event loop's clock read once per I/O event ({@link LoopClock#now}): what a stream's log and the
 * router time still spans the events (a client's read to the upstream's answer), and an event's time
 * ends with the event.
 */
class EventClockTest {
    private static final InetSocketAddress A = new InetSocketAddress("127.0.0.1", 8001);
    private static final String GET = "GET /x HTTP/1.1\r\nHost: app\r\n\r\n";
    private static final String OK = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
    private static final long PAUSE_MILLIS = 40;

    private EmbeddedProxy proxy;

    @AfterEach
    void close() {
        proxy.close();
    }

    private EmbeddedProxy proxy() {
        return new EmbeddedProxy(routes(route("r", "/", EmbeddedProxy.forward("origin", Duration.ofSeconds(15), null))),
                EmbeddedProxy.cluster("origin", ClusterConfig.CircuitBreakers.DEFAULTS, A));
    }

    private static long serviceTime(String answer) {
        for (String line : answer.split("\r\n")) {
            if (line.startsWith("x-envoy-upstream-service-time: ")) {
                return Long.parseLong(line.substring(line.indexOf(' ') + 1));
            }
        }
        throw new AssertionError("no service time in " + answer);
    }

    /** The stream starts at the client's read and ends at the upstream's: the time between shows in %DURATION% and the service time. */
    @Test
    void durationsSpanFromTheClientsReadToTheUpstreamsAnswer() throws Exception {
        proxy = proxy();
        EmbeddedChannel client = proxy.client();
        long beforeRequest = System.nanoTime();
        send(client, GET);
        long afterRequest = System.nanoTime();
        StreamInfo info = stream(client).info();
        assertTrue(info.startNanos() - beforeRequest >= 0 && afterRequest - info.startNanos() >= 0, "started within the client's read");

        Thread.sleep(PAUSE_MILLIS);
        long beforeAnswer = System.nanoTime();
        proxy.upstreams.get(0).respond(OK);
        long afterAnswer = System.nanoTime();
        String answer = written(client);
        assertTrue(answer.startsWith("HTTP/1.1 200 OK"), answer);

        long shortest = TimeUnit.NANOSECONDS.toMillis(beforeAnswer - afterRequest);
        long longest = TimeUnit.NANOSECONDS.toMillis(afterAnswer - beforeRequest);
        long duration = info.durationMillis();
        assertTrue(duration >= Math.max(PAUSE_MILLIS, shortest) && duration <= longest, duration + " ms, not in [" + shortest + ", " + longest + "]");
        long service = serviceTime(answer);
        assertTrue(service >= Math.max(PAUSE_MILLIS, shortest) && service <= longest, service + " ms, not in [" + shortest + ", " + longest + "]");
        assertEquals(service, info.upstreamServiceTimeMillis());
    }

    /** Between events the clock is read afresh: an event's time does not outlive it. */
    @Test
    void anEventsTimeEndsWithTheEvent() throws Exception {
        proxy = proxy();
        EmbeddedChannel client = proxy.client();
        LoopClock clock = ((HttpConnection) client.pipeline().get("http-connection-manager")).clock();
        clock.eventStarted();
        long first = clock.now();
        Thread.sleep(2);
        assertEquals(first, clock.now(), "one reading per event");
        clock.eventStarted(); // a nested event keeps the outer one's time
        assertEquals(first, clock.now());
        clock.eventEnded();
        assertEquals(first, clock.now());
        clock.eventEnded();
        assertTrue(clock.now() - first >= TimeUnit.MILLISECONDS.toNanos(2), "outside an event the clock is read");

        send(client, GET);
        proxy.upstreams.get(0).respond(OK);
        assertTrue(written(client).startsWith("HTTP/1.1 200 OK"));
        long after = clock.now();
        Thread.sleep(2);
        assertTrue(clock.now() - after >= TimeUnit.MILLISECONDS.toNanos(2), "the request's events all ended");
    }

    /**
     * A keep-alive request reads the clock once per event: the client's read, the upstream's read and the
     * response's write done (ten System.nanoTime calls per such request before).
     */
    @Test
    void aKeepAliveRequestReadsTheClockOncePerEvent() throws Exception {
        proxy = proxy();
        EmbeddedChannel client = proxy.client();
        LoopClock clock = ((HttpConnection) client.pipeline().get("http-connection-manager")).clock();
        send(client, GET);
        proxy.upstreams.get(0).respond(OK);
        assertTrue(written(client).startsWith("HTTP/1.1 200 OK"));

        long before = clock.reads();
        send(client, GET);
        assertEquals(1, proxy.upstreams.size(), "the pooled connection again");
        proxy.upstreams.get(0).respond(OK);
        assertTrue(written(client).startsWith("HTTP/1.1 200 OK"));
        assertEquals(3, clock.reads() - before);
    }
}
