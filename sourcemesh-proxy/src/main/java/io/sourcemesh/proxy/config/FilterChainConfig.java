package io.sourcemesh.proxy.config;

import java.util.List;
import java.util.Optional;

/** One filter chain: what it matches, its transport socket (raw_buffer or TLS), and its network filters. */
public record FilterChainConfig(
        String name,
        FilterChainMatch match,
        TransportSocketConfig transportSocket,
        List<NetworkFilterConfig> filters) {

    public FilterChainConfig {
        filters = List.copyOf(filters);
        if (transportSocket instanceof TransportSocketConfig.UpstreamProxyProtocol) {
            throw new IllegalArgumentException("a filter chain's transport socket is a downstream one");
        }
    }

    /** The TLS context, when the chain terminates TLS. */
    public Optional<TlsContextConfig> tls() {
        return transportSocket instanceof TransportSocketConfig.DownstreamTls t ? Optional.of(t.context()) : Optional.empty();
    }
}
