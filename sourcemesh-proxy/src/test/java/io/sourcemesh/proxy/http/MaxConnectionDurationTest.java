package io.sourcemesh.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.ProxiedOrigin;
import java.io.IOException;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A cluster's common_http_protocol_options.max_connection_duration, as Envoy's connection pool
 * (ActiveClient::onConnectionDurationTimeout, source/common/conn_pool/conn_pool_base.cc): once an
 * upstream connection is that old it drains — counted in upstream_cx_max_duration_reached, closed
 * at once when idle, else after the response in flight, and given no new request. The origin
 * answers each request with the number of the connection it came on.
 */
class MaxConnectionDurationTest {
    @RegisterExtension
    final ProxiedOrigin proxied = new ProxiedOrigin();

    private String start(String maxConnectionDuration) throws IOException {
        return proxied.start(Duration.ofMillis(1000), "common_http_protocol_options: {max_connection_duration: " + maxConnectionDuration + "}");
    }

    private long maxDurationReached() {
        return proxied.clusterCounter("upstream_cx_max_duration_reached");
    }

    @Test
    void anIdlePooledConnectionIsClosedAtItsMaximumDurationAndReplaced() throws Exception {
        String url = start("2s"); // room for two curls on a loaded machine before it
        assertEquals("conn-1", Curl.run(url + "/").body());
        assertEquals("conn-1", Curl.run(url + "/").body(), "pooled while younger than the duration");
        assertTrue(proxied.origin().awaitClosed(1, Duration.ofSeconds(10)), "the idle connection is closed by the proxy, unasked");
        long lived = proxied.origin().millisSinceAccepted(1);
        assertTrue(lived >= 1900, "closed after " + lived + " ms");
        assertEquals(1, maxDurationReached());
        assertEquals("conn-2", Curl.run(url + "/").body(), "the next request on a new connection");
        assertEquals(2, proxied.clusterCounter("upstream_cx_total"));
    }

    @Test
    void aRequestInFlightFinishesThenItsConnectionIsClosedNotPooled() throws Exception {
        String url = start("0.3s");
        Curl.Result slow = Curl.run(url + "/slow");
        assertEquals(200, slow.status(), slow.err());
        assertEquals("conn-1", slow.body(), "answered whole on the connection that outlived its duration");
        assertEquals(1, maxDurationReached());
        assertTrue(proxied.origin().awaitClosed(1, Duration.ofSeconds(10)), "closed once its response was done");
        assertEquals("conn-2", Curl.run(url + "/").body(), "a drained connection takes no new request");
        assertEquals(1, maxDurationReached(), "the new connection is younger than its duration");
    }
}
