package io.sourcemesh.proxy.config;

import static io.sourcemesh.proxy.config.Bootstraps.load;
import static io.sourcemesh.proxy.config.Bootstraps.rejects;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * A {@code transport_socket} resolves through {@link Extensions} within its side: Envoy's canonical
 * and deprecated names ({@code tls}, {@code raw_buffer}, Envoy's LEGACY_REGISTER_FACTORY names) and
 * type URLs; anything else is refused naming the field.
 */
class TransportSocketTranslationTest {
    private static final String TCP = """
            name: envoy.filters.network.tcp_proxy
            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: t, cluster: backend}
            """;
    private static final String CHAIN_SOCKET = "listeners[0].filter_chains[0].transport_socket";

    private static String chainSocket(String socket) {
        return Bootstraps.chain(TCP, "transport_socket: " + socket + "\n");
    }

    private static String clusterSocket(String socket) {
        return "static_resources:\n  clusters:\n  - name: c\n    transport_socket: " + socket + "\n";
    }

    private static TransportSocketConfig downstream(String socket) {
        return load(chainSocket(socket)).listeners().get(0).filterChains().get(0).transportSocket();
    }

    private static TransportSocketConfig upstream(String socket) {
        return load(clusterSocket(socket)).clusters().get(0).transportSocket();
    }

    @Test
    void rawBufferByEveryNameAndItsTypeUrlOnBothSides() {
        for (String name : new String[] {"envoy.transport_sockets.raw_buffer", "raw_buffer"}) {
            assertEquals(TransportSocketConfig.RAW_BUFFER, downstream("{name: " + name + "}"), name);
            assertEquals(TransportSocketConfig.RAW_BUFFER, upstream("{name: " + name + "}"), name);
        }
        String typed = "{name: anything, typed_config: {\"@type\": type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer}}";
        assertEquals(TransportSocketConfig.RAW_BUFFER, downstream(typed));
        assertEquals(TransportSocketConfig.RAW_BUFFER, upstream(typed));
        assertEquals(TransportSocketConfig.RAW_BUFFER, load(Bootstraps.chain(TCP, "")).listeners().get(0).filterChains().get(0)
                .transportSocket(), "no transport_socket is raw_buffer");
    }

    @Test
    void tlsByItsDeprecatedNameIsTheDownstreamContextOnAChain() {
        var pem = io.sourcemesh.proxy.testing.TestCertificates.selfSigned("tls.example.com");
        String yaml = TlsTranslationTest.tls(TlsTranslationTest.certificates("{inline_string: " + TlsTranslationTest.quoted(pem.certificate())
                + "}", "{inline_string: " + TlsTranslationTest.quoted(pem.privateKey()) + "}"))
                .replace("name: envoy.transport_sockets.tls", "name: tls");
        assertInstanceOf(TransportSocketConfig.DownstreamTls.class,
                load(yaml).listeners().get(0).filterChains().get(0).transportSocket());
    }

    @Test
    void tlsOnAClusterResolvesToUpstreamTls() {
        // By name alone, tls on a cluster is Envoy's upstream factory (UpstreamTlsContext), never the downstream one; an
        // empty context is TLS without SNI, client certificate or verification, as Envoy's.
        for (String name : new String[] {"tls", "envoy.transport_sockets.tls"}) {
            var tls = assertInstanceOf(TransportSocketConfig.UpstreamTls.class, upstream("{name: " + name + "}"), name);
            assertTrue(tls.tls().sni().isEmpty() && tls.tls().context().certificates().isEmpty()
                    && tls.tls().context().validation().isEmpty(), tls.toString());
        }
    }

    @Test
    void anUnknownTransportSocketIsRefusedNamingTheField() {
        // A name no side knows is refused by the loader already, naming the field.
        rejects(chainSocket("{name: envoy.transport_sockets.alts}"), CHAIN_SOCKET + ".name: envoy.transport_sockets.alts is not supported");
        ConfigException e = assertThrows(ConfigException.class, () -> upstream("{name: envoy.transport_sockets.tap}"));
        assertEquals("clusters[0].transport_socket.name: envoy.transport_sockets.tap is not supported", e.getMessage());
        e = assertThrows(ConfigException.class, () -> downstream(
                "{name: envoy.transport_sockets.alts, typed_config: {\"@type\": type.googleapis.com/envoy.extensions.transport_sockets.alts.v3.Alts}}"));
        assertEquals(CHAIN_SOCKET + ".name: envoy.transport_sockets.alts is not supported", e.getMessage());
        e = assertThrows(ConfigException.class, () -> downstream(
                "{name: raw_buffer, typed_config: {\"@type\": type.googleapis.com/envoy.extensions.transport_sockets.alts.v3.Alts}}"));
        assertTrue(e.getMessage().startsWith(CHAIN_SOCKET + ".typed_config"), e.getMessage());
        assertTrue(e.getMessage().contains("envoy.extensions.transport_sockets.alts.v3.Alts"), e.getMessage());
        rejects(chainSocket("{typed_config: {\"@type\": type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer}}"),
                CHAIN_SOCKET + ".name: is required");
    }

    @Test
    void aSocketOfTheOtherSideIsRefused() {
        rejects(chainSocket("{name: envoy.transport_sockets.upstream_proxy_protocol}"), CHAIN_SOCKET + ".name: "
                + "envoy.transport_sockets.upstream_proxy_protocol is not a downstream transport socket (supported: "
                + "envoy.transport_sockets.tls, envoy.transport_sockets.raw_buffer)");
        rejects(chainSocket("{name: x, typed_config: {\"@type\": type.googleapis.com/envoy.extensions.transport_sockets.proxy_protocol.v3."
                + "ProxyProtocolUpstreamTransport}}"), CHAIN_SOCKET + ".typed_config: type.googleapis.com/envoy.extensions."
                + "transport_sockets.proxy_protocol.v3.ProxyProtocolUpstreamTransport is not a downstream transport socket");
    }
}
