package io.sourcemesh.proxy.http;

import static io.sourcemesh.proxy.http.EmbeddedProxy.send;
import static io.sourcemesh.proxy.http.EmbeddedProxy.stream;
import static io.sourcemesh.proxy.http.EmbeddedProxy.written;
import static io.sourcemesh.proxy.testing.Configs.route;
import static io.sourcemesh.proxy.testing.Configs.routes;
import static org.junit.jupiter.api.Assertions.*;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.sourcemesh.proxy.accesslog.ResponseFlag;
import io.sourcemesh.proxy.config.ClusterConfig;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * One attempt on embedded channels: connecting, sending, sent, pooled; connect failure; a stale pooled connection; the
 * pooled connection's pending read asked for within the read that ended the response.
 */
class UpstreamRequestTest {
    private static final InetSocketAddress A = new InetSocketAddress("127.0.0.1", 8001);
    private static final String OK = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";

    private EmbeddedProxy proxy;

    @BeforeEach
    void start() {
        proxy = new EmbeddedProxy(routes(route("r", "/", EmbeddedProxy.forward("origin", Duration.ofSeconds(15), null))),
                EmbeddedProxy.cluster("origin", ClusterConfig.CircuitBreakers.DEFAULTS, A));
    }

    @AfterEach
    void close() {
        proxy.close();
    }

    @Test
    void aBodyWaitsForTheConnectionThenTheAttemptIsSentAnsweredAndPooled() throws Exception {
        proxy.holdConnects = true;
        EmbeddedChannel client = proxy.client();
        send(client, "POST /up HTTP/1.1\r\nHost: app\r\ncontent-length: 4\r\n\r\nab");
        UpstreamRequest attempt = stream(client).router().current();
        assertEquals(UpstreamRequest.State.CONNECTING, attempt.state());
        assertFalse(attempt.pooledConnection());

        proxy.upstreams.get(0).connected();
        assertEquals(UpstreamRequest.State.SENDING, attempt.state(), "the head and the held body went up; more body to come");
        String up = proxy.upstreams.get(0).request();
        assertTrue(up.startsWith("POST /up HTTP/1.1") && up.endsWith("\r\n\r\nab"), up);

        send(client, "cd");
        assertEquals(UpstreamRequest.State.SENT, attempt.state());
        assertEquals("cd", proxy.upstreams.get(0).request());

        proxy.upstreams.get(0).respond(OK);
        assertTrue(written(client).startsWith("HTTP/1.1 200 OK"));
        assertEquals(UpstreamRequest.State.DETACHED, attempt.state(), "handed back at the stream's end");
        assertTrue(proxy.upstreams.get(0).channel().isOpen(), "kept for the pool");

        proxy.holdConnects = false;
        send(client, "GET /again HTTP/1.1\r\nHost: app\r\n\r\n");
        UpstreamRequest second = stream(client).router().current();
        assertTrue(second.pooledConnection(), "the next request takes the pooled connection");
        assertEquals(1, proxy.upstreams.size());
        assertTrue(proxy.upstreams.get(0).request().startsWith("GET /again HTTP/1.1"));
    }

    @Test
    void aConnectFailureIs503UFWithTheTransportFailureReason() throws Exception {
        proxy.holdConnects = true;
        EmbeddedChannel client = proxy.client();
        send(client, "GET / HTTP/1.1\r\nHost: app\r\n\r\n");
        HttpStream s = stream(client);
        proxy.upstreams.get(0).refused();
        String answer = written(client);
        assertTrue(answer.startsWith("HTTP/1.1 503 Service Unavailable"), answer);
        assertTrue(answer.endsWith("reset reason: connection failure, transport failure reason: delayed connect error: "
                + "Connection refused"), answer);
        assertTrue(s.info().hasResponseFlag(ResponseFlag.UPSTREAM_CONNECTION_FAILURE));
        assertEquals(1, proxy.counter("cluster.origin.upstream_cx_connect_fail"));
        assertEquals(0, proxy.stats.gauges().get("cluster.origin.upstream_cx_active"));
    }

    @Test
    void aPooledConnectionTheUpstreamClosedIsTriedOnceMoreOnAFreshOneWithoutCountingARetry() throws Exception {
        EmbeddedChannel client = proxy.client();
        send(client, "GET /1 HTTP/1.1\r\nHost: app\r\n\r\n");
        proxy.upstreams.get(0).request();
        proxy.upstreams.get(0).respond(OK);
        written(client);

        send(client, "GET /2 HTTP/1.1\r\nHost: app\r\n\r\n");
        HttpStream s = stream(client);
        UpstreamRequest stale = s.router().current();
        assertTrue(stale.pooledConnection());
        proxy.upstreams.get(0).channel().close(); // the upstream had closed it: no answer

        assertEquals(UpstreamRequest.State.DETACHED, stale.state());
        assertEquals(2, proxy.upstreams.size());
        UpstreamRequest fresh = s.router().current();
        assertFalse(fresh.pooledConnection());
        assertTrue(proxy.upstreams.get(1).request().startsWith("GET /2 HTTP/1.1"));
        proxy.upstreams.get(1).respond(OK);
        assertTrue(written(client).startsWith("HTTP/1.1 200 OK"));
        assertEquals(0, proxy.counter("cluster.origin.upstream_rq_retry"));
        assertEquals(1, s.info().attemptCount(), "one attempt on a route without a retry policy");
    }

    @Test
    void bytesAfterTheOneResponseAreAProtocolErrorAndTheConnectionIsNotPooled() throws Exception {
        EmbeddedChannel client = proxy.client();
        send(client, "GET / HTTP/1.1\r\nHost: app\r\n\r\n");
        proxy.upstreams.get(0).respond(OK + "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
        String answer = written(client);
        assertTrue(answer.startsWith("HTTP/1.1 200 OK") && answer.endsWith("ok"), answer);
        assertEquals(1, answer.split("HTTP/1.1", -1).length - 1, "the extra response never reaches the client");
        assertFalse(proxy.upstreams.get(0).channel().isOpen());
        assertEquals(1, proxy.counter("cluster.origin.upstream_cx_protocol_error"));
    }

    @Test
    void theUpstreamAsksForItsNextReadWithinTheReadThatEndedTheResponseNotAfterTheClientTookIt() throws Exception {
        EmbeddedChannel client = proxy.client();
        send(client, "GET /1 HTTP/1.1\r\nHost: app\r\n\r\n");
        EmbeddedChannel up = proxy.upstreams.get(0).channel();
        proxy.upstreams.get(0).request();
        up.config().setAutoRead(false); // as the proxy's upstream connections are: reads are asked for
        AtomicInteger reads = new AtomicInteger();
        up.pipeline().addFirst(new ReadCounter(reads));
        HeldWrites held = new HeldWrites();
        client.pipeline().addFirst(held); // the client's socket has not taken the response yet
        UpstreamRequest attempt = stream(client).router().current();

        proxy.upstreams.get(0).respond(OK);
        // io_uring's multishot recv (the buffer ring) stays armed only if a read is pending when the read event ends
        assertTrue(reads.get() > 0, "the read the pool keeps pending is asked for before the client's write completes");
        assertEquals(UpstreamRequest.State.SENT, attempt.state(), "not released before the client took the response");

        held.release();
        client.pipeline().remove(held);
        assertTrue(written(client).startsWith("HTTP/1.1 200 OK"));
        assertEquals(UpstreamRequest.State.DETACHED, attempt.state());
        assertTrue(up.isOpen(), "pooled");
        send(client, "GET /2 HTTP/1.1\r\nHost: app\r\n\r\n");
        assertTrue(stream(client).router().current().pooledConnection());
        assertTrue(proxy.upstreams.get(0).request().startsWith("GET /2 HTTP/1.1"));
        proxy.upstreams.get(0).respond(OK);
        assertTrue(written(client).startsWith("HTTP/1.1 200 OK"));
        assertEquals(1, proxy.upstreams.size());
    }

    @Test
    void bytesAfterTheResponseWhileTheClientTakesItEndTheConnectionNotTheResponse() throws Exception {
        EmbeddedChannel client = proxy.client();
        send(client, "GET / HTTP/1.1\r\nHost: app\r\n\r\n");
        proxy.upstreams.get(0).request();
        HeldWrites held = new HeldWrites();
        client.pipeline().addFirst(held);
        proxy.upstreams.get(0).respond(OK);
        proxy.upstreams.get(0).respond("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"); // read by the early read
        held.release();
        String answer = written(client);
        assertTrue(answer.startsWith("HTTP/1.1 200 OK") && answer.endsWith("ok"), answer);
        assertEquals(1, answer.split("HTTP/1.1", -1).length - 1, "the extra response never reaches the client");
        assertFalse(proxy.upstreams.get(0).channel().isOpen(), "closed, not pooled");
        assertEquals(1, proxy.counter("cluster.origin.upstream_cx_protocol_error"));
        assertTrue(client.isOpen(), "the client's connection stays");
    }

    /** Counts the reads asked of a channel. */
    private static final class ReadCounter extends ChannelOutboundHandlerAdapter {
        private final AtomicInteger reads;

        ReadCounter(AtomicInteger reads) {
            this.reads = reads;
        }

        @Override
        public void read(ChannelHandlerContext ctx) {
            reads.incrementAndGet();
            ctx.read();
        }
    }

    /** Holds a channel's writes (a socket that has not taken them yet) until {@link #release}. */
    private static final class HeldWrites extends ChannelOutboundHandlerAdapter {
        private final List<Object> messages = new ArrayList<>();
        private final List<ChannelPromise> promises = new ArrayList<>();
        private ChannelHandlerContext ctx;

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            this.ctx = ctx;
            messages.add(msg);
            promises.add(promise);
        }

        @Override
        public void flush(ChannelHandlerContext ctx) {
            // held: flushed at release
        }

        void release() {
            for (int i = 0; i < messages.size(); i++) {
                ctx.write(messages.get(i), promises.get(i));
            }
            messages.clear();
            promises.clear();
            ctx.flush();
        }
    }
}
