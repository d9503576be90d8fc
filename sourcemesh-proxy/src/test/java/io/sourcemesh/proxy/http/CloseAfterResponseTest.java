package io.sourcemesh.proxy.http;

import static io.sourcemesh.proxy.http.EmbeddedProxy.send;
import static io.sourcemesh.proxy.testing.Configs.route;
import static io.sourcemesh.proxy.testing.Configs.routes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.sourcemesh.proxy.config.ClusterConfig;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A response that ends its connection ({@code Connection: close} from the client, a local reply that closes) is
 * written as the response's own writes and the connection closes when the last completes (the client's own
 * close) or after the delayed close (one it did not ask for): no empty write after it to hang the close on.
 */
class CloseAfterResponseTest {
    private static final InetSocketAddress A = new InetSocketAddress("127.0.0.1", 8001);
    private static final String OK = "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello";

    private static EmbeddedProxy embedded() {
        return new EmbeddedProxy(routes(route("r", "/", EmbeddedProxy.forward("origin", Duration.ofSeconds(15), null))),
                EmbeddedProxy.cluster("origin", ClusterConfig.CircuitBreakers.DEFAULTS, A));
    }

    /** The size of each write the client's connection was given, and their bytes. */
    private static List<Integer> writes(EmbeddedChannel client, StringBuilder text) {
        List<Integer> sizes = new ArrayList<>();
        Object o;
        while ((o = client.readOutbound()) != null) {
            ByteBuf b = (ByteBuf) o;
            sizes.add(b.readableBytes());
            text.append(b.toString(StandardCharsets.ISO_8859_1));
            b.release();
        }
        return sizes;
    }

    private static void closesAfterItsResponse(String request, String expectedStart) throws Exception {
        try (EmbeddedProxy proxy = embedded()) {
            EmbeddedChannel client = proxy.client();
            send(client, request);
            assertEquals(1, proxy.upstreams.size());
            proxy.upstreams.get(0).request();
            proxy.upstreams.get(0).respond(OK);
            client.runPendingTasks();
            StringBuilder text = new StringBuilder();
            List<Integer> sizes = writes(client, text);
            assertTrue(text.toString().startsWith(expectedStart), text::toString);
            assertTrue(text.toString().endsWith("\r\n\r\nhello"), text::toString);
            assertFalse(sizes.contains(0), "an empty write after the response: " + sizes);
            assertEquals(1, sizes.size(), "the response in one write, head and body: " + sizes);
            assertFalse(client.isOpen(), "closed after the response");
        }
    }

    @Test
    void aClientsConnectionCloseGetsTheResponseThenTheClose() throws Exception {
        closesAfterItsResponse("GET /x HTTP/1.1\r\nHost: app\r\nConnection: close\r\n\r\n", "HTTP/1.1 200 OK");
    }

    @Test
    void aLocalReplyThatClosesIsItsOwnWritesThenTheClose() throws Exception {
        try (EmbeddedProxy proxy = embedded()) {
            EmbeddedChannel client = proxy.client();
            send(client, "GET /x HTTP/1.0\r\nHost: app\r\n\r\n"); // refused as Envoy does by default: 426, then the close
            client.runPendingTasks();
            assertEquals(0, proxy.upstreams.size());
            StringBuilder text = new StringBuilder();
            List<Integer> sizes = writes(client, text);
            assertTrue(text.toString().startsWith("HTTP/1.1 426 Upgrade Required"), text::toString);
            assertFalse(sizes.contains(0), "an empty write after the response: " + sizes);
            // A close the client did not ask for lingers (Envoy's delayed close), then comes without another write.
            assertTrue(client.isOpen(), "lingers for what the client may still send");
            client.advanceTimeBy(HttpConnection.DELAYED_CLOSE_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS);
            client.runScheduledPendingTasks();
            assertFalse(client.isOpen(), "closed after the delayed close");
            assertEquals(0, writes(client, new StringBuilder()).size());
        }
    }

    /** The client closing first ends the linger: its timer goes with the connection, not a second later. */
    @Test
    void aClientThatClosesDuringTheLingerTakesTheDelayedCloseWithIt() throws Exception {
        try (EmbeddedProxy proxy = embedded()) {
            EmbeddedChannel client = proxy.client();
            send(client, "GET /x HTTP/1.0\r\nHost: app\r\n\r\n");
            client.runPendingTasks();
            writes(client, new StringBuilder());
            assertTrue(client.isOpen(), "lingering");
            assertTrue(client.runScheduledPendingTasks() > 0, "the delayed close is scheduled");
            // The channel's own close (EmbeddedChannel.close() would also cancel every scheduled task itself).
            client.unsafe().close(client.voidPromise());
            client.runPendingTasks();
            assertFalse(client.isOpen());
            assertEquals(-1, client.runScheduledPendingTasks(), "no timer left to hold the closed connection");
        }
    }

    @Test
    void aKeepAliveConnectionStaysOpen() throws Exception {
        try (EmbeddedProxy proxy = embedded()) {
            EmbeddedChannel client = proxy.client();
            send(client, "GET /x HTTP/1.1\r\nHost: app\r\n\r\n");
            proxy.upstreams.get(0).request();
            proxy.upstreams.get(0).respond(OK);
            client.runPendingTasks();
            StringBuilder text = new StringBuilder();
            writes(client, text);
            assertTrue(text.toString().endsWith("hello"), text::toString);
            assertTrue(client.isOpen());
        }
    }
}
