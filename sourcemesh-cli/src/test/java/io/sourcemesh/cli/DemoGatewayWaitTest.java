package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The demo's waits for the gateway ask from the client's own loopback address in the demo's process: no curl
 * process per try (the client here names a curl that does not exist, so one started would fail the wait).
 */
class DemoGatewayWaitTest {
    private static final String CLIENT = "127.0.0.7";

    @Test
    void theWaitAsksThreeTimesFromTheClientsAddressWithoutACurl() throws Exception {
        List<String> seenFrom = new CopyOnWriteArrayList<>();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/ip", x -> {
            String from = x.getRemoteAddress().getAddress().getHostAddress();
            seenFrom.add(from);
            // chunked, as a proxy may answer: the body is read through its framing
            byte[] body = ("{\n  \"origin\": \"" + from + "\"\n}\n").getBytes(StandardCharsets.UTF_8);
            x.sendResponseHeaders(200, 0);
            x.getResponseBody().write(body);
            x.close();
        });
        server.start();
        try {
            var client = new DemoCommand.ExternalClient(CLIENT, List.of("/nonexistent/curl"), "a client on loopback", true);
            DemoCommand.awaitUrl(client, "http://127.0.0.1:" + server.getAddress().getPort() + "/ip",
                    body -> body.contains("\"origin\": \"" + CLIENT + "\""));
            assertEquals(List.of(CLIENT, CLIENT, CLIENT), seenFrom, "three answers in a row, each asked from the client's address");
        } finally {
            server.stop(0);
        }
    }
}
