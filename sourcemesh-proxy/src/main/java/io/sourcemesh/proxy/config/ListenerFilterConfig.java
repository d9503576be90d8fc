package io.sourcemesh.proxy.config;

import java.util.List;

/** The listener filters we support, each with its immutable configuration. */
public sealed interface ListenerFilterConfig {

    /** Envoy filter name, e.g. {@code envoy.filters.listener.original_dst}. */
    String name();

    /** Restores the pre-redirect destination (SO_ORIGINAL_DST) as the connection's local address. */
    record OriginalDst(String name) implements ListenerFilterConfig {}

    /**
     * Makes upstream connections from the downstream client's own IP (port 0); {@code mark} is
     * set as SO_MARK on the upstream socket when non-zero.
     */
    record OriginalSrc(String name, int mark, boolean bindPort) implements ListenerFilterConfig {}

    /** Peeks the TLS ClientHello for SNI and ALPN without consuming it. */
    record TlsInspector(String name) implements ListenerFilterConfig {}

    /**
     * Reads a PROXY protocol v1/v2 header; {@code allowRequestsWithoutProxyProtocol} mirrors Envoy's
     * field of the same name.
     */
    record ProxyProtocol(String name, boolean allowRequestsWithoutProxyProtocol, List<Integer> passThroughTlvs)
            implements ListenerFilterConfig {
        public ProxyProtocol {
            passThroughTlvs = List.copyOf(passThroughTlvs);
        }
    }
}
