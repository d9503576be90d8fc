package io.sourcemesh.proxy.config;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;

/**
 * A listener: a bound address, the listener filters run at accept, and the filter chains one of
 * which each connection is matched to ({@code defaultFilterChain} when none matches); {@code inbound} is a
 * traffic_direction of INBOUND; {@code modifyOnlyDrain} is a drain_type of MODIFY_ONLY (Envoy's
 * drain_manager_impl.cc drainClose: the admin's /healthcheck/fail does not drain its connections; its own removal or
 * modification and the server's drain still do).
 */
public record ListenerConfig(
        String name,
        InetSocketAddress address,
        boolean transparent,
        boolean useOriginalDst,
        List<ListenerFilterConfig> listenerFilters,
        List<FilterChainConfig> filterChains,
        Optional<FilterChainConfig> defaultFilterChain,
        boolean bindToPort,
        boolean inbound,
        boolean modifyOnlyDrain) {

    public ListenerConfig {
        listenerFilters = List.copyOf(listenerFilters);
        filterChains = List.copyOf(filterChains);
    }

    /** A listener of drain_type DEFAULT. */
    public ListenerConfig(String name, InetSocketAddress address, boolean transparent, boolean useOriginalDst,
                          List<ListenerFilterConfig> listenerFilters, List<FilterChainConfig> filterChains,
                          Optional<FilterChainConfig> defaultFilterChain, boolean bindToPort, boolean inbound) {
        this(name, address, transparent, useOriginalDst, listenerFilters, filterChains, defaultFilterChain, bindToPort, inbound, false);
    }

    /** A listener whose traffic_direction is not INBOUND. */
    public ListenerConfig(String name, InetSocketAddress address, boolean transparent, boolean useOriginalDst,
                          List<ListenerFilterConfig> listenerFilters, List<FilterChainConfig> filterChains,
                          Optional<FilterChainConfig> defaultFilterChain, boolean bindToPort) {
        this(name, address, transparent, useOriginalDst, listenerFilters, filterChains, defaultFilterChain, bindToPort, false);
    }

    public <T extends ListenerFilterConfig> Optional<T> listenerFilter(Class<T> type) {
        return listenerFilters.stream().filter(type::isInstance).map(type::cast).findFirst();
    }
}
