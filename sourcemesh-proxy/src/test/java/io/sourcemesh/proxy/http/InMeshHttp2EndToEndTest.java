package io.sourcemesh.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.H2Origin;
import io.sourcemesh.proxy.testing.HttpBootstrap;
import io.sourcemesh.proxy.testing.LogFiles;
import io.sourcemesh.proxy.testing.TestCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTP/2 between two proxies over TLS as a mesh's sidecars speak it: the client side's HTTP/2 cluster offers Istio's
 * in-mesh ALPN, the server side's codec AUTO chooses HTTP/2 from the negotiated "h2" (util.ALPNInMeshH2WithMxc) or,
 * when no protocol was agreed (the in-mesh ALPN without h2), from the connection preface, as Envoy's
 * determineNextProtocol — a gRPC call through both keeps its trailers.
 */
class InMeshHttp2EndToEndTest {
    private static final String FORMAT = "%PROTOCOL% %UPSTREAM_PROTOCOL% %RESPONSE_CODE% %RESPONSE_FLAGS%";

    @TempDir
    Path dir;
    private H2Origin origin;
    private Proxy server;
    private Proxy client;

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : new AutoCloseable[] {client, server, origin}) {
            if (c != null) {
                c.close();
            }
        }
    }

    private static String h2Cluster(String transportSocket) {
        return """
                typed_extension_protocol_options:
                  envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
                    "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
                    explicit_http_config:
                      http2_protocol_options: {}
                """ + transportSocket;
    }

    private String run(String clientAlpn) throws Exception {
        origin = H2Origin.start(Integer.MAX_VALUE);
        TestCertificates.Pem pem = TestCertificates.selfSigned("server-sidecar", "localhost");
        Path crt = Files.writeString(dir.resolve("server.crt"), pem.certificate());
        Path key = Files.writeString(dir.resolve("server.key"), pem.privateKey());
        Path serverLog = dir.resolve("server.log");
        server = Proxy.start(BootstrapLoader.loadText(HttpBootstrap.toOrigin(origin.port()).accessLog(serverLog, FORMAT)
                .clusterFields(h2Cluster(""))
                .transportSocket("""
                        name: envoy.transport_sockets.tls
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
                          common_tls_context:
                            alpn_protocols: [h2, http/1.1]
                            tls_certificates: [{certificate_chain: {filename: "%s"}, private_key: {filename: "%s"}}]
                        """.formatted(crt, key)).yaml()), 1);
        Path clientLog = dir.resolve("client.log");
        client = Proxy.start(BootstrapLoader.loadText(HttpBootstrap.toOrigin(server.listenerAddress("http").getPort())
                .accessLog(clientLog, FORMAT)
                .hcmFields("http_protocol_options: {enable_trailers: true}")
                .clusterFields(h2Cluster("""
                        transport_socket:
                          name: envoy.transport_sockets.tls
                          typed_config:
                            "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
                            common_tls_context: {alpn_protocols: %s}
                        """.formatted(clientAlpn))).yaml()), 1);
        Path message = Files.write(dir.resolve("message.bin"), new byte[] {0, 0, 0, 0, 3, 'a', 'b', 'c'});
        Curl.Result r = Curl.run("-s", "-D", "-", "-H", "content-type: application/grpc", "-H", "te: trailers",
                "--data-binary", "@" + message, "http://127.0.0.1:" + client.listenerAddress("http").getPort() + "/grpc");
        assertEquals(200, r.status(), r.err());
        assertTrue(r.out().contains("grpc-status: 0"), "the origin's trailers came back through both proxies: " + r.out());
        assertEquals("HTTP/1.1 HTTP/2 200 -", LogFiles.awaitLine(clientLog));
        return LogFiles.awaitLine(serverLog);
    }

    @Test
    void theInMeshAlpnWithH2NegotiatesHttp2() throws Exception {
        assertEquals("HTTP/2 HTTP/2 200 -", run("[istio-peer-exchange, istio, h2]"));
    }

    @Test
    void withoutAnAgreedProtocolThePrefaceChoosesHttp2() throws Exception {
        assertEquals("HTTP/2 HTTP/2 200 -", run("[istio-peer-exchange, istio]"));
    }
}
