package io.sourcemesh.proxy.http;

import static io.sourcemesh.proxy.http.EmbeddedProxy.send;
import static io.sourcemesh.proxy.http.EmbeddedProxy.stream;
import static io.sourcemesh.proxy.http.EmbeddedProxy.written;
import static io.sourcemesh.proxy.testing.Configs.route;
import static io.sourcemesh.proxy.testing.Configs.routes;
import static org.junit.jupiter.api.Assertions.*;

import io.netty.channel.embedded.EmbeddedChannel;
import io.sourcemesh.proxy.accesslog.ResponseFlag;
import io.sourcemesh.proxy.config.ClusterConfig;
import io.sourcemesh.proxy.config.RouteConfig;
import io.sourcemesh.proxy.http.filter.FilterStatus;
import io.sourcemesh.proxy.http.filter.HttpFilter;
import io.sourcemesh.proxy.http.filter.HttpFilterCallbacks;
import io.sourcemesh.proxy.http.filter.HttpFilterFactory;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The router's state machine on embedded channels: retries on a 5xx and on a reset, the route
 * timeout (504 UT), circuit-breaker admission (pending, then 503 UO), an upstream reset after
 * the response started, and a filter chain that pauses and resumes in front of the router.
 */
class RouterTest {
    private static final InetSocketAddress A = new InetSocketAddress("127.0.0.1", 8001);
    private static final InetSocketAddress B = new InetSocketAddress("127.0.0.1", 8002);
    private static final String GET = "GET /x HTTP/1.1\r\nHost: app\r\n\r\n";
    private static final String OK = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";

    private EmbeddedProxy proxy;

    @AfterEach
    void close() {
        proxy.close();
    }

    private static EmbeddedProxy proxy(Duration timeout, RouteConfig.RetryPolicy retry, ClusterConfig.CircuitBreakers breakers,
            InetSocketAddress... hosts) {
        return new EmbeddedProxy(routes(route("r", "/", EmbeddedProxy.forward("origin", timeout, retry))),
                EmbeddedProxy.cluster("origin", breakers, hosts));
    }

    /**
     * Waits out a retry's back-off (Envoy's default: under 25 ms for the first retry) on the route clock: the next
     * attempt is not made at once, but once the clock fires, making upstream {@code attempts}.
     */
    private void afterBackOff(EmbeddedChannel client, int attempts) throws InterruptedException {
        assertEquals(attempts - 1, proxy.upstreams.size(), "no attempt before the back-off is over");
        for (int i = 0; i < 200 && proxy.upstreams.size() < attempts; i++) {
            Thread.sleep(5);
            client.runScheduledPendingTasks();
        }
        assertEquals(attempts, proxy.upstreams.size(), "the next attempt once the back-off is over");
    }

    /** A back-off whose bound is 10^10 ms: the chance it is under a 1 s route timeout is 1 in 10^7. */
    private static RouteConfig.RetryPolicy longBackOff() {
        return new RouteConfig.RetryPolicy(Set.of("5xx"), 1, Set.of(), false, 1, Duration.ZERO, 10_000_000_000L, 10_000_000_000L);
    }

    /**
     * The route timeout keeps running while a retry waits out its back-off (Envoy's global timeout, armed once): a
     * back-off longer than the route's time left ends in 504 UT with no further attempt, and outlier detection hears
     * of no attempt for it.
     */
    @Test
    void theRouteTimeoutEndsARetrysBackOff() throws Exception {
        proxy = proxy(Duration.ofSeconds(1), longBackOff(), ClusterConfig.CircuitBreakers.DEFAULTS, A, B);
        EmbeddedChannel client = proxy.client();
        send(client, GET);
        HttpStream s = stream(client);
        proxy.upstreams.get(0).respond("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n");
        assertEquals("", written(client), "the 503 is retried away");
        assertEquals(1, proxy.counter("cluster.origin.upstream_rq_retry"));
        assertEquals(1, proxy.counter("cluster.origin.upstream_rq_retry_backoff_exponential"));
        assertTrue(s.router().timeoutArmed());
        Thread.sleep(1200);
        client.runScheduledPendingTasks();

        String answer = written(client);
        assertTrue(answer.startsWith("HTTP/1.1 504 Gateway Timeout"), answer);
        assertTrue(s.info().hasResponseFlag(ResponseFlag.UPSTREAM_REQUEST_TIMEOUT));
        assertEquals("upstream_response_timeout", s.info().responseCodeDetails());
        assertEquals(1, proxy.upstreams.size(), "no attempt after the route timeout");
        assertEquals(1, proxy.counter("cluster.origin.upstream_rq_timeout"));
        assertEquals(0, proxy.stats.gauges().get("cluster.origin.upstream_rq_active"));
        assertEquals(0, proxy.stats.gauges().get("cluster.origin.circuit_breakers.default.rq_retry_open"));
    }

    /** A client that leaves during a retry's back-off gets no further attempt made for it; what the stream held goes back. */
    @Test
    void aClientLeavingDuringTheBackOffEndsTheRetry() throws Exception {
        proxy = proxy(Duration.ZERO, longBackOff(), ClusterConfig.CircuitBreakers.DEFAULTS, A, B);
        EmbeddedChannel client = proxy.client();
        send(client, GET);
        HttpStream s = stream(client);
        proxy.upstreams.get(0).respond("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n");
        assertTrue(s.router().timeoutArmed(), "the back-off is on the route clock, with no route timeout");
        client.close();
        client.runScheduledPendingTasks();
        assertEquals(HttpStream.State.DONE, s.state());
        assertEquals(1, proxy.upstreams.size());
        assertFalse(s.router().timeoutArmed());
        assertEquals(0, proxy.stats.gauges().get("cluster.origin.upstream_rq_active"));
        assertEquals(0, proxy.stats.gauges().get("cluster.origin.circuit_breakers.default.rq_retry_open"));
    }

    /** retry_on unavailable: a response whose grpc-status is 14 is retried, one with another grpc-status is not. */
    @Test
    void aGrpcUnavailableIsRetriedAndAnotherGrpcStatusIsNot() throws Exception {
        proxy = proxy(Duration.ofSeconds(15), new RouteConfig.RetryPolicy(Set.of("unavailable"), 1, Set.of()),
                ClusterConfig.CircuitBreakers.DEFAULTS, A, B);
        EmbeddedChannel client = proxy.client();
        send(client, GET);
        proxy.upstreams.get(0).respond("HTTP/1.1 200 OK\r\ngrpc-status: 14\r\ncontent-length: 0\r\n\r\n");
        afterBackOff(client, 2);
        assertEquals("", written(client));
        proxy.upstreams.get(1).respond("HTTP/1.1 200 OK\r\ngrpc-status: 2\r\ncontent-length: 2\r\n\r\nok");
        String answer = written(client);
        assertTrue(answer.startsWith("HTTP/1.1 200 OK") && answer.contains("grpc-status: 2") && answer.endsWith("ok"), answer);
        assertEquals(2, proxy.upstreams.size(), "grpc-status 2 is not retried");
        assertEquals(1, proxy.counter("cluster.origin.upstream_rq_retry"));
    }

    @Test
    void a5xxIsRetriedOnAnotherAttemptAndOnlyTheLastAnswerReachesTheClient() throws Exception {
        proxy = proxy(Duration.ofSeconds(15), new RouteConfig.RetryPolicy(Set.of("5xx"), 1, Set.of()),
                ClusterConfig.CircuitBreakers.DEFAULTS, A, B);
        EmbeddedChannel client = proxy.client();
        send(client, GET);
        HttpStream s = stream(client);
        Router router = s.router();
        UpstreamRequest first = router.current();
        assertEquals(Router.State.ADMITTED, router.state());
        assertEquals(UpstreamRequest.State.SENT, first.state());
        assertTrue(proxy.upstreams.get(0).request().startsWith("GET /x HTTP/1.1"));

        proxy.upstreams.get(0).respond("HTTP/1.1 503 Service Unavailable\r\ncontent-length: 4\r\n\r\nbusy");

        assertEquals(UpstreamRequest.State.DETACHED, first.state(), "the failed attempt is let go");
        assertFalse(proxy.upstreams.get(0).channel().isOpen(), "and its connection closed");
        afterBackOff(client, 2);
        assertNotEquals(proxy.upstreams.get(0).destination(), proxy.upstreams.get(1).destination());
        assertEquals(2, s.info().attemptCount(), "%UPSTREAM_REQUEST_ATTEMPT_COUNT%");
        assertEquals(HttpStream.State.OPEN, s.state(), "nothing went to the client yet");
        assertEquals("", written(client));

        proxy.upstreams.get(1).respond(OK);
        String answer = written(client);
        assertTrue(answer.startsWith("HTTP/1.1 200 OK"), answer);
        assertTrue(answer.endsWith("ok"), answer);
        assertEquals(HttpStream.State.DONE, s.state());
        assertEquals(Router.State.DONE, router.state());
        assertEquals(1, proxy.counter("cluster.origin.upstream_rq_retry"));
        assertEquals(0, proxy.stats.gauges().get("cluster.origin.upstream_rq_active"));
        assertEquals(0, proxy.stats.gauges().get("cluster.origin.circuit_breakers.default.rq_retry_open"),
                "the retry slot was given back");
    }

    /**
     * A response whose body came with its head goes to the client in one write (one buffer: head and body), one
     * whose body comes later in two; either way the log counts the body's bytes.
     */
    @Test
    void aWholeResponseIsWrittenOnceAndEitherShapeCountsItsBody() throws Exception {
        proxy = proxy(Duration.ofSeconds(15), null, ClusterConfig.CircuitBreakers.DEFAULTS, A);
        EmbeddedChannel client = proxy.client();
        send(client, GET);
        HttpStream whole = stream(client);
        proxy.upstreams.get(0).respond(OK);
        assertEquals(1, client.outboundMessages().size(), "head and body in one buffer");
        String answer = written(client);
        assertTrue(answer.startsWith("HTTP/1.1 200 OK") && answer.endsWith("\r\n\r\nok"), answer);
        assertEquals(HttpStream.State.DONE, whole.state());
        assertEquals(2, whole.info().bytesSent());

        send(client, GET);
        HttpStream split = stream(client);
        proxy.upstreams.get(0).respond("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n");
        assertEquals(HttpStream.State.RESPONDING, split.state(), "the head went down, its body is still to come");
        proxy.upstreams.get(0).respond("ok");
        answer = written(client);
        assertTrue(answer.startsWith("HTTP/1.1 200 OK") && answer.endsWith("\r\n\r\nok"), answer);
        assertEquals(HttpStream.State.DONE, split.state());
        assertEquals(2, split.info().bytesSent());
        assertEquals(1, proxy.upstreams.size(), "one pooled connection served both");
    }

    /** A keep-alive connection's next stream reuses the last one's StreamInfo, fresh: nothing of the last request in it. */
    @Test
    void theNextStreamOnAConnectionStartsFreshInTheLastOnesInfo() throws Exception {
        proxy = proxy(Duration.ofSeconds(15), null, ClusterConfig.CircuitBreakers.DEFAULTS, A);
        EmbeddedChannel client = proxy.client();
        send(client, "GET /x?first HTTP/1.1\r\nHost: app\r\n\r\n");
        HttpStream first = stream(client);
        proxy.upstreams.get(0).respond(OK);
        assertEquals(2, first.info().bytesSent());
        assertEquals(200, first.info().responseCode());
        written(client);

        send(client, "HEAD /y HTTP/1.1\r\nHost: app\r\n\r\n");
        HttpStream second = stream(client);
        assertSame(first.info(), second.info(), "the connection's one StreamInfo");
        assertEquals("/y", second.info().requestPath());
        assertEquals("HEAD", second.info().requestMethod());
        assertEquals(0, second.info().responseCode());
        assertEquals(0, second.info().bytesSent());
        assertEquals(-1, second.info().upstreamServiceTimeMillis());
        assertEquals(-1, second.info().durationMillis(), "not ended");
        assertNull(second.info().responseHeaders());
        assertNull(second.info().responseCodeDetails());
        assertEquals(EmbeddedProxy.CLIENT, second.info().downstreamDirectRemoteAddress());
        proxy.upstreams.get(0).respond("HTTP/1.1 204 No Content\r\n\r\n");
        assertEquals(204, second.info().responseCode());
        assertEquals(HttpStream.State.DONE, second.state());
    }

    @Test
    void aResetBeforeTheResponseIsRetriedAndWhenRetriesRunOutTheLogSaysURX() throws Exception {
        proxy = proxy(Duration.ofSeconds(15), new RouteConfig.RetryPolicy(Set.of("reset"), 1, Set.of()),
                ClusterConfig.CircuitBreakers.DEFAULTS, A, B);
        EmbeddedChannel client = proxy.client();
        send(client, GET);
        HttpStream s = stream(client);
        proxy.upstreams.get(0).channel().close();
        afterBackOff(client, 2); // a reset is retried on a new connection
        assertEquals(UpstreamRequest.State.SENT, s.router().current().state());
        proxy.upstreams.get(1).channel().close();

        String answer = written(client);
        assertTrue(answer.startsWith("HTTP/1.1 503 Service Unavailable"), answer);
        assertTrue(answer.contains("reset reason: connection termination"), answer);
        assertTrue(s.info().hasResponseFlag(ResponseFlag.UPSTREAM_CONNECTION_TERMINATION));
        assertTrue(s.info().hasResponseFlag(ResponseFlag.UPSTREAM_RETRY_LIMIT_EXCEEDED));
        assertEquals(2, proxy.upstreams.size(), "num_retries 1: two attempts in all");
        assertEquals(HttpStream.State.DONE, s.state());
    }

    @Test
    void theRouteTimeoutAnswers504UTAndClosesTheAttempt() throws Exception {
        proxy = proxy(Duration.ofMillis(100), null, ClusterConfig.CircuitBreakers.DEFAULTS, A);
        EmbeddedChannel client = proxy.client();
        send(client, GET);
        HttpStream s = stream(client);
        assertTrue(s.router().timeoutArmed(), "armed once the whole request went up");
        Thread.sleep(200);
        client.runScheduledPendingTasks();

        String answer = written(client);
        assertTrue(answer.startsWith("HTTP/1.1 504 Gateway Timeout"), answer);
        assertTrue(answer.endsWith("upstream request timeout"), answer);
        assertTrue(s.info().hasResponseFlag(ResponseFlag.UPSTREAM_REQUEST_TIMEOUT));
        assertEquals("upstream_response_timeout", s.info().responseCodeDetails());
        assertFalse(proxy.upstreams.get(0).channel().isOpen());
        assertEquals(1, proxy.counter("cluster.origin.upstream_rq_timeout"));
        assertEquals(1, proxy.counter("http.ingress_http.downstream_rq_timeout"));
        assertEquals(HttpStream.State.DONE, s.state());
        assertTrue(client.isOpen(), "a local reply keeps the client's connection");
    }

    /**
     * A route's timeout of 0s (Istio writes it on every route) is none, as Envoy's: the translation gives an unset one
     * Envoy's 15 s and a 0s one no value, which is not the default again here.
     */
    @Test
    void aRouteTimeoutOfZeroArmsNoTimer() throws Exception {
        RouteConfig.Forward none = new RouteConfig.Forward(Optional.of("origin"), List.of(), Optional.empty(), Optional.empty(),
                Optional.empty(), List.of());
        proxy = new EmbeddedProxy(routes(route("r", "/", none)), EmbeddedProxy.cluster("origin", ClusterConfig.CircuitBreakers.DEFAULTS, A));
        EmbeddedChannel client = proxy.client();
        send(client, GET);
        HttpStream s = stream(client);
        assertEquals(UpstreamRequest.State.SENT, s.router().current().state());
        assertFalse(s.router().timeoutArmed(), "no route timeout");
        proxy.upstreams.get(0).respond(OK);
        assertTrue(written(client).endsWith("ok"));
    }

    /**
     * Envoy's UpstreamRequest::onPerTryTimeout: once the response has started downstream the per-try timeout is ignored
     * (the route timeout bounds the rest); the body still comes from the same attempt.
     */
    @Test
    void aPerTryTimeoutAfterTheResponseStartedIsIgnored() throws Exception {
        proxy = proxy(Duration.ofSeconds(15), new RouteConfig.RetryPolicy(Set.of("5xx"), 1, Set.of(), false, 1, Duration.ofMillis(100)),
                ClusterConfig.CircuitBreakers.DEFAULTS, A, B);
        EmbeddedChannel client = proxy.client();
        send(client, GET);
        HttpStream s = stream(client);
        assertTrue(s.router().timeoutArmed(), "armed once the whole request went up");
        proxy.upstreams.get(0).respond("HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nok");
        Thread.sleep(200);
        client.runScheduledPendingTasks();
        proxy.upstreams.get(0).respond("ok");

        String answer = written(client);
        assertTrue(answer.startsWith("HTTP/1.1 200 OK") && answer.endsWith("okok"), answer);
        assertEquals(1, proxy.upstreams.size(), "no retry");
        assertEquals(0, proxy.counter("cluster.origin.upstream_rq_per_try_timeout"));
        assertEquals(HttpStream.State.DONE, s.state());
    }

    @Test
    void atMaxConnectionsARequestWaitsAsPendingAndBeyondMaxPendingItOverflowsWith503UO() throws Exception {
        proxy = proxy(Duration.ofSeconds(15), null, new ClusterConfig.CircuitBreakers(1, 1, 1024, 3, false), A);
        EmbeddedChannel c1 = proxy.client();
        EmbeddedChannel c2 = proxy.client();
        EmbeddedChannel c3 = proxy.client();
        send(c1, GET);
        send(c2, GET);
        HttpStream waiting = stream(c2);
        assertEquals(Router.State.PENDING, waiting.router().state());
        assertNull(waiting.router().current(), "no attempt while pending");
        send(c3, GET);

        String overflow = written(c3);
        assertTrue(overflow.startsWith("HTTP/1.1 503 Service Unavailable"), overflow);
        assertTrue(overflow.contains("reset reason: overflow"), overflow);
        assertEquals(1, proxy.counter("cluster.origin.upstream_rq_pending_overflow"));

        proxy.upstreams.get(0).request();
        proxy.upstreams.get(0).respond(OK);
        assertTrue(written(c1).startsWith("HTTP/1.1 200 OK"));
        assertEquals(Router.State.ADMITTED, waiting.router().state(), "the pooled connection went to the waiting request");
        assertTrue(waiting.router().current().pooledConnection());
        assertEquals(1, proxy.upstreams.size());
        assertTrue(proxy.upstreams.get(0).request().startsWith("GET /x HTTP/1.1"));
        proxy.upstreams.get(0).respond(OK);
        assertTrue(written(c2).startsWith("HTTP/1.1 200 OK"));
        assertEquals(0, proxy.stats.gauges().get("cluster.origin.circuit_breakers.default.rq_pending_open"));
    }

    @Test
    void anUpstreamResetAfterTheResponseStartedResetsTheClient() throws Exception {
        proxy = proxy(Duration.ofSeconds(15), new RouteConfig.RetryPolicy(Set.of("reset", "5xx"), 3, Set.of()),
                ClusterConfig.CircuitBreakers.DEFAULTS, A);
        EmbeddedChannel client = proxy.client();
        send(client, GET);
        HttpStream s = stream(client);
        proxy.upstreams.get(0).respond("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc");
        assertEquals(HttpStream.State.RESPONDING, s.state());
        assertTrue(written(client).endsWith("abc"), "the first bytes went down");

        proxy.upstreams.get(0).channel().close();
        assertEquals(1, proxy.upstreams.size(), "never retried once the response started");
        assertFalse(client.isOpen(), "the client's connection is reset: its response cannot be completed");
        // Envoy hands the close to its HTTP/1 codec as the end of input: a body its Content-Length says is not done is
        // HPE_INVALID_EOF_STATE, a protocol error (CodecClient::onEvent, BalsaParser::execute)
        assertTrue(s.info().hasResponseFlag(ResponseFlag.UPSTREAM_PROTOCOL_ERROR));
        assertEquals("upstream_reset_after_response_started{protocol_error}", s.info().responseCodeDetails());
        assertEquals(1, proxy.counter("cluster.origin.upstream_cx_protocol_error"));
        assertEquals(HttpStream.State.DONE, s.state());
        assertEquals(Router.State.DONE, s.router().state());
    }

    /**
     * A malformed response is a reset of reason ProtocolError to Envoy's router: retried as resets are (retry_on reset,
     * 5xx or gateway-error: RetryStateImpl::wouldRetryFromReset); the retried-away answer charges no code.
     */
    @Test
    void aMalformedResponseIsRetriedAsAReset() throws Exception {
        proxy = proxy(Duration.ofSeconds(15), new RouteConfig.RetryPolicy(Set.of("gateway-error"), 1, Set.of()),
                ClusterConfig.CircuitBreakers.DEFAULTS, A, B);
        EmbeddedChannel client = proxy.client();
        send(client, GET);
        proxy.upstreams.get(0).respond("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz");
        afterBackOff(client, 2);
        assertFalse(proxy.upstreams.get(0).channel().isOpen());
        proxy.upstreams.get(1).respond(OK);
        assertTrue(written(client).startsWith("HTTP/1.1 200 OK"));
        assertEquals(1, proxy.counter("cluster.origin.upstream_cx_protocol_error"));
        assertEquals(1, proxy.counter("cluster.origin.upstream_rq_retry"));
        assertEquals(0, proxy.counter("cluster.origin.upstream_rq_502"));
        assertEquals(1, proxy.counter("cluster.origin.upstream_rq_completed"));
    }

    /**
     * After an interim response Envoy's router takes (100, 102, 103, 104) it retries nothing (retry_state_ reset), and
     * a reset is "after response started" for it and charges no code — though the client, whose connection manager
     * swallowed the 100, still gets a local reply.
     */
    @Test
    void anInterimResponseEndsRetriesAndAResetAfterItIsAfterTheResponseStarted() throws Exception {
        proxy = proxy(Duration.ofSeconds(15), new RouteConfig.RetryPolicy(Set.of("reset", "5xx"), 3, Set.of()),
                ClusterConfig.CircuitBreakers.DEFAULTS, A, B);
        EmbeddedChannel client = proxy.client();
        send(client, GET);
        HttpStream s = stream(client);
        proxy.upstreams.get(0).respond("HTTP/1.1 100 Continue\r\n\r\n");
        proxy.upstreams.get(0).channel().close();
        assertEquals(1, proxy.upstreams.size(), "not retried after the 100");
        assertTrue(written(client).startsWith("HTTP/1.1 503 Service Unavailable"));
        assertEquals("upstream_reset_after_response_started{connection_termination}", s.info().responseCodeDetails());
        assertTrue(s.info().hasResponseFlag(ResponseFlag.UPSTREAM_CONNECTION_TERMINATION));
        assertEquals(1, proxy.counter("cluster.origin.upstream_rq_100"));
        assertEquals(0, proxy.counter("cluster.origin.upstream_rq_503"));
    }

    /** The router's own answers for an upstream that failed charge their code to the cluster (Envoy's chargeUpstreamAbort). */
    @Test
    void anUpstreamFailureChargesTheCodeOfTheLocalReply() throws Exception {
        proxy = proxy(Duration.ofSeconds(15), null, ClusterConfig.CircuitBreakers.DEFAULTS, A);
        EmbeddedChannel client = proxy.client();
        send(client, GET);
        proxy.upstreams.get(0).request();
        proxy.upstreams.get(0).channel().close();
        assertTrue(written(client).startsWith("HTTP/1.1 503 Service Unavailable"));
        assertEquals(1, proxy.counter("cluster.origin.upstream_rq_503"));
        assertEquals(1, proxy.counter("cluster.origin.upstream_rq_5xx"));
        assertEquals(1, proxy.counter("cluster.origin.external.upstream_rq_503"));
        assertEquals(1, proxy.counter("cluster.origin.upstream_rq_completed"));
    }

    /** A filter that pauses every request (as a fault delay does) and keeps its callbacks for the test. */
    private static final class Pausing implements HttpFilterFactory {
        HttpFilterCallbacks callbacks;
        Optional<RouteConfig.Route> routeSeen;

        @Override
        public String name() {
            return "pausing";
        }

        @Override
        public HttpFilter create(HttpFilterCallbacks callbacks) {
            this.callbacks = callbacks;
            return (request, endStream) -> {
                routeSeen = callbacks.route();
                return FilterStatus.STOP_ITERATION;
            };
        }
    }

    /** A proxy whose one route "r" forwards to cluster "origin" (endpoint A) behind a filter that pauses every stream. */
    private Pausing pausingProxy() {
        Pausing pausing = new Pausing();
        proxy = new EmbeddedProxy(routes(route("r", "/", EmbeddedProxy.forward("origin", Duration.ofSeconds(15), null))),
                List.of(pausing), EmbeddedProxy.cluster("origin", ClusterConfig.CircuitBreakers.DEFAULTS, A));
        return pausing;
    }

    @Test
    void aPausedChainHoldsTheRequestAndItsBodyUntilContinueDecodingThenTheRouterForwardsIt() throws Exception {
        Pausing pausing = pausingProxy();
        EmbeddedChannel client = proxy.client();
        send(client, "POST /x HTTP/1.1\r\nHost: app\r\ncontent-length: 4\r\n\r\nbody");
        HttpStream s = stream(client);
        assertEquals("r", pausing.routeSeen.orElseThrow().name(), "the filter saw the route the router will take");
        assertEquals("origin", s.info().upstreamClusterName(), "the cached route names the cluster before any attempt");
        assertEquals(HttpStream.State.OPEN, s.state());
        assertEquals(Router.State.IDLE, s.router().state(), "paused: nothing routed, nothing held on the cluster");
        assertTrue(proxy.upstreams.isEmpty());
        assertEquals("", written(client));

        pausing.callbacks.continueDecoding();
        assertEquals(Router.State.ADMITTED, s.router().state());
        assertEquals(1, proxy.upstreams.size());
        String request = proxy.upstreams.get(0).request();
        assertTrue(request.startsWith("POST /x HTTP/1.1") && request.endsWith("body"), "the held body went up after the head: " + request);
        pausing.callbacks.continueDecoding(); // a second resume does nothing
        assertEquals(1, proxy.upstreams.size());

        proxy.upstreams.get(0).respond(OK);
        assertTrue(written(client).startsWith("HTTP/1.1 200 OK"));
        assertEquals(HttpStream.State.DONE, s.state());
    }

    @Test
    void aClusterReplacedWhileTheChainWasPausedIsLookedUpAgain() throws Exception {
        Pausing pausing = pausingProxy();
        EmbeddedChannel client = proxy.client();
        send(client, GET);
        HttpStream s = stream(client);
        assertEquals("origin", s.info().upstreamClusterName(), "the cached route resolved the cluster");

        // A config update replaces the cluster (new endpoint) while the stream waits: the router takes the new one,
        // not the one the cached route resolved (closed with its config).
        proxy.clusters.update(List.of(EmbeddedProxy.cluster("origin", ClusterConfig.CircuitBreakers.DEFAULTS, B)));
        pausing.callbacks.continueDecoding();
        assertEquals(1, proxy.upstreams.size());
        assertEquals(B, proxy.upstreams.get(0).destination());
        proxy.upstreams.get(0).respond(OK);
        assertTrue(written(client).startsWith("HTTP/1.1 200 OK"));
    }

    @Test
    void aStreamThatEndedWhilePausedIsNeverRouted() throws Exception {
        Pausing pausing = pausingProxy();
        EmbeddedChannel client = proxy.client();
        send(client, GET);
        HttpStream s = stream(client);
        client.close();
        assertEquals(HttpStream.State.DONE, s.state());
        assertTrue(s.info().hasResponseFlag(ResponseFlag.DOWNSTREAM_CONNECTION_TERMINATION));

        pausing.callbacks.continueDecoding();
        assertTrue(proxy.upstreams.isEmpty(), "the client left during the pause: no attempt");
        assertEquals(Router.State.DONE, s.router().state());
    }
}
