package io.sourcemesh.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.HttpBootstrap;
import io.sourcemesh.proxy.testing.LogFiles;
import io.sourcemesh.proxy.testing.RawOrigin;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A route's retry_policy.per_try_timeout as Envoy's router applies it, with real curl and a raw upstream that stalls
 * (reads the request, never answers) when told to: each attempt gets the timer once the request went up
 * (UpstreamRequest::setupPerTryTimeout); on expiry the attempt is reset and retried as a local reset when retry_on
 * says so (RetryStateImpl::wouldRetryFromReset: reset, 5xx, gateway-error), else the client gets 504 UT "upstream
 * request timeout" with details upstream_per_try_timeout (router.cc onPerTryTimeoutCommon); the route timeout still
 * bounds every attempt together, and a per-try timeout not below it is none (FilterUtility::finalTimeout).
 */
class PerTryTimeoutEndToEndTest {
    private static final String OK = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    /** Nothing written: the attempt waits until a timer ends it. */
    private static final String STALL = "";
    private static final String FORMAT = "%RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %UPSTREAM_REQUEST_ATTEMPT_COUNT%";

    @TempDir
    Path dir;
    private RawOrigin origin;
    private Proxy proxy;
    private Path log;

    /** A proxy whose one route to the origin has these route fields (YAML flow, e.g. "timeout: 5s, retry_policy: {...}"). */
    private String start(String routeFields, String... replies) throws Exception {
        return startWith("", routeFields, replies);
    }

    private String startWith(String hcmFields, String routeFields, String... replies) throws Exception {
        origin = RawOrigin.replyingInTurn(replies);
        log = dir.resolve("access.log");
        proxy = Proxy.start(BootstrapLoader.loadText(HttpBootstrap.toOrigin(origin.address().getPort()).hcmFields(hcmFields)
                .routes("- match: {prefix: /}\n  route: {cluster: origin, " + routeFields + "}\n")
                .accessLog(log, FORMAT).yaml()), 1);
        return "http://127.0.0.1:" + proxy.listenerAddress("http").getPort() + "/";
    }

    @AfterEach
    void stop() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        if (origin != null) {
            origin.close();
        }
    }

    private long counter(String name) {
        return proxy.stats().counters().getOrDefault(name, 0L);
    }

    @Test
    void aStalledFirstAttemptIsRetriedAndTheSecondAnswers() throws Exception {
        String url = start("timeout: 10s, retry_policy: {retry_on: 5xx, num_retries: 2, per_try_timeout: 0.3s}", STALL, OK);
        Curl.Result r = Curl.run("--max-time", "10", url);
        assertEquals(200, r.status(), r.out() + r.err());
        assertEquals("ok", r.body());
        assertEquals("200 - via_upstream 2", LogFiles.awaitLine(log), "the second attempt answered");
        assertEquals(2, origin.requests().size(), "the upstream saw both attempts");
        assertEquals(1, counter("cluster.origin.upstream_rq_per_try_timeout"));
        assertEquals(1, counter("cluster.origin.upstream_rq_retry"));
        assertEquals(1, counter("cluster.origin.upstream_rq_200"));
    }

    @Test
    void anUpstreamThatAlwaysStallsIs504UtAfterEveryAttempt() throws Exception {
        String url = start("timeout: 10s, retry_policy: {retry_on: reset, num_retries: 2, per_try_timeout: 0.2s}", STALL);
        long start = System.nanoTime();
        Curl.Result r = Curl.run("--max-time", "10", url);
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertEquals(504, r.status(), r.out() + r.err());
        assertEquals("upstream request timeout", r.body());
        // Envoy's flags in its order: the timeout, and the retries that ran out (maybeRetryReset's NoRetryLimitExceeded)
        assertEquals("504 UT,URX upstream_per_try_timeout 3", LogFiles.awaitLine(log));
        assertEquals(3, origin.requests().size(), "one try and two retries");
        assertTrue(millis >= 600, "three attempts of 200 ms each: " + millis + " ms");
        assertEquals(3, counter("cluster.origin.upstream_rq_per_try_timeout"));
        assertEquals(0, counter("cluster.origin.upstream_rq_timeout"), "the route timeout never ran out");
        assertEquals(1, counter("cluster.origin.upstream_rq_504"), "chargeUpstreamAbort: the one answer the client got");
    }

    /** Istio's default retry_on (connect-failure, refused-stream, ...) does not cover a timeout: one attempt, then 504. */
    @Test
    void aPolicyThatDoesNotRetryResetsAnswers504AfterOneAttempt() throws Exception {
        String url = start("timeout: 10s, retry_policy: {retry_on: \"connect-failure,refused-stream,retriable-status-codes\", "
                + "retriable_status_codes: [503], num_retries: 2, per_try_timeout: 0.2s}", STALL);
        Curl.Result r = Curl.run("--max-time", "10", url);
        assertEquals(504, r.status(), r.out() + r.err());
        assertEquals("504 UT upstream_per_try_timeout 1", LogFiles.awaitLine(log));
        assertEquals(1, origin.requests().size());
        assertEquals(0, counter("cluster.origin.upstream_rq_retry"));
    }

    /** FilterUtility::finalTimeout: a per-try timeout not below the route timeout is none; the route timeout answers. */
    @Test
    void aPerTryTimeoutNotBelowTheRouteTimeoutIsNone() throws Exception {
        String url = start("timeout: 0.3s, retry_policy: {retry_on: 5xx, num_retries: 2, per_try_timeout: 0.3s}", STALL);
        Curl.Result r = Curl.run("--max-time", "10", url);
        assertEquals(504, r.status(), r.out() + r.err());
        assertEquals("upstream request timeout", r.body());
        assertEquals("504 UT upstream_response_timeout 1", LogFiles.awaitLine(log));
        assertEquals(1, origin.requests().size(), "no retry after the route timeout");
        assertEquals(0, counter("cluster.origin.upstream_rq_per_try_timeout"));
        assertEquals(1, counter("cluster.origin.upstream_rq_timeout"));
    }

    /**
     * The route timeout is Envoy's global timeout: armed once, it bounds the attempts together (a retry does not start
     * it again), so 0.5 s with per-try timeouts of 0.2 s ends the stream during the third attempt (the second, when a
     * connect is slow), not after six per-try timeouts.
     */
    @Test
    void theRouteTimeoutBoundsEveryAttemptTogether() throws Exception {
        String url = start("timeout: 0.5s, retry_policy: {retry_on: 5xx, num_retries: 5, per_try_timeout: 0.2s}", STALL);
        Curl.Result r = Curl.run("--max-time", "10", url);
        assertEquals(504, r.status(), r.out() + r.err());
        String line = LogFiles.awaitLine(log);
        assertTrue(line.equals("504 UT upstream_response_timeout 3") || line.equals("504 UT upstream_response_timeout 2"), line);
        int attempts = Integer.parseInt(line.substring(line.lastIndexOf(' ') + 1));
        assertEquals(attempts - 1, counter("cluster.origin.upstream_rq_per_try_timeout"), "all but the last ran out of their own");
        assertEquals(1, counter("cluster.origin.upstream_rq_timeout"), "the route timeout ended it, not the sixth per-try one");
    }

    /** The client (curl on 127.0.0.1, no x-forwarded-for) is internal when 127.0.0.1/32 is an internal address. */
    private static String internalIf(String cidr) {
        return "use_remote_address: true\ninternal_address_config: {cidr_ranges: [{address_prefix: " + cidr + ", prefix_len: 32}]}";
    }

    /**
     * FilterUtility::finalTimeout: an internal request's x-envoy-upstream-rq-per-try-timeout-ms is each attempt's timeout
     * (with or without a retry policy), its x-envoy-upstream-rq-timeout-ms the route's; both removed before the upstream.
     */
    @Test
    void anInternalRequestsTimeoutHeadersAreTakenAndRemoved() throws Exception {
        String url = startWith(internalIf("127.0.0.1"), "timeout: 10s", STALL);
        Curl.Result r = Curl.run("--max-time", "10", "-H", "x-envoy-upstream-rq-per-try-timeout-ms: 200", url);
        assertEquals(504, r.status(), r.out() + r.err());
        assertEquals("504 UT upstream_per_try_timeout 1", LogFiles.awaitLine(log), "no retry policy: no retry");
        assertTrue(origin.requests().get(0).toLowerCase().indexOf("x-envoy-upstream-rq") < 0, origin.requests().get(0));
        Curl.Result r2 = Curl.run("--max-time", "10", "-H", "x-envoy-upstream-rq-timeout-ms: 300", "-H",
                "x-envoy-upstream-rq-per-try-timeout-ms: 300", url);
        assertEquals(504, r2.status(), r2.out() + r2.err());
        assertEquals("504 UT upstream_response_timeout 1", LogFiles.awaitLines(log, 2).get(1),
                "the header's route timeout, the per-try one not below it is none");
        assertTrue(origin.requests().get(1).toLowerCase().indexOf("x-envoy-upstream-rq") < 0, origin.requests().get(1));
    }

    /** An external request's timeout headers are removed by the connection manager before the router could take them. */
    @Test
    void anExternalRequestsTimeoutHeadersAreNotTaken() throws Exception {
        String url = startWith(internalIf("10.0.0.1"), "timeout: 0.5s", STALL);
        Curl.Result r = Curl.run("--max-time", "10", "-H", "x-envoy-upstream-rq-per-try-timeout-ms: 100", url);
        assertEquals(504, r.status(), r.out() + r.err());
        assertEquals("504 UT upstream_response_timeout 1", LogFiles.awaitLine(log));
        assertEquals(500, expectedTimeout(origin.requests().get(0)), "the route's time, not the header's 100");
    }

    /**
     * Envoy's FilterUtility::setTimeoutHeaders, run by every router without suppress_envoy_headers: the upstream is told
     * x-envoy-expected-rq-timeout-ms, the route timeout (none with 0s), or the per-try timeout below it.
     */
    @Test
    void theUpstreamIsToldItsTimeout() throws Exception {
        String url = start("timeout: 3s", OK);
        assertEquals(200, Curl.run("--max-time", "10", url).status());
        assertEquals(3000, expectedTimeout(origin.requests().get(0)));
        stop();
        url = start("timeout: 2.5s, retry_policy: {retry_on: 5xx, per_try_timeout: 0.25s}", OK);
        assertEquals(200, Curl.run("--max-time", "10", url).status());
        assertEquals(250, expectedTimeout(origin.requests().get(0)));
        stop();
        url = start("timeout: 0s", OK);
        assertEquals(200, Curl.run("--max-time", "10", url).status());
        assertEquals(-1, expectedTimeout(origin.requests().get(0)), "no timeout: no header");
    }

    /**
     * A retry tells the upstream what is left (Envoy's doRetry runs setTimeoutHeaders with the time since the request
     * ended): a 0.4 s per-try timeout under a 0.6 s route timeout is 400 ms for the first attempt, at most the 200 ms
     * left for the second.
     */
    @Test
    void aRetryIsToldTheTimeLeft() throws Exception {
        String url = start("timeout: 0.6s, retry_policy: {retry_on: reset, num_retries: 1, per_try_timeout: 0.4s}", STALL);
        Curl.Result r = Curl.run("--max-time", "10", url);
        assertEquals(504, r.status(), r.out() + r.err());
        assertEquals("504 UT upstream_response_timeout 2", LogFiles.awaitLine(log));
        assertEquals(400, expectedTimeout(origin.requests().get(0)));
        long second = expectedTimeout(origin.requests().get(1));
        assertTrue(second >= 50 && second <= 200, "what is left of the route's 600 ms after the first 400: " + second);
    }

    /** The request's x-envoy-expected-rq-timeout-ms, -1 when it has none. */
    private static long expectedTimeout(String request) {
        for (String line : request.split("\r\n")) {
            if (line.toLowerCase().startsWith("x-envoy-expected-rq-timeout-ms:")) {
                return Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
            }
        }
        return -1;
    }
}
