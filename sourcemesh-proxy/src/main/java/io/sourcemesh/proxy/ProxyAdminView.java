package io.sourcemesh.proxy;

import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.sourcemesh.proxy.admin.AdminView;
import io.sourcemesh.proxy.admin.ClusterStatus;
import io.sourcemesh.proxy.admin.HostStatus;
import io.sourcemesh.proxy.admin.ListenerStatus;
import io.sourcemesh.proxy.config.ProxyConfig;
import io.sourcemesh.proxy.listener.ListenerRuntime;
import io.sourcemesh.proxy.stats.Stats;
import io.sourcemesh.proxy.upstream.ClusterRuntime;
import io.sourcemesh.proxy.upstream.UpstreamHost;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** What a running {@link Proxy} shows its admin listener. */
final class ProxyAdminView implements AdminView {
    private final Proxy proxy;

    ProxyAdminView(Proxy proxy) {
        this.proxy = proxy;
    }

    @Override
    public ProxyConfig config() {
        return proxy.config();
    }

    @Override
    public Stats stats() {
        return proxy.stats();
    }

    /** Every listener bound and, with ADS, the first push applied (or the initial fetch timed out). */
    @Override
    public boolean ready() {
        return proxy.config() != null && proxy.initialized();
    }

    /** Once pushes serve, the bootstrap the proxy started from; until then the serving one is it. */
    @Override
    public Bootstrap bootstrap() {
        return proxy.dynamic() ? proxy.startupBootstrap() : AdminView.super.bootstrap();
    }

    @Override
    public boolean dynamic() {
        return proxy.dynamic();
    }

    @Override
    public Instant lastUpdated() {
        return proxy.lastUpdated();
    }

    @Override
    public Instant startedAt() {
        return Instant.ofEpochMilli(proxy.startedAtMillis());
    }

    @Override
    public List<ClusterStatus> clusterStatuses() {
        List<ClusterStatus> out = new ArrayList<>();
        for (ClusterRuntime c : proxy.clusters().all()) {
            List<HostStatus> hosts = new ArrayList<>();
            for (UpstreamHost h : c.hosts()) {
                long total = h.totalRequests();
                long errors = h.errorRequests();
                hosts.add(new HostStatus(h.address(), "", h.weight(), c.ejected(h) ? "/failed_outlier_check" : HostStatus.HEALTHY,
                        h.activeConnections(),
                        h.connectFailures(), h.totalConnections(), h.activeRequests(), errors,
                        Math.max(0, total - errors - h.activeRequests()), 0, total, h.priority(), h.locality().region(),
                        h.locality().zone(), h.locality().subZone()));
            }
            out.add(ClusterStatus.of(c.name(), proxy.dynamic(), hosts));
        }
        return out;
    }

    @Override
    public List<ListenerStatus> listenerStatuses() {
        List<ListenerStatus> out = new ArrayList<>();
        for (ListenerRuntime l : proxy.listeners()) {
            out.add(ListenerStatus.of(l.name(), l.localAddress()));
        }
        return out;
    }
}
