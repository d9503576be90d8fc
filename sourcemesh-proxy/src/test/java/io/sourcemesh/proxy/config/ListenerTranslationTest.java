package io.sourcemesh.proxy.config;

import static io.sourcemesh.proxy.config.Bootstraps.listener;
import static io.sourcemesh.proxy.config.Bootstraps.load;
import static io.sourcemesh.proxy.config.Bootstraps.rejects;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.proxy.address.CidrRange;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.OptionalInt;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class ListenerTranslationTest {

    static final String TCP_FILTER = """
            filters:
            - name: envoy.filters.network.tcp_proxy
              typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: t, cluster: backend}
            """;

    static String chains(String... matches) {
        StringBuilder sb = new StringBuilder("filter_chains:\n");
        for (String match : matches) {
            sb.append(("- " + (match.isEmpty() ? "" : "filter_chain_match: " + match + "\n  ") + TCP_FILTER.indent(2).substring(2)).indent(0));
        }
        return sb.toString();
    }

    @Test
    void addressTransparentAndOriginalDst() {
        ListenerConfig l = load(listener("transparent: true\nuse_original_dst: true\nstat_prefix: x\n" + chains(""))).listeners().get(0);
        assertEquals("l", l.name());
        assertEquals(new InetSocketAddress("127.0.0.1", 10000), l.address());
        assertTrue(l.transparent());
        assertTrue(l.useOriginalDst());
        assertEquals(1, l.filterChains().size());
        assertEquals(FilterChainMatch.any(), l.filterChains().get(0).match());
        assertTrue(l.defaultFilterChain().isEmpty());
        assertInstanceOf(TcpProxyConfig.class, l.filterChains().get(0).filters().get(0));
    }

    @Test
    void unnamedListenerIsNamedAfterItsAddress() {
        String yaml = Bootstraps.bootstrap("- address: {socket_address: {address: 0.0.0.0, port_value: 15006}}\n"
                + chains("").indent(2), Bootstraps.BACKEND);
        assertEquals("0.0.0.0_15006", load(yaml).listeners().get(0).name());
    }

    @Test
    void listenerFilters() {
        ListenerConfig l = load(listener("""
                listener_filters:
                - name: envoy.filters.listener.original_dst
                  typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst}
                - name: envoy.filters.listener.original_src
                  typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.listener.original_src.v3.OriginalSrc, mark: 1337, bind_port: true}
                - name: envoy.filters.listener.tls_inspector
                - name: my-proxy-protocol
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol
                    allow_requests_without_proxy_protocol: true
                    pass_through_tlvs: {match_type: INCLUDE, tlv_type: [1, 2]}
                """ + chains(""))).listeners().get(0);
        assertEquals(List.of(
                new ListenerFilterConfig.OriginalDst("envoy.filters.listener.original_dst"),
                new ListenerFilterConfig.OriginalSrc("envoy.filters.listener.original_src", 1337, true),
                new ListenerFilterConfig.TlsInspector("envoy.filters.listener.tls_inspector"),
                new ListenerFilterConfig.ProxyProtocol("my-proxy-protocol", true, List.of(1, 2))), l.listenerFilters());
    }

    @Test
    void proxyProtocolIncludeAllListsEveryTlvType() {
        ListenerConfig l = load(listener("""
                listener_filters:
                - name: envoy.filters.listener.proxy_protocol
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol
                    pass_through_tlvs: {}
                """ + chains(""))).listeners().get(0);
        var pp = l.listenerFilter(ListenerFilterConfig.ProxyProtocol.class).orElseThrow();
        assertFalse(pp.allowRequestsWithoutProxyProtocol());
        assertEquals(IntStream.range(0, 256).boxed().toList(), pp.passThroughTlvs());
    }

    @Test
    void listenerFilterRejections() {
        rejects(listener("""
                listener_filters:
                - name: envoy.filters.listener.tls_inspector
                  typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector, enable_ja3_fingerprinting: true}
                """ + chains("")), "listeners[0].listener_filters[0].typed_config.enable_ja3_fingerprinting: field is not supported");
        rejects(listener("""
                listener_filters:
                - name: envoy.filters.listener.http_inspector
                """ + chains("")), "listeners[0].listener_filters[0].name: envoy.filters.listener.http_inspector is not supported");
        rejects(listener("""
                listener_filters:
                - name: envoy.filters.listener.proxy_protocol
                  typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol, rules: [{tlv_type: 1}]}
                """ + chains("")), "listeners[0].listener_filters[0].typed_config.rules: field is not supported");
        rejects(listener("""
                listener_filters:
                - name: x
                  typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                """ + chains("")),
                "listeners[0].listener_filters[0].typed_config: type.googleapis.com/envoy.extensions.filters.http.router.v3.Router is not a listener filter");
        rejects(listener("""
                listener_filters:
                - name: envoy.filters.listener.original_dst
                  filter_disabled: {destination_port_range: {start: 1, end: 2}}
                """ + chains("")), "listeners[0].listener_filters[0].filter_disabled: field is not supported");
    }

    @Test
    void filterChainMatchFields() {
        ListenerConfig l = load(listener(chains("""
                {destination_port: 8000, prefix_ranges: [{address_prefix: 10.0.0.0, prefix_len: 8}], server_names: [a.example.com],
                 transport_protocol: tls, application_protocols: [h2, http/1.1], direct_source_prefix_ranges: [{address_prefix: 127.0.0.1, prefix_len: 32}],
                 source_type: EXTERNAL, source_prefix_ranges: [{address_prefix: "fd00::", prefix_len: 8}], source_ports: [1234]}""".replace("\n", " "))))
                .listeners().get(0);
        FilterChainMatch m = l.filterChains().get(0).match();
        assertEquals(new FilterChainMatch(OptionalInt.of(8000), List.of(CidrRange.parse("10.0.0.0/8")), List.of("a.example.com"), "tls",
                List.of("h2", "http/1.1"), List.of(CidrRange.parse("127.0.0.1/32")), FilterChainMatch.SourceType.EXTERNAL,
                List.of(CidrRange.parse("fd00::/8")), List.of(1234)), m);
    }

    @Test
    void prefixLengthDefaultsToZero() {
        FilterChainMatch m = load(listener(chains("{prefix_ranges: [{address_prefix: 0.0.0.0}]}"))).listeners().get(0).filterChains().get(0).match();
        assertEquals(List.of(CidrRange.parse("0.0.0.0/0")), m.prefixRanges());
    }

    /**
     * Envoy's CidrRange: a prefix_len longer than an IPv4 address is clamped to 32 (the proto allows up to
     * 128), and an IPv4-mapped prefix is an IPv6 range, which an IPv4 peer or destination is never in.
     */
    @Test
    void prefixRangesAreReadAsEnvoysCidrRange() {
        FilterChainMatch m = load(listener(chains("{prefix_ranges: [{address_prefix: 10.0.0.1, prefix_len: 33}], "
                + "source_prefix_ranges: [{address_prefix: \"::ffff:10.0.0.0\", prefix_len: 104}, "
                + "{address_prefix: \"::ffff:192.168.0.0\", prefix_len: 16}]}"))).listeners().get(0).filterChains().get(0).match();
        assertEquals(List.of(CidrRange.parse("10.0.0.1/32")), m.prefixRanges());
        CidrRange mapped = m.sourcePrefixRanges().get(0);
        assertInstanceOf(java.net.Inet6Address.class, mapped.address());
        assertEquals(104, mapped.prefixLength());
        assertFalse(mapped.contains(CidrRange.literal("10.0.0.5")), "an IPv4 address is not in an IPv6 range");
        assertEquals(CidrRange.parse("::/16"), m.sourcePrefixRanges().get(1), "an IPv6 /16 of a mapped address is ::/16");
    }

    @Test
    void filterChainMatchRejections() {
        rejects(listener(chains("{prefix_ranges: [{address_prefix: 10.0.0.300, prefix_len: 8}]}")),
                "listeners[0].filter_chains[0].filter_chain_match.prefix_ranges[0].address_prefix: malformed IP address: 10.0.0.300");
        rejects(listener(chains("{source_prefix_ranges: [{address_prefix: 10.0.0.0, prefix_len: 129}]}")),
                "listeners[0].filter_chains[0].filter_chain_match.source_prefix_ranges[0].prefix_len: 129 is out of range (at most 128)");
        rejects(listener(chains("{destination_port: 70000}")),
                "listeners[0].filter_chains[0].filter_chain_match.destination_port: 70000 is not a port");
        rejects(listener(chains("{server_names: [\"api.*.com\"]}")),
                "listeners[0].filter_chains[0].filter_chain_match.server_names[0]: partial wildcards are not supported in \"server_names\": api.*.com");
        rejects(listener(chains("{address_suffix: 1.2.3.4}")),
                "listeners[0].filter_chains[0].filter_chain_match.address_suffix: field is not supported");
    }

    @Test
    void duplicateMatchesAreRejectedAsEnvoyDoes() {
        rejects(listener(chains("{destination_port: 80}", "{destination_port: 80}")),
                "listeners[0].filter_chains[1]: multiple filter chains with the same matching rules are defined "
                        + "(filter_chains[0] matches the same connections)");
        rejects(listener(chains("", "")), "listeners[0].filter_chains[1]: multiple filter chains with the same matching rules are defined "
                + "(filter_chains[0] matches the same connections)");
        // Overlapping lists collide on the shared value.
        rejects(listener(chains("{server_names: [a, b]}", "{server_names: [b]}")),
                "listeners[0].filter_chains[1]: multiple filter chains with the same matching rules are defined "
                        + "(filter_chains[0] matches the same connections)");
        ListenerConfig ok = load(listener(chains("{server_names: [a]}", "{server_names: [b]}", ""))).listeners().get(0);
        assertEquals(3, ok.filterChains().size());
    }

    @Test
    void defaultFilterChain() {
        ListenerConfig l = load(listener("default_filter_chain:\n" + TCP_FILTER.indent(2) + "  name: fallback\n")).listeners().get(0);
        assertTrue(l.filterChains().isEmpty());
        assertEquals("fallback", l.defaultFilterChain().orElseThrow().name());
        rejects(listener("default_filter_chain:\n  filter_chain_match: {destination_port: 1}\n" + TCP_FILTER.indent(2)),
                "listeners[0].default_filter_chain.filter_chain_match: field is not supported");
    }

    @Test
    void listenerRejections() {
        rejects(Bootstraps.bootstrap("- name: l\n" + chains("").indent(2), Bootstraps.BACKEND), "listeners[0].address: is required");
        rejects(listener(""), "listeners[0].filter_chains: no filter chains specified");
        rejects(listener("per_connection_buffer_limit_bytes: 1024\n" + chains("")),
                "listeners[0].per_connection_buffer_limit_bytes: field is not supported");
        rejects(Bootstraps.bootstrap("- name: l\n  address: {socket_address: {address: localhost, port_value: 1}}\n" + chains("").indent(2),
                Bootstraps.BACKEND), "listeners[0].address.socket_address.address: malformed IP address: localhost");
        rejects(Bootstraps.bootstrap("- name: l\n  address: {socket_address: {address: 127.0.0.1, port_value: 1, protocol: UDP}}\n"
                + chains("").indent(2), Bootstraps.BACKEND), "listeners[0].address.socket_address.protocol: UDP is not supported");
        rejects(Bootstraps.bootstrap("- name: l\n  address: {pipe: {path: /tmp/s}}\n" + chains("").indent(2), Bootstraps.BACKEND),
                "listeners[0].address.pipe: field is not supported");
        String twice = "- name: l\n  address: {socket_address: {address: 127.0.0.1, port_value: 1}}\n" + chains("").indent(2);
        rejects(Bootstraps.bootstrap(twice + twice, Bootstraps.BACKEND), "listeners[1].name: duplicate listener 'l' (also listeners[0])");
        rejects(Bootstraps.bootstrap(twice + twice.replace("name: l", "name: m"), Bootstraps.BACKEND),
                "listeners[1].address: listener 'm' has the same address as listeners[0]");
    }

    @Test
    void filterChainRejections() {
        rejects(listener("filter_chains:\n- name: empty\n"), "listeners[0].filter_chains[0].filters: a tcp_proxy or http_connection_manager filter is required");
        rejects(listener("filter_chains:\n- " + (TCP_FILTER + TCP_FILTER.substring(TCP_FILTER.indexOf('\n') + 1)).indent(2).substring(2)),
                "listeners[0].filter_chains[0].filters[0]: envoy.filters.network.tcp_proxy is a terminal filter and must be last "
                        + "(only envoy.filters.network.rbac may come before it)");
        rejects(listener("filter_chains:\n- transport_socket_connect_timeout: 1s\n" + TCP_FILTER.indent(2)),
                "listeners[0].filter_chains[0].transport_socket_connect_timeout: field is not supported");
        rejects(listener("filter_chains:\n- filters:\n  - name: envoy.filters.network.tcp_proxy\n"),
                "listeners[0].filter_chains[0].filters[0].typed_config: is required for envoy.filters.network.tcp_proxy");
        rejects(listener("filter_chains:\n- filters:\n  - typed_config: {\"@type\": " + Bootstraps.TCP_TYPE + ", stat_prefix: t, cluster: c}\n"),
                "listeners[0].filter_chains[0].filters[0].name: is required");
        rejects(listener("filter_chains:\n- filters:\n  - name: envoy.filters.network.ext_authz\n"),
                "listeners[0].filter_chains[0].filters[0].name: envoy.filters.network.ext_authz is not supported");
    }

    @Test
    void rawBufferTransportSocketMeansPlainText() {
        ListenerConfig l = load(listener("filter_chains:\n- transport_socket: {name: envoy.transport_sockets.raw_buffer}\n" + TCP_FILTER.indent(2)))
                .listeners().get(0);
        assertTrue(l.filterChains().get(0).tls().isEmpty());
    }
}
