package io.sourcemesh.proxy.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.HttpBootstrap;
import io.sourcemesh.proxy.testing.NumberedOrigin;
import java.io.IOException;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A cluster's common_http_protocol_options.idle_timeout, as Envoy's codec client idle timer
 * (CodecClient::onIdleTimeout, source/common/http/codec_client.cc): an upstream connection with no
 * stream for that long is counted in upstream_cx_idle_timeout and closed; one in use is not; 0
 * turns it off. The origin answers each request with the number of the connection it came on.
 */
class UpstreamIdleTimeoutTest {
    private Proxy proxy;
    private NumberedOrigin origin;

    @AfterEach
    void stop() throws IOException {
        if (proxy != null) {
            proxy.close();
        }
        if (origin != null) {
            origin.close();
        }
    }

    private String start(String idleTimeout) throws IOException {
        origin = NumberedOrigin.start(Duration.ofMillis(1500));
        String yaml = HttpBootstrap.toOrigin(origin.port())
                .clusterFields("common_http_protocol_options: {idle_timeout: " + idleTimeout + "}")
                .yaml();
        proxy = Proxy.start(BootstrapLoader.loadText(yaml), 1);
        return "http://127.0.0.1:" + proxy.listenerAddress("http").getPort();
    }

    private long idleTimeouts() {
        return proxy.stats().counters().getOrDefault("cluster.origin.upstream_cx_idle_timeout", 0L);
    }

    @Test
    void anIdlePooledConnectionIsClosedAfterTheIdleTimeoutAndReplaced() throws Exception {
        String url = start("1s");
        assertEquals("conn-1", Curl.run(url + "/").body());
        assertEquals("conn-1", Curl.run(url + "/").body(), "pooled while idle for less than the timeout");
        assertTrue(origin.awaitClosed(1, Duration.ofSeconds(10)), "the idle connection is closed by the proxy, unasked");
        long idleFor = origin.millisSinceAnswered(1);
        assertTrue(idleFor >= 900, "closed after " + idleFor + " ms idle");
        assertEquals(1, idleTimeouts());
        assertEquals("conn-2", Curl.run(url + "/").body(), "the next request on a new connection");
        assertEquals(2, proxy.stats().counters().get("cluster.origin.upstream_cx_total"));
    }

    @Test
    void aConnectionInUseIsNotCutAndTimesOutOnlyOnceIdle() throws Exception {
        String url = start("0.5s");
        Curl.Result slow = Curl.run(url + "/slow");
        assertEquals(200, slow.status(), slow.err());
        assertEquals("conn-1", slow.body(), "a response slower than the idle timeout is answered whole");
        assertEquals(0, idleTimeouts(), "a connection with a stream is not idle");
        assertEquals("conn-1", Curl.run(url + "/").body(), "and goes back to the pool");
        assertTrue(origin.awaitClosed(1, Duration.ofSeconds(10)), "then idles out");
        assertEquals(1, idleTimeouts());
    }

    @Test
    void zeroTurnsTheIdleTimeoutOff() throws Exception {
        String url = start("0s");
        assertEquals("conn-1", Curl.run(url + "/").body());
        assertFalse(origin.awaitClosed(1, Duration.ofMillis(1500)), "no idle timeout: the pooled connection stays");
        assertEquals("conn-1", Curl.run(url + "/").body());
        assertEquals(0, idleTimeouts());
    }
}
