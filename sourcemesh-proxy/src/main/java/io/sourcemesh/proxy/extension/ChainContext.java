package io.sourcemesh.proxy.extension;

import io.sourcemesh.proxy.accesslog.AccessLog;
import io.sourcemesh.proxy.config.AccessLogConfig;
import io.sourcemesh.proxy.listener.VersionResources;
import io.sourcemesh.proxy.stats.Stats;
import io.sourcemesh.proxy.upstream.ClusterManager;
import java.net.InetAddress;
import java.util.List;
import java.util.function.Function;

/**
 * What a network or HTTP filter is built with: the pieces of one config version its chain shares, and
 * {@code path} (the chain's YAML path) for errors; {@code drain}, the proxy's drain decision its HTTP managers ask;
 * {@code resources}, the listener version's: what a filter owns (closed with the version) and starts once the version
 * serves (never for an update the proxy rejected).
 */
public record ChainContext(ClusterManager clusters, Stats stats, InetAddress localAddress,
        Function<List<AccessLogConfig>, List<AccessLog>> accessLogFactory, String path,
        io.sourcemesh.proxy.listener.DrainDecision drain, VersionResources resources) {

    public List<AccessLog> accessLogs(List<AccessLogConfig> configs) {
        return accessLogFactory.apply(configs);
    }
}
