package io.sourcemesh.proxy.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.ProxiedOrigin;
import java.io.IOException;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A cluster's common_http_protocol_options.idle_timeout, as Envoy's codec client idle timer
 * (CodecClient::onIdleTimeout, source/common/http/codec_client.cc): an upstream connection with no
 * stream for that long is counted in upstream_cx_idle_timeout and closed; one in use is not; 0
 * turns it off. The origin answers each request with the number of the connection it came on.
 */
class UpstreamIdleTimeoutTest {
    @RegisterExtension
    final ProxiedOrigin proxied = new ProxiedOrigin();

    private String start(String idleTimeout) throws IOException {
        return proxied.start(Duration.ofMillis(1500), "common_http_protocol_options: {idle_timeout: " + idleTimeout + "}");
    }

    private long idleTimeouts() {
        return proxied.clusterCounter("upstream_cx_idle_timeout");
    }

    @Test
    void anIdlePooledConnectionIsClosedAfterTheIdleTimeoutAndReplaced() throws Exception {
        String url = start("1s");
        assertEquals("conn-1", Curl.run(url + "/").body());
        assertEquals("conn-1", Curl.run(url + "/").body(), "pooled while idle for less than the timeout");
        assertTrue(proxied.origin().awaitClosed(1, Duration.ofSeconds(10)), "the idle connection is closed by the proxy, unasked");
        long idleFor = proxied.origin().millisSinceAnswered(1);
        assertTrue(idleFor >= 900, "closed after " + idleFor + " ms idle");
        assertEquals(1, idleTimeouts());
        assertEquals("conn-2", Curl.run(url + "/").body(), "the next request on a new connection");
        assertEquals(2, proxied.clusterCounter("upstream_cx_total"));
    }

    @Test
    void aConnectionInUseIsNotCutAndTimesOutOnlyOnceIdle() throws Exception {
        String url = start("0.5s");
        Curl.Result slow = Curl.run(url + "/slow");
        assertEquals(200, slow.status(), slow.err());
        assertEquals("conn-1", slow.body(), "a response slower than the idle timeout is answered whole");
        assertEquals(0, idleTimeouts(), "a connection with a stream is not idle");
        assertEquals("conn-1", Curl.run(url + "/").body(), "and goes back to the pool");
        assertTrue(proxied.origin().awaitClosed(1, Duration.ofSeconds(10)), "then idles out");
        assertEquals(1, idleTimeouts());
    }

    @Test
    void zeroTurnsTheIdleTimeoutOff() throws Exception {
        String url = start("0s");
        assertEquals("conn-1", Curl.run(url + "/").body());
        assertFalse(proxied.origin().awaitClosed(1, Duration.ofMillis(1500)), "no idle timeout: the pooled connection stays");
        assertEquals("conn-1", Curl.run(url + "/").body());
        assertEquals(0, idleTimeouts());
    }
}
