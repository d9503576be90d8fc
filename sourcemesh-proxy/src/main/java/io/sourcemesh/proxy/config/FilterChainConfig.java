package io.sourcemesh.proxy.config;

import java.util.List;
import java.util.Optional;

/** One filter chain: what it matches, its optional downstream TLS, and its network filters. */
public record FilterChainConfig(
        String name,
        FilterChainMatch match,
        Optional<TlsContextConfig> tls,
        List<NetworkFilterConfig> filters) {

    public FilterChainConfig {
        filters = List.copyOf(filters);
    }
}
