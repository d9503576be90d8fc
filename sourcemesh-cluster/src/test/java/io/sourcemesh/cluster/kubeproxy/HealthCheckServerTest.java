package io.sourcemesh.cluster.kubeproxy;

import static org.junit.jupiter.api.Assertions.*;

import io.sourcemesh.l4.transport.Transport;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class HealthCheckServerTest {
    final Transport transport = Transport.create(1);

    @AfterEach
    void close() {
        transport.close();
    }

    @Test
    void answersLikeKubeProxyWithTheLiveLocalEndpointCount() throws Exception {
        AtomicInteger local = new AtomicInteger(1);
        try (HealthCheckServer server = HealthCheckServer.start(transport, new InetSocketAddress("127.0.0.1", 0), "istio-system",
                "istio-ingressgateway", local::get)) {
            HttpClient http = HttpClient.newHttpClient();
            URI uri = URI.create("http://127.0.0.1:" + server.address().getPort() + "/healthz");
            HttpResponse<String> ok = http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, ok.statusCode());
            assertEquals("application/json", ok.headers().firstValue("content-type").orElse(""));
            assertEquals("nosniff", ok.headers().firstValue("x-content-type-options").orElse(""));
            assertEquals("""
                    {
                    \t"service": {
                    \t\t"namespace": "istio-system",
                    \t\t"name": "istio-ingressgateway"
                    \t},
                    \t"localEndpoints": 1,
                    \t"serviceProxyHealthy": true
                    }""", ok.body());

            local.set(0);
            HttpResponse<String> down = http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(503, down.statusCode());
            assertTrue(down.body().contains("\"localEndpoints\": 0"), down.body());
        }
    }
}
