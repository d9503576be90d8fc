package io.sourcemesh.proxy.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.ProxiedOrigin;
import java.io.IOException;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A cluster whose HTTP options are given only as Istio writes them (pilot/pkg/networking/core/cluster_builder.go,
 * clusterWrapper.build): typed_extension_protocol_options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"].
 * Its common_http_protocol_options are applied as Envoy's ClusterInfoImpl applies them
 * (source/common/upstream/upstream_impl.cc): max_requests_per_connection drains a connection after its last
 * request (upstream_cx_max_requests), idle_timeout closes a pooled one left idle (upstream_cx_idle_timeout).
 * The origin answers each request with the number of the connection it came on.
 */
class TypedProtocolOptionsEndToEndTest {
    @RegisterExtension
    final ProxiedOrigin proxied = new ProxiedOrigin();

    private String start(String upstreamProtocol, String common) throws IOException {
        return proxied.start(Duration.ofMillis(1500), "typed_extension_protocol_options: {envoy.extensions.upstreams.http.v3.HttpProtocolOptions: {"
                + "\"@type\": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions, "
                + upstreamProtocol + ", common_http_protocol_options: " + common + "}}");
    }

    @Test
    void maxRequestsPerConnectionAndIdleTimeoutFromTheTypedOptionsAlone() throws Exception {
        String url = start("explicit_http_config: {http_protocol_options: {}}", "{idle_timeout: 1s, max_requests_per_connection: 2}");
        assertEquals("conn-1", Curl.run(url + "/").body());
        assertEquals("conn-1", Curl.run(url + "/").body(), "the second request reuses the pooled connection");
        assertTrue(proxied.origin().awaitClosed(1, Duration.ofSeconds(5)), "its second request was its last: the proxy closes it");
        assertEquals(1, proxied.clusterCounter("upstream_cx_max_requests"));
        assertEquals(0, proxied.clusterCounter("upstream_cx_idle_timeout"), "closed for its requests, not for idling");
        assertEquals("conn-2", Curl.run(url + "/").body(), "the third request on a new connection");
        assertTrue(proxied.origin().awaitClosed(2, Duration.ofSeconds(10)), "left idle, the new connection is closed by the proxy, unasked");
        long idleFor = proxied.origin().millisSinceAnswered(2);
        assertTrue(idleFor >= 900, "closed after " + idleFor + " ms idle");
        assertEquals(1, proxied.clusterCounter("upstream_cx_idle_timeout"));
        assertEquals(2, proxied.clusterCounter("upstream_cx_total"));
    }

    /** Istio's passthrough clusters' shape (passthroughHttpProtocolOptions): the downstream's protocol, HTTP/1.x here. */
    @Test
    void useDownstreamProtocolConfigAppliesTheOptionsToo() throws Exception {
        String url = start("use_downstream_protocol_config: {http_protocol_options: {}, http2_protocol_options: {}}",
                "{max_requests_per_connection: 1}");
        Curl.Result first = Curl.run(url + "/");
        assertEquals(200, first.status(), first.err());
        assertEquals("conn-1", first.body());
        assertEquals("conn-2", Curl.run(url + "/").body(), "one request per connection");
        assertTrue(proxied.origin().awaitClosed(1, Duration.ofSeconds(5)));
        assertEquals(2, proxied.clusterCounter("upstream_cx_max_requests"));
    }
}
