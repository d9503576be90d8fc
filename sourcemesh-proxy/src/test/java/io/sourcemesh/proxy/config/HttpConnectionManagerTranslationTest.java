package io.sourcemesh.proxy.config;

import static io.sourcemesh.proxy.config.Bootstraps.HCM;
import static io.sourcemesh.proxy.config.Bootstraps.hcm;
import static io.sourcemesh.proxy.config.Bootstraps.loadHcm;
import static io.sourcemesh.proxy.config.Bootstraps.rejects;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.proxy.address.CidrRange;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class HttpConnectionManagerTranslationTest {

    static final String XFF_TYPE = "type.googleapis.com/envoy.extensions.http.original_ip_detection.xff.v3.XffConfig";

    @Test
    void defaultsAreEnvoys() {
        HttpConnectionManagerConfig h = loadHcm(hcm(""));
        assertEquals("envoy.filters.network.http_connection_manager", h.name());
        assertEquals("http", h.statPrefix());
        assertFalse(h.useRemoteAddress());
        assertEquals(0, h.xffNumTrustedHops());
        assertFalse(h.skipXffAppend());
        assertTrue(h.xffTrustedCidrs().isEmpty());
        assertFalse(h.xffRecurse());
        assertTrue(h.internalAddressCidrs().isEmpty());
        assertTrue(h.generateRequestId());
        assertFalse(h.preserveExternalRequestId());
        assertFalse(h.alwaysSetRequestIdInResponse());
        assertTrue(h.serverName().isEmpty());
        assertEquals(Optional.of(Duration.ofMinutes(5)), h.streamIdleTimeout());
        assertTrue(h.requestTimeout().isEmpty());
        assertEquals(List.of(), h.upgradeTypes());
        assertEquals(List.of(new HttpFilterConfig.Router("envoy.filters.http.router")), h.httpFilters());
        assertEquals(List.of(), h.accessLogs());
    }

    @Test
    void everySupportedField() {
        HttpConnectionManagerConfig h = loadHcm(hcm("""
                codec_type: HTTP1
                use_remote_address: true
                xff_num_trusted_hops: 2
                skip_xff_append: true
                internal_address_config: {unix_sockets: true, cidr_ranges: [{address_prefix: 10.0.0.0, prefix_len: 8}]}
                generate_request_id: false
                preserve_external_request_id: true
                always_set_request_id_in_response: true
                server_name: sourcemesh
                stream_idle_timeout: 0s
                request_timeout: 30s
                upgrade_configs: [{upgrade_type: websocket}, {upgrade_type: CONNECT, enabled: false}]
                """));
        assertTrue(h.useRemoteAddress());
        assertEquals(2, h.xffNumTrustedHops());
        assertTrue(h.skipXffAppend());
        assertEquals(Optional.of(List.of(CidrRange.parse("10.0.0.0/8"))), h.internalAddressCidrs());
        assertFalse(h.generateRequestId());
        assertTrue(h.preserveExternalRequestId());
        assertTrue(h.alwaysSetRequestIdInResponse());
        assertEquals(Optional.of("sourcemesh"), h.serverName());
        assertEquals(Optional.empty(), h.streamIdleTimeout(), "0s disables, as in Envoy");
        assertEquals(Optional.of(Duration.ofSeconds(30)), h.requestTimeout());
        assertEquals(List.of("websocket"), h.upgradeTypes());
    }

    /** CONNECT termination is not implemented: allowing the upgrade is refused where it is written (disabled is fine). */
    @Test
    void connectUpgradeIsRefused() {
        Bootstraps.rejects(hcm("upgrade_configs: [{upgrade_type: websocket}, {upgrade_type: connect}]\n"),
                HCM + ".upgrade_configs[1].upgrade_type: CONNECT is not implemented: SourceMesh does not terminate CONNECT"
                        + " tunnels, and answers a CONNECT request 403");
    }

    /** Slow-client limits: Envoy's defaults when unset; unsupported protocol options are refused by path. */
    @Test
    void slowClientLimits() {
        HttpConnectionManagerConfig d = loadHcm(hcm(""));
        assertEquals(io.sourcemesh.proxy.config.HttpProtocolLimits.defaults(), d.limits());
        assertEquals(Optional.of(Duration.ofMinutes(5)), d.streamIdleTimeout());
        HttpConnectionManagerConfig h = loadHcm(hcm("""
                request_headers_timeout: 2s
                max_request_headers_kb: 96
                common_http_protocol_options: {idle_timeout: 0s, max_headers_count: 50}
                """));
        assertEquals(Optional.of(Duration.ofSeconds(2)), h.limits().requestHeadersTimeout());
        assertEquals(Optional.empty(), h.limits().idleTimeout(), "0s disables");
        assertEquals(50, h.limits().maxHeadersCount());
        assertEquals(96, h.limits().maxRequestHeadersKb());
        Bootstraps.rejects(hcm("common_http_protocol_options: {max_connection_duration: 5s}\n"),
                HCM + ".common_http_protocol_options.max_connection_duration: field is not supported");
        Bootstraps.rejects(hcm("max_request_headers_kb: 9000\n"), HCM + ".max_request_headers_kb: 9000 is not in 1..8192");
    }

    @Test
    void xffOriginalIpDetectionWithHops() {
        HttpConnectionManagerConfig h = loadHcm(hcm("""
                original_ip_detection_extensions:
                - name: envoy.http.original_ip_detection.xff
                  typed_config: {"@type": %s, xff_num_trusted_hops: 1}
                """.formatted(XFF_TYPE)));
        assertEquals(1, h.xffNumTrustedHops());
        assertTrue(h.xffTrustedCidrs().isEmpty());
    }

    @Test
    void xffOriginalIpDetectionWithTrustedCidrs() {
        HttpConnectionManagerConfig h = loadHcm(hcm("""
                original_ip_detection_extensions:
                - name: envoy.http.original_ip_detection.xff
                  typed_config:
                    "@type": %s
                    xff_trusted_cidrs: {cidrs: [{address_prefix: 192.0.2.0, prefix_len: 24}, {address_prefix: "2001:db8::", prefix_len: 32}]}
                    skip_xff_append: true
                """.formatted(XFF_TYPE)));
        assertEquals(0, h.xffNumTrustedHops());
        assertEquals(Optional.of(List.of(CidrRange.parse("192.0.2.0/24"), CidrRange.parse("2001:db8::/32"))), h.xffTrustedCidrs());
        assertFalse(h.xffRecurse(), "this API version has no recurse field");
        assertTrue(h.skipXffAppend());
    }

    @Test
    void xffRejectionsFollowEnvoy() {
        String ext = """
                original_ip_detection_extensions:
                - name: envoy.http.original_ip_detection.xff
                  typed_config: {"@type": %s, xff_num_trusted_hops: 1}
                """.formatted(XFF_TYPE);
        rejects(hcm("use_remote_address: true\n" + ext), HCM
                + ".original_ip_detection_extensions: Original IP detection extensions and use_remote_address may not be mixed");
        rejects(hcm("xff_num_trusted_hops: 1\n" + ext), HCM
                + ".original_ip_detection_extensions: Original IP detection extensions and xff_num_trusted_hops may not be mixed");
        rejects(hcm("""
                original_ip_detection_extensions:
                - name: envoy.http.original_ip_detection.xff
                  typed_config: {"@type": %s, xff_num_trusted_hops: 1, xff_trusted_cidrs: {cidrs: [{address_prefix: 10.0.0.0, prefix_len: 8}]}}
                """.formatted(XFF_TYPE)), HCM
                + ".original_ip_detection_extensions[0].typed_config: Cannot set both xff_num_trusted_hops and xff_trusted_cidrs");
        rejects(hcm("""
                original_ip_detection_extensions:
                - name: envoy.http.original_ip_detection.custom_header
                  typed_config: {"@type": type.googleapis.com/envoy.extensions.http.original_ip_detection.custom_header.v3.CustomHeaderConfig, header_name: x-real-ip}
                """), HCM + ".original_ip_detection_extensions[0].name: envoy.http.original_ip_detection.custom_header is not supported");
    }

    /** The xff extension's trusted CIDRs and internal_address_config's ranges read as Envoy's CidrRange. */
    @Test
    void trustedAndInternalCidrsAreReadAsEnvoysCidrRange() throws Exception {
        HttpConnectionManagerConfig h = loadHcm(hcm("""
                original_ip_detection_extensions:
                - name: envoy.extensions.http.original_ip_detection.xff
                  typed_config:
                    "@type": %s
                    xff_trusted_cidrs: {cidrs: [{address_prefix: 192.0.2.1, prefix_len: 64}, {address_prefix: "::ffff:10.0.0.0", prefix_len: 104}]}
                internal_address_config: {cidr_ranges: [{address_prefix: "::ffff:10.0.0.0", prefix_len: 8}, {address_prefix: 10.1.1.1, prefix_len: 128}]}
                """.formatted(XFF_TYPE)));
        List<CidrRange> trusted = h.xffTrustedCidrs().orElseThrow();
        assertEquals(CidrRange.parse("192.0.2.1/32"), trusted.get(0), "an IPv4 prefix_len above 32 is clamped");
        assertEquals(CidrRange.parse("::ffff:10.0.0.0/104"), trusted.get(1));
        assertTrue(trusted.get(1).contains(java.net.Inet6Address.getByAddress(null, new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                (byte) 0xff, (byte) 0xff, 10, 0, 0, 5}, -1)));
        assertFalse(trusted.get(1).contains(CidrRange.literal("10.0.0.5")));
        List<CidrRange> internal = h.internalAddressCidrs().orElseThrow();
        assertEquals(CidrRange.parse("::/8"), internal.get(0), "a mapped prefix of 8 bits is the IPv6 ::/8, not 10.0.0.0/8");
        assertEquals(CidrRange.parse("10.1.1.1/32"), internal.get(1));
        rejects(hcm("internal_address_config: {cidr_ranges: [{address_prefix: 10.0.0.0, prefix_len: 129}]}\n"),
                HCM + ".internal_address_config.cidr_ranges[0].prefix_len: 129 is out of range (at most 128)");
    }

    /** codec_type and http2_protocol_options: Envoy's defaults, its validation bounds, the fields not implemented refused. */
    @Test
    void http2Options() {
        Http2Options d = loadHcm(hcm("")).limits().http2();
        assertEquals(new Http2Options(Http2Options.Codec.AUTO, Integer.MAX_VALUE, 256 * 1024 * 1024, 256 * 1024 * 1024), d);
        assertEquals(Http2Options.Codec.HTTP2, loadHcm(hcm("codec_type: HTTP2\n")).limits().http2().codec());
        assertEquals(Http2Options.Codec.HTTP1, loadHcm(hcm("codec_type: HTTP1\n")).limits().http2().codec());
        Http2Options o = loadHcm(hcm("""
                http2_protocol_options: {max_concurrent_streams: 7, initial_stream_window_size: 65535,
                  initial_connection_window_size: 2147483647}
                """)).limits().http2();
        assertEquals(new Http2Options(Http2Options.Codec.AUTO, 7, 65535, Integer.MAX_VALUE), o);
        String p = HCM + ".http2_protocol_options";
        rejects(hcm("http2_protocol_options: {max_concurrent_streams: 0}\n"), p + ".max_concurrent_streams: 0 is not in 1..2147483647");
        rejects(hcm("http2_protocol_options: {max_concurrent_streams: 2147483648}\n"),
                p + ".max_concurrent_streams: 2147483648 is not in 1..2147483647");
        rejects(hcm("http2_protocol_options: {initial_stream_window_size: 65534}\n"),
                p + ".initial_stream_window_size: 65534 is not in 65535..2147483647");
        rejects(hcm("http2_protocol_options: {initial_connection_window_size: 4294967295}\n"),
                p + ".initial_connection_window_size: 4294967295 is not in 65535..2147483647");
        rejects(hcm("http2_protocol_options: {allow_metadata: true}\n"), p + ".allow_metadata: field is not supported");
        assertTrue(loadHcm(hcm("http2_protocol_options: {allow_connect: true}\n")).limits().http2().allowConnect());
        assertFalse(d.allowConnect());
        assertEquals(new Http2FloodLimits(10_000, 1_000, 1, 100, 10), d.flood()); // Envoy's defaults
        assertEquals(new Http2FloodLimits(10, 20, 0, 3, 4), loadHcm(hcm("""
                http2_protocol_options: {max_outbound_frames: 10, max_outbound_control_frames: 20,
                  max_consecutive_inbound_frames_with_empty_payload: 0, max_inbound_priority_frames_per_stream: 3,
                  max_inbound_window_update_frames_per_data_frame_sent: 4}
                """)).limits().http2().flood());
        rejects(hcm("http2_protocol_options: {max_outbound_frames: 0}\n"), p + ".max_outbound_frames: 0 is less than 1");
        rejects(hcm("http2_protocol_options: {max_outbound_control_frames: 0}\n"), p + ".max_outbound_control_frames: 0 is less than 1");
        rejects(hcm("http2_protocol_options: {max_inbound_window_update_frames_per_data_frame_sent: 0}\n"),
                p + ".max_inbound_window_update_frames_per_data_frame_sent: 0 is less than 1");
        rejects(hcm("http2_protocol_options: {override_stream_error_on_invalid_http_message: true}\n"),
                p + ".override_stream_error_on_invalid_http_message: field is not supported");
    }

    /**
     * hpack_table_size, connection_keepalive (Envoy's KeepaliveSettings: timeout required, both at least 1 ms, 15% jitter
     * unless set, no periodic PING without an interval) and the manager's drain_timeout (Envoy's 5 s).
     */
    @Test
    void http2TableKeepaliveAndDrainTimeout() {
        Http2Options d = loadHcm(hcm("")).limits().http2();
        assertEquals(4096, d.hpackTableSize());
        assertEquals(Optional.empty(), d.keepalive());
        assertEquals(Duration.ofSeconds(5), d.drainTimeout());
        Http2Options o = loadHcm(hcm("""
                drain_timeout: 0.25s
                http2_protocol_options: {hpack_table_size: 0, connection_keepalive: {interval: 2s, timeout: 0.5s}}
                """)).limits().http2();
        assertEquals(0, o.hpackTableSize());
        assertEquals(Duration.ofMillis(250), o.drainTimeout());
        assertEquals(new Http2Keepalive(Duration.ofSeconds(2), Duration.ofMillis(500), 15.0), o.keepalive().orElseThrow());
        assertEquals(4294967295L, loadHcm(hcm("http2_protocol_options: {hpack_table_size: 4294967295}\n")).limits().http2().hpackTableSize());
        assertEquals(Duration.ZERO, loadHcm(hcm("drain_timeout: 0s\n")).limits().http2().drainTimeout());
        assertEquals(0.0, loadHcm(hcm("http2_protocol_options: {connection_keepalive: {interval: 1s, timeout: 1s, "
                + "interval_jitter: {value: 0}}}\n")).limits().http2().keepalive().orElseThrow().jitterPercent());
        assertEquals(Optional.empty(), loadHcm(hcm("http2_protocol_options: {connection_keepalive: {timeout: 1s}}\n"))
                .limits().http2().keepalive(), "no interval: no periodic PING");
        String p = HCM + ".http2_protocol_options.connection_keepalive";
        rejects(hcm("http2_protocol_options: {connection_keepalive: {interval: 1s}}\n"), p + ".timeout: is required");
        rejects(hcm("http2_protocol_options: {connection_keepalive: {interval: 0.0001s, timeout: 1s}}\n"),
                p + ".interval: PT0.0001S is less than 1ms");
        rejects(hcm("http2_protocol_options: {connection_keepalive: {interval: 1s, timeout: 1s, interval_jitter: {value: 101}}}\n"),
                p + ".interval_jitter.value: 101.0 is not in [0, 100]");
        rejects(hcm("http2_protocol_options: {connection_keepalive: {timeout: 1s, connection_idle_interval: 1s}}\n"),
                p + ".connection_idle_interval: field is not supported");
        rejects(hcm("drain_timeout: -1s\n"), HCM + ".drain_timeout: must not be negative");
    }

    @Test
    void rejections() {
        rejects(hcm("codec_type: HTTP3\n"), HCM + ".codec_type: HTTP3 is not supported");
        rejects(hcm("via: sourcemesh\n"), HCM + ".via: field is not supported");
        // Envoy rewrites Host before routing with these (conn_manager_utility.cc maybeNormalizeHost); refused, not dropped.
        rejects(hcm("strip_any_host_port: true\n"), HCM + ".strip_any_host_port: field is not supported");
        rejects(hcm("strip_matching_host_port: true\n"), HCM + ".strip_matching_host_port: field is not supported");
        rejects(hcm("path_with_escaped_slashes_action: 9\n"), HCM + ".path_with_escaped_slashes_action: 9 is not a valid value (one of"
                + " IMPLEMENTATION_SPECIFIC_DEFAULT, KEEP_UNCHANGED, REJECT_REQUEST, UNESCAPE_AND_REDIRECT, UNESCAPE_AND_FORWARD)");
        rejects(hcm("tracing: {}\n"), HCM + ".tracing: field is not supported");
        rejects(hcm("rds: {route_config_name: r}\n"), HCM + ".rds: field is not supported");
        rejects(hcm("rds: {route_config_name: r}\nroute_config: {name: r}\n"),
                HCM + ".route_config: cannot be set together with rds (oneof route_specifier)");
        rejects(hcm("internal_address_config: {cidr_ranges: [{address_prefix: nope}]}\n"),
                HCM + ".internal_address_config.cidr_ranges[0].address_prefix: malformed IP address: nope");
        rejects(hcm("upgrade_configs: [{upgrade_type: websocket, filters: [{name: envoy.filters.http.router}]}]\n"),
                HCM + ".upgrade_configs[0].filters: field is not supported");
        rejects(Bootstraps.hcm("").replace("stat_prefix: http", "stat_prefix: \"\""), HCM + ".stat_prefix: is required");
    }

    @Test
    void httpFilterRules() {
        rejects(hcm("http_filters: []\n"), HCM + ".http_filters: envoy.filters.http.router is required");
        rejects(hcm("""
                http_filters:
                - name: envoy.filters.http.router
                - name: envoy.filters.http.router
                """), HCM + ".http_filters[0]: the router filter must be the last HTTP filter");
        rejects(hcm("""
                http_filters:
                - name: envoy.filters.http.router
                  typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router, suppress_envoy_headers: true}
                """), HCM + ".http_filters[0].typed_config.suppress_envoy_headers: field is not supported");
        rejects(hcm("""
                http_filters:
                - name: envoy.filters.http.lua
                """), HCM + ".http_filters[0].name: envoy.filters.http.lua is not supported");
        rejects(hcm("""
                http_filters:
                - name: envoy.filters.http.router
                  typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy}
                """), HCM + ".http_filters[0].typed_config: type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy "
                + "is not an HTTP filter");
        HttpConnectionManagerConfig h = loadHcm(hcm("http_filters: [{name: my-router, typed_config: {\"@type\": "
                + Bootstraps.ROUTER_TYPE + "}}]\n"));
        assertEquals(List.of(new HttpFilterConfig.Router("my-router")), h.httpFilters());
    }

    @Test
    void acceptHttp10IsTheOneHttpProtocolOption() {
        assertFalse(loadHcm(hcm("")).limits().acceptHttp10(), "Envoy's default: HTTP/1.0 is refused (426)");
        assertTrue(loadHcm(hcm("http_protocol_options: {accept_http_10: true}\n")).limits().acceptHttp10());
        rejects(hcm("http_protocol_options: {default_host_for_http_10: x}\n"),
                HCM + ".http_protocol_options.default_host_for_http_10: field is not supported");
    }
}
