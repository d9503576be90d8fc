package io.sourcemesh.proxy.admin;

import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.sourcemesh.proxy.config.ProxyConfig;
import io.sourcemesh.proxy.stats.Stats;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the running proxy shows its admin listener. Every method is called per admin request, on
 * the admin event loop, and must return a consistent snapshot without blocking.
 */
public interface AdminView {

    /** The Envoy release line whose v3 API we speak, marked as ours; Envoy tools parse the prefix. */
    String VERSION = "1.34.0-sourcemesh";

    /** The config version now serving. */
    ProxyConfig config();

    Stats stats();

    /** True once every listener is bound. */
    boolean ready();

    /** Per cluster, per host, in the cluster manager's order. */
    List<ClusterStatus> clusterStatuses();

    /** Per listener, with the address actually bound. */
    List<ListenerStatus> listenerStatuses();

    /**
     * True when {@link #config()} came over ADS: its listeners, clusters and routes are then dumped
     * as dynamic (with {@code version_info}), except those the startup {@link #bootstrap()} names in
     * its {@code static_resources}.
     */
    default boolean dynamic() {
        return false;
    }

    /**
     * The bootstrap the proxy started from, for {@code BootstrapConfigDump}. Override it when
     * {@link #dynamic()}: {@code config().source()} is then built from the xDS resources.
     */
    default Bootstrap bootstrap() {
        return config().source() instanceof Bootstrap b ? b : Bootstrap.getDefaultInstance();
    }

    /** When {@link #config()} became the serving version ({@code last_updated} in the dump). */
    default Instant lastUpdated() {
        return startedAt();
    }

    /** When this proxy process started; the default is the JVM's own start. */
    default Instant startedAt() {
        return Instant.ofEpochMilli(ManagementFactory.getRuntimeMXBean().getStartTime());
    }

    /** Envoy's server state; the admin server reports DRAINING itself after /healthcheck/fail. */
    default ServerState state() {
        return ready() ? ServerState.LIVE : ServerState.INITIALIZING;
    }

    /** The scalar part of {@code /server_info}, keyed by Envoy's JSON field names. */
    default Map<String, String> serverInfo() {
        long uptime = Math.max(0, Duration.between(startedAt(), Instant.now()).toSeconds());
        Map<String, String> info = new LinkedHashMap<>();
        info.put("version", VERSION);
        info.put("state", state().name());
        info.put("uptime_current_epoch", uptime + "s");
        info.put("uptime_all_epochs", uptime + "s");
        return info;
    }
}
