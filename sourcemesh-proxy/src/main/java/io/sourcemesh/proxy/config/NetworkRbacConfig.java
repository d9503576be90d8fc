package io.sourcemesh.proxy.config;

import io.sourcemesh.proxy.rbac.RbacConfig;

/**
 * {@code envoy.filters.network.rbac}: checked before the chain's terminal filter; counters are
 * {@code <stat_prefix>rbac.*}. ONE_TIME_ON_FIRST_BYTE decides once, on the connection's first
 * bytes; CONTINUOUS decides again on every read.
 */
public record NetworkRbacConfig(String name, String statPrefix, RbacConfig rbac, Enforcement enforcement)
        implements NetworkFilterConfig {

    public enum Enforcement { ONE_TIME_ON_FIRST_BYTE, CONTINUOUS }
}
