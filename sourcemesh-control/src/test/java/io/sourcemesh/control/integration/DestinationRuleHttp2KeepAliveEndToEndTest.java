package io.sourcemesh.control.integration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.util.JsonFormat;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.model.MeshModel;
import io.sourcemesh.control.translate.EnvoyTypes;
import io.sourcemesh.control.translate.ProxyResources;
import io.sourcemesh.control.translate.Translator;
import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.HttpBootstrap;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A DestinationRule's connectionPool.http.http2KeepAlive as the control plane translates it for sleep's grpc cluster
 * (Istio's applyConnectionPool: the HTTP/2 options' connection_keepalive), the cluster's protocol options put into a
 * proxy in front of a real socket on loopback that answers no PING: the proxy closes the connection at the timeout,
 * and the request on it ends then rather than waiting on a silent upstream.
 */
class DestinationRuleHttp2KeepAliveEndToEndTest {
    private static final String GRPC = "outbound|9000||echo.default.svc.cluster.local";

    @Test
    void anUpstreamThatAnswersNoPingIsClosedAtTheRulesTimeout() throws Exception {
        Cluster c = translate("{connectionPool: {http: {http2KeepAlive: {interval: 0.2s, timeout: 0.3s}}}}");
        String options = JsonFormat.printer().usingTypeRegistry(EnvoyTypes.registry()).preservingProtoFieldNames()
                .omittingInsignificantWhitespace().print(c.getTypedExtensionProtocolOptionsOrThrow(
                        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"));
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Future<Integer> received = pool.submit(() -> {
                try (Socket s = silent.accept(); InputStream in = s.getInputStream()) {
                    s.getOutputStream().write(new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0}); // its SETTINGS, then silence
                    s.getOutputStream().flush();
                    return in.readAllBytes().length; // until the proxy closes
                }
            });
            try (Proxy proxy = Proxy.start(BootstrapLoader.loadText(HttpBootstrap.toOrigin(silent.getLocalPort())
                    .clusterFields("typed_extension_protocol_options: {\"envoy.extensions.upstreams.http.v3.HttpProtocolOptions\": "
                            + options + "}").yaml()), 1)) {
                long start = System.nanoTime();
                Curl.Result r = Curl.run("http://127.0.0.1:" + proxy.listenerAddress("http").getPort() + "/never");
                long took = System.nanoTime() - start;
                assertEquals(503, r.status(), r.toString());
                assertTrue(took >= 400_000_000L && took < 5_000_000_000L, "ended at the keepalive timeout: " + took);
                assertTrue(received.get(5, TimeUnit.SECONDS) > 24, "the preface, then frames and a PING, then the close");
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /** Sleep's cluster for the grpc port of Service echo (on the httpbin pods), a DestinationRule of {@code policy}. */
    private static Cluster translate(String policy) {
        List<ObjectNode> objects = new ArrayList<>(Fixtures.seed());
        objects.add(Fixtures.parseYaml("""
                apiVersion: v1
                kind: Service
                metadata: {name: echo, namespace: default}
                spec:
                  clusterIP: 127.96.0.50
                  ports: [{name: grpc-echo, port: 9000, targetPort: 9000}]
                  selector: {app: httpbin}
                """));
        objects.add(Fixtures.parseYaml("""
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: echo, namespace: default}
                spec:
                  host: echo
                  trafficPolicy: %s
                """.formatted(policy)));
        MeshModel model = MeshModel.of(objects);
        ProxyResources r = Translator.create().translate(model, Fixtures.sidecar(model, "sleep"));
        return r.cluster(GRPC).orElseThrow(() -> new AssertionError(GRPC + " left out: " + r.warnings()));
    }
}
