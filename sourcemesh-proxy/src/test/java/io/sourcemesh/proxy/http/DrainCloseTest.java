package io.sourcemesh.proxy.http;

import static io.sourcemesh.proxy.http.EmbeddedProxy.send;
import static io.sourcemesh.proxy.http.EmbeddedProxy.written;
import static io.sourcemesh.proxy.testing.Configs.route;
import static io.sourcemesh.proxy.testing.Configs.routes;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.embedded.EmbeddedChannel;
import io.sourcemesh.proxy.config.ClusterConfig;
import io.sourcemesh.proxy.listener.DrainDecision;
import java.net.InetSocketAddress;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The connection manager asks its listener's drain decision at each request, as Envoy's asks drainClose: a DEFAULT
 * listener's (the proxy's) says Connection: close while the health check fails and keeps the connection alive again
 * once it passes, read anew per request of one keep-alive connection; a MODIFY_ONLY listener's never does, and is not
 * asked at all.
 */
class DrainCloseTest {
    private static final String GET = "GET /x HTTP/1.1\r\nHost: app\r\n\r\n";

    private static final InetSocketAddress ORIGIN = new InetSocketAddress("127.0.0.1", 8001);

    private EmbeddedProxy proxy;

    private EmbeddedProxy embedded(DrainDecision drain) {
        proxy = new EmbeddedProxy(routes(route("r", "/", EmbeddedProxy.forward("origin", Duration.ofSeconds(15), null))), drain,
                EmbeddedProxy.cluster("origin", ClusterConfig.CircuitBreakers.DEFAULTS, ORIGIN));
        return proxy;
    }

    /** One request on {@code client}, answered by the upstream (a pooled connection, or a new one): its response. */
    private String exchange(EmbeddedChannel client) {
        send(client, GET);
        EmbeddedProxy.Upstream up = proxy.upstreams.get(proxy.upstreams.size() - 1);
        up.request();
        up.respond("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
        client.runPendingTasks();
        String response = written(client);
        assertTrue(response.startsWith("HTTP/1.1 200"), response);
        return response.toLowerCase();
    }

    @Test
    void aDefaultListenersResponsesCloseWhileTheHealthCheckFailsAskedPerRequest() throws Exception {
        DrainDecision proxyDecision = new DrainDecision();
        try (EmbeddedProxy proxy = embedded(proxyDecision.forListener(false))) {
            assertNotNull(proxy.filter.drain, "a DEFAULT listener's manager asks at each request");
            EmbeddedChannel client = proxy.client();
            assertFalse(exchange(client).contains("connection: close"));
            assertFalse(exchange(client).contains("connection: close"), "keep-alive while the health check passes");

            proxyDecision.healthCheckFailed(true);
            assertTrue(exchange(client).contains("connection: close"), "the same connection's next response closes it");
            client.advanceTimeBy(HttpConnection.DELAYED_CLOSE_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS);
            client.runScheduledPendingTasks();
            assertFalse(client.isOpen(), "closed after that response (and the delayed close)");

            proxyDecision.healthCheckFailed(false);
            EmbeddedChannel fresh = proxy.client();
            assertFalse(exchange(fresh).contains("connection: close"), "/healthcheck/ok ends it");
            assertTrue(fresh.isOpen());
        }
    }

    @Test
    void aModifyOnlyListenersResponsesNeverCloseForTheHealthCheck() throws Exception {
        DrainDecision proxyDecision = new DrainDecision();
        try (EmbeddedProxy proxy = embedded(proxyDecision.forListener(true))) {
            assertNull(proxy.filter.drain, "known once for the listener: nothing asked per request");
            EmbeddedChannel client = proxy.client();
            proxyDecision.healthCheckFailed(true);
            for (int i = 0; i < 3; i++) {
                assertFalse(exchange(client).contains("connection: close"));
            }
            assertTrue(client.isOpen());
        }
    }

    @Test
    void outsideAProxyTheManagerNeverDrains() throws Exception {
        try (EmbeddedProxy proxy = embedded(DrainDecision.NEVER)) {
            assertNull(proxy.filter.drain);
            EmbeddedChannel client = proxy.client();
            assertFalse(exchange(client).contains("connection: close"));
            assertTrue(client.isOpen());
        }
    }
}
