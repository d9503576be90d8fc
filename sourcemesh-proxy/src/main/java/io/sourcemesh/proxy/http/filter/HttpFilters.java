package io.sourcemesh.proxy.http.filter;

import io.sourcemesh.proxy.config.HttpFilterConfig;
import io.sourcemesh.proxy.rbac.RbacHttpFilterFactory;
import io.sourcemesh.proxy.stats.Stats;
import java.util.ArrayList;
import java.util.List;

/**
 * The run-time half of the HTTP filter registry: each translated {@link HttpFilterConfig} to its
 * {@link HttpFilterFactory} (the config half, names and type URLs, is {@code config.Extensions}).
 * The router is not a factory here: it is the stream itself, after the chain.
 */
public final class HttpFilters {
    private HttpFilters() {}

    /** The filters before the router, built once per config version. */
    public static List<HttpFilterFactory> factories(List<HttpFilterConfig> configs, Stats stats, String hcmStatPrefix) {
        List<HttpFilterFactory> out = new ArrayList<>();
        for (HttpFilterConfig c : configs) {
            switch (c) {
                case HttpFilterConfig.Router r -> { }
                case HttpFilterConfig.Rbac rbac -> out.add(RbacHttpFilterFactory.of(rbac.name(), rbac.rbac(), stats, hcmStatPrefix));
                case HttpFilterConfig.Fault fault -> out.add(FaultFilterFactory.of(fault.name(), fault.fault(), stats, hcmStatPrefix));
            }
        }
        return List.copyOf(out);
    }
}
