package io.sourcemesh.proxy.config;

import static io.sourcemesh.proxy.config.Bootstraps.rejects;
import static io.sourcemesh.proxy.config.ClusterTranslationTest.cluster;
import static io.sourcemesh.proxy.config.ClusterTranslationTest.clusters;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.Any;
import com.google.protobuf.UInt32Value;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Http1ProtocolOptions;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * A cluster's typed_extension_protocol_options, as Envoy reads them: the HttpProtocolOptions under
 * envoy.extensions.upstreams.http.v3.HttpProtocolOptions (source/extensions/upstreams/http/config.cc,
 * api/envoy/extensions/upstreams/http/v3/http_protocol_options.proto) replace the deprecated cluster
 * fields (ClusterInfoImpl's createOptions, source/common/upstream/upstream_impl.cc).
 */
class ClusterHttpOptionsTest {

    static final String KEY = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";
    static final String TYPE = "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions";
    static final String AT = "clusters[0].typed_extension_protocol_options[" + KEY + "]";

    /** A cluster item whose typed HttpProtocolOptions hold {@code fields}. */
    static String typed(String fields) {
        return "- name: c\n  typed_extension_protocol_options:\n    " + KEY + ":\n      \"@type\": " + TYPE + "\n"
                + fields.indent(6);
    }

    static String explicitHttp1(String common) {
        return typed("explicit_http_config: {http_protocol_options: {}}\ncommon_http_protocol_options: " + common + "\n");
    }

    @Test
    void commonOptionsApplyAsTheDeprecatedFieldsDo() {
        ClusterConfig c = cluster(explicitHttp1("{idle_timeout: 30s, max_requests_per_connection: 7, max_connection_duration: 1.5s}"));
        assertEquals(Optional.of(Duration.ofSeconds(30)), c.idleTimeout());
        assertEquals(7, c.maxRequestsPerConnection());
        assertEquals(Optional.of(Duration.ofMillis(1500)), c.maxConnectionDuration());
        assertEquals(Optional.empty(), cluster(explicitHttp1("{idle_timeout: 0s}")).idleTimeout());
        // Without common options: Envoy's defaults (an hour's idle timeout, no limit, no maximum duration).
        ClusterConfig bare = cluster(typed("explicit_http_config: {http_protocol_options: {}}\n"));
        assertEquals(Optional.of(Duration.ofHours(1)), bare.idleTimeout());
        assertEquals(0, bare.maxRequestsPerConnection());
        assertEquals(Optional.empty(), bare.maxConnectionDuration());
    }

    /** Istio's passthrough clusters (cluster_builder.go, passthroughHttpProtocolOptions): the downstream protocol, HTTP/1 here. */
    @Test
    void istiosUseDownstreamProtocolShapeIsTaken() {
        ClusterConfig c = cluster(typed("""
                common_http_protocol_options: {idle_timeout: 300s}
                use_downstream_protocol_config: {http_protocol_options: {}, http2_protocol_options: {}}
                upstream_http_protocol_options: {}
                """));
        assertEquals(Optional.of(Duration.ofMinutes(5)), c.idleTimeout());
        assertEquals(Optional.of(Duration.ofMinutes(5)), cluster(typed("""
                common_http_protocol_options: {idle_timeout: 300s}
                use_downstream_protocol_config: {http3_protocol_options: {}}
                """)).idleTimeout());
    }

    @Test
    void commonOptionsRefuseWhatTheDeprecatedPathRefusesByTheSameWords() {
        rejects(clusters(explicitHttp1("{max_stream_duration: 1s}")), AT + ".common_http_protocol_options.max_stream_duration: field is not supported");
        rejects(clusters("- {name: c, common_http_protocol_options: {max_stream_duration: 1s}}\n"),
                "clusters[0].common_http_protocol_options.max_stream_duration: field is not supported");
        rejects(clusters(explicitHttp1("{headers_with_underscores_action: REJECT_REQUEST}")),
                AT + ".common_http_protocol_options.headers_with_underscores_action: field is not supported");
        rejects(clusters(explicitHttp1("{max_connection_duration: -1s}")),
                AT + ".common_http_protocol_options.max_connection_duration: must not be negative");
    }

    @Test
    void theUpstreamProtocolIsRequiredAndHttp3AndAlpnAreRefused() {
        rejects(clusters(typed("common_http_protocol_options: {idle_timeout: 1s}\n")),
                AT + ": one of explicit_http_config, use_downstream_protocol_config, auto_config is required");
        rejects(clusters(typed("explicit_http_config: {}\n")),
                AT + ".explicit_http_config: one of http_protocol_options, http2_protocol_options, http3_protocol_options is required");
        rejects(clusters(typed("explicit_http_config: {http3_protocol_options: {}}\n")), AT + ".explicit_http_config.http3_protocol_options: "
                + "HTTP/3 upstream is not supported: the proxy speaks HTTP/1.1 and HTTP/2 to upstreams (no HTTP/3 codec upstream)");
        rejects(clusters(typed("auto_config: {http_protocol_options: {}}\n")), AT + ".auto_config: is not supported: it negotiates "
                + "HTTP/1.1 or HTTP/2 by ALPN per connection, and the proxy's pools are per protocol (use explicit_http_config)");
    }

    /** explicit http2_protocol_options: HTTP/2 upstream, with Envoy's defaults (envoy/http/codec.h OptionsLimits) or as set. */
    @Test
    void explicitHttp2IsSpokenWithItsSettings() {
        ClusterConfig h2 = cluster(typed("explicit_http_config: {http2_protocol_options: {}}\n"));
        assertEquals(ClusterConfig.UpstreamHttp.Protocol.HTTP2, h2.upstreamHttp().protocol());
        assertEquals(new ClusterConfig.Http2Settings(1024, 256 << 20, 256 << 20), h2.upstreamHttp().http2());
        ClusterConfig set = cluster(typed("explicit_http_config: {http2_protocol_options: {max_concurrent_streams: 7, "
                + "initial_stream_window_size: 65535, initial_connection_window_size: 1048576}}\n"));
        assertEquals(new ClusterConfig.Http2Settings(7, 65535, 1 << 20), set.upstreamHttp().http2());
        // What Istio writes for a DestinationRule's http2KeepAlive, and the HPACK table.
        ClusterConfig kept = cluster(typed("explicit_http_config: {http2_protocol_options: {hpack_table_size: 65536, "
                + "connection_keepalive: {interval: 30s, timeout: 5s}}}\n"));
        assertEquals(new ClusterConfig.Http2Settings(1024, 256 << 20, 256 << 20, 65536, java.util.Optional.of(
                new Http2Keepalive(java.time.Duration.ofSeconds(30), java.time.Duration.ofSeconds(5), 15.0))), kept.upstreamHttp().http2());
        assertEquals(ClusterConfig.UpstreamHttp.HTTP1, cluster(typed("explicit_http_config: {http_protocol_options: {}}\n")).upstreamHttp());
        assertEquals(ClusterConfig.UpstreamHttp.HTTP1, cluster("- {name: c}\n").upstreamHttp());
        ClusterConfig downstream = cluster(typed("use_downstream_protocol_config: {http2_protocol_options: {max_concurrent_streams: 3}}\n"));
        assertEquals(ClusterConfig.UpstreamHttp.Protocol.DOWNSTREAM, downstream.upstreamHttp().protocol());
        assertEquals(3, downstream.upstreamHttp().http2().maxConcurrentStreams());
        assertEquals(false, downstream.upstreamHttp().http2For(false));
        assertEquals(true, downstream.upstreamHttp().http2For(true));
        // The deprecated cluster field, as Envoy's createOptions reads it without typed options.
        assertEquals(ClusterConfig.UpstreamHttp.Protocol.HTTP2,
                cluster("- {name: c, http2_protocol_options: {max_concurrent_streams: 5}}\n").upstreamHttp().protocol());
        assertEquals(5, cluster("- {name: c, http2_protocol_options: {max_concurrent_streams: 5}}\n").upstreamHttp().http2().maxConcurrentStreams());
    }

    @Test
    void http2SettingsOutOfEnvoysBoundsOrNotImplementedAreRefusedByPath() {
        String p = AT + ".explicit_http_config.http2_protocol_options.";
        rejects(clusters(typed("explicit_http_config: {http2_protocol_options: {max_concurrent_streams: 0}}\n")),
                p + "max_concurrent_streams: 0 is not in [1, 2147483647]");
        rejects(clusters(typed("explicit_http_config: {http2_protocol_options: {initial_stream_window_size: 100}}\n")),
                p + "initial_stream_window_size: 100 is not in [65535, 2147483647]");
        rejects(clusters(typed("explicit_http_config: {http2_protocol_options: {initial_connection_window_size: 4294967295}}\n")),
                p + "initial_connection_window_size: 4294967295 is not in [65535, 2147483647]");
        rejects(clusters(typed("explicit_http_config: {http2_protocol_options: {max_outbound_frames: 10}}\n")),
                p + "max_outbound_frames: field is not supported");
        rejects(clusters(typed("explicit_http_config: {http2_protocol_options: {allow_connect: true}}\n")),
                p + "allow_connect: field is not supported");
        rejects(clusters(typed("explicit_http_config: {http2_protocol_options: {connection_keepalive: {interval: 1s}}}\n")),
                p + "connection_keepalive.timeout: is required");
        rejects(clusters(typed("explicit_http_config: {http2_protocol_options: {connection_keepalive: {timeout: 1s, "
                + "connection_idle_interval: 1s}}}\n")), p + "connection_keepalive.connection_idle_interval: field is not supported");
        rejects(clusters(typed("explicit_http_config: {http_protocol_options: {}}\n") + "  http2_protocol_options: {}\n"),
                "clusters[0].http2_protocol_options: is ignored by Envoy when clusters[0].typed_extension_protocol_options holds "
                        + KEY + "; set explicit_http_config.http2_protocol_options there");
        rejects(clusters("- {name: c, http2_protocol_options: {max_outbound_frames: 10}}\n"),
                "clusters[0].http2_protocol_options.max_outbound_frames: field is not supported");
    }

    /** Envoy's ALPN fallback: an HTTP/2 cluster's TLS context without alpn_protocols offers h2; set ones are kept. */
    @Test
    void anHttp2ClustersTlsOffersH2() {
        String tls = """
                  transport_socket:
                    name: envoy.transport_sockets.tls
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
                """;
        ClusterConfig h2 = cluster(typed("explicit_http_config: {http2_protocol_options: {}}\n") + tls);
        assertEquals(List.of("h2"), ((TransportSocketConfig.UpstreamTls) h2.transportSocket()).tls().context().alpnProtocols());
        ClusterConfig h1 = cluster(typed("explicit_http_config: {http_protocol_options: {}}\n") + tls);
        assertEquals(List.of(), ((TransportSocketConfig.UpstreamTls) h1.transportSocket()).tls().context().alpnProtocols());
        ClusterConfig set = cluster(typed("explicit_http_config: {http2_protocol_options: {}}\n") + tls
                + "      common_tls_context: {alpn_protocols: [istio-peer-exchange, h2]}\n");
        assertEquals(List.of("istio-peer-exchange", "h2"),
                ((TransportSocketConfig.UpstreamTls) set.transportSocket()).tls().context().alpnProtocols());
    }

    @Test
    void settingsTheProxyDoesNotImplementAreRefusedByName() {
        rejects(clusters(typed("explicit_http_config: {http_protocol_options: {accept_http_10: true}}\n")),
                AT + ".explicit_http_config.http_protocol_options.accept_http_10: field is not supported");
        rejects(clusters(typed("use_downstream_protocol_config: {http_protocol_options: {enable_trailers: true}}\n")),
                AT + ".use_downstream_protocol_config.http_protocol_options.enable_trailers: field is not supported");
        rejects(clusters(typed("use_downstream_protocol_config: {http2_protocol_options: {max_outbound_frames: 10}}\n")),
                AT + ".use_downstream_protocol_config.http2_protocol_options.max_outbound_frames: field is not supported");
        rejects(clusters(typed("explicit_http_config: {http_protocol_options: {}}\nhttp_filters: [{name: envoy.filters.http.router}]\n")),
                AT + ".http_filters: field is not supported");
    }

    private static final String TLS_SOCKET = """
              transport_socket:
                name: envoy.transport_sockets.tls
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
                  sni: configured.example
            """;

    private static final String TLS_MATCH = """
              transport_socket_matches:
              - name: tls
                match: {}
                transport_socket:
                  name: envoy.transport_sockets.tls
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
            """;

    /**
     * Istio's setAutoSniAndAutoSanValidation shape: auto_sni and auto_san_validation (and an override header) reach the
     * cluster's HTTP options, and the TLS socket's verifier is told to require the request's SAN; a socket of
     * transport_socket_matches too. A plaintext cluster takes them, as Envoy does (its raw_buffer ignores them).
     */
    @Test
    void upstreamHttpProtocolOptionsTranslate() {
        ClusterConfig c = cluster(typed("explicit_http_config: {http_protocol_options: {}}\nupstream_http_protocol_options: "
                + "{auto_sni: true, auto_san_validation: true, override_auto_sni_header: X-SNI}\n") + TLS_SOCKET);
        assertEquals(new ClusterConfig.AutoSni(true, true, Optional.of("x-sni")), c.upstreamHttp().autoSni());
        UpstreamTlsConfig tls = ((TransportSocketConfig.UpstreamTls) c.transportSocket()).tls();
        assertEquals(true, tls.autoSanValidation());
        assertEquals(Optional.of("configured.example"), tls.sni());
        ClusterConfig sniOnly = cluster(typed("explicit_http_config: {http_protocol_options: {}}\nupstream_http_protocol_options: "
                + "{auto_sni: true}\n") + TLS_SOCKET);
        assertEquals(new ClusterConfig.AutoSni(true, false, Optional.empty()), sniOnly.upstreamHttp().autoSni());
        assertEquals(false, ((TransportSocketConfig.UpstreamTls) sniOnly.transportSocket()).tls().autoSanValidation());
        ClusterConfig matched = cluster(typed("explicit_http_config: {http_protocol_options: {}}\nupstream_http_protocol_options: "
                + "{auto_san_validation: true}\n") + TLS_MATCH);
        assertEquals(true, ((TransportSocketConfig.UpstreamTls) matched.transportSocketMatches().get(0).transportSocket()).tls()
                .autoSanValidation());
        ClusterConfig plain = cluster(typed("explicit_http_config: {http_protocol_options: {}}\nupstream_http_protocol_options: "
                + "{auto_sni: true, auto_san_validation: true}\n"));
        assertEquals(new ClusterConfig.AutoSni(true, true, Optional.empty()), plain.upstreamHttp().autoSni());
        assertEquals(TransportSocketConfig.RAW_BUFFER, plain.transportSocket());
        assertEquals(ClusterConfig.AutoSni.OFF, cluster(typed("explicit_http_config: {http_protocol_options: {}}\n")).upstreamHttp().autoSni());
        rejects(clusters(typed("explicit_http_config: {http_protocol_options: {}}\nupstream_http_protocol_options: "
                + "{auto_sni: true, override_auto_sni_header: \"x-a\\nb\"}\n")),
                AT + ".upstream_http_protocol_options.override_auto_sni_header: must not contain CR, LF or NUL");
    }

    /** Envoy stores options under any key a factory answers to, but reads the HTTP ones only under the canonical key. */
    @Test
    void anotherKeyOrAnotherTypeIsRefused() {
        rejects(clusters(typed("explicit_http_config: {http_protocol_options: {}}\n").replace(KEY + ":", "envoy.upstreams.http.http_protocol_options:")),
                "clusters[0].typed_extension_protocol_options[envoy.upstreams.http.http_protocol_options]: "
                        + "envoy.upstreams.http.http_protocol_options is not supported (supported: " + KEY + ")");
        rejects(clusters("- name: c\n  typed_extension_protocol_options:\n    " + KEY + ": {\"@type\": " + Bootstraps.ROUTER_TYPE + "}\n"),
                AT + ": " + Bootstraps.ROUTER_TYPE + " is not " + TYPE);
        rejects(clusters("- name: c\n  typed_extension_protocol_options:\n    " + KEY + ": {}\n"), AT + ": (no @type) is not " + TYPE);
    }

    /** ClusterInfoImpl uses the typed options alone when present; the deprecated field would be dropped unseen. */
    @Test
    void theDeprecatedFieldBesideTheTypedOptionsIsRefused() {
        rejects(clusters(explicitHttp1("{idle_timeout: 30s}") + "  common_http_protocol_options: {idle_timeout: 5s}\n"),
                "clusters[0].common_http_protocol_options: is ignored by Envoy when clusters[0].typed_extension_protocol_options holds "
                        + KEY + "; set these options there");
    }

    /** ClusterInfoImpl: "Only one of max_requests_per_connection from Cluster or HttpProtocolOptions can be specified". */
    @Test
    void maxRequestsPerConnectionFromTheClusterAndTheOptionsIsRefused() {
        rejects(clusters(explicitHttp1("{max_requests_per_connection: 5}") + "  max_requests_per_connection: 9\n"),
                "clusters[0].max_requests_per_connection: Only one of max_requests_per_connection from Cluster or HttpProtocolOptions "
                        + "can be specified (" + AT + ".common_http_protocol_options.max_requests_per_connection is set too)");
        rejects(clusters("- {name: c, max_requests_per_connection: 9, common_http_protocol_options: {max_requests_per_connection: 5}}\n"),
                "clusters[0].max_requests_per_connection: Only one of max_requests_per_connection from Cluster or HttpProtocolOptions "
                        + "can be specified (clusters[0].common_http_protocol_options.max_requests_per_connection is set too)");
        // The cluster's field alone still counts, beside options that do not set it (PROTOBUF_GET_WRAPPED_OR_DEFAULT).
        assertEquals(9, cluster(explicitHttp1("{idle_timeout: 30s}") + "  max_requests_per_connection: 9\n").maxRequestsPerConnection());
        assertEquals(9, cluster("- {name: c, max_requests_per_connection: 9, common_http_protocol_options: {idle_timeout: 1s}}\n")
                .maxRequestsPerConnection());
    }

    /** The ADS path: the options arrive packed in an Any, as Istio's pilot sends them. */
    @Test
    void packedOptionsFromAnXdsPush() {
        HttpProtocolOptions options = HttpProtocolOptions.newBuilder()
                .setCommonHttpProtocolOptions(io.envoyproxy.envoy.config.core.v3.HttpProtocolOptions.newBuilder()
                        .setIdleTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(12))
                        .setMaxRequestsPerConnection(UInt32Value.of(3)))
                .setExplicitHttpConfig(HttpProtocolOptions.ExplicitHttpConfig.newBuilder().setHttpProtocolOptions(Http1ProtocolOptions.getDefaultInstance()))
                .build();
        Cluster c = FromResourcesTest.PASSTHROUGH.toBuilder().putTypedExtensionProtocolOptions(KEY, Any.pack(options)).build();
        ClusterConfig config = ConfigTranslator.fromResources(List.of(), List.of(c), "1", NodeInfo.unnamed()).clusters().get(0);
        assertEquals(Optional.of(Duration.ofSeconds(12)), config.idleTimeout());
        assertEquals(3, config.maxRequestsPerConnection());
        Cluster h2 = FromResourcesTest.PASSTHROUGH.toBuilder().putTypedExtensionProtocolOptions(KEY, Any.pack(options.toBuilder()
                .setExplicitHttpConfig(HttpProtocolOptions.ExplicitHttpConfig.newBuilder()
                        .setHttp2ProtocolOptions(io.envoyproxy.envoy.config.core.v3.Http2ProtocolOptions.getDefaultInstance())).build())).build();
        assertEquals(ClusterConfig.UpstreamHttp.Protocol.HTTP2, ConfigTranslator.fromResources(List.of(), List.of(h2), "1",
                NodeInfo.unnamed()).clusters().get(0).upstreamHttp().protocol());
    }
}
