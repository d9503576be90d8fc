package io.sourcemesh.proxy.http;

import io.netty.handler.codec.http.HttpRequest;
import io.sourcemesh.proxy.accesslog.StreamInfo;
import io.sourcemesh.proxy.config.RouteConfig;
import io.sourcemesh.proxy.upstream.ClusterRuntime;
import java.util.Optional;

/**
 * One stream's virtual host and route, each resolved once on first ask (Envoy's cached route): an
 * HTTP filter may ask before the router (the fault filter reads the route's
 * {@code typed_per_filter_config}), and the router then uses the same. Held as nullable references
 * (no {@code Optional} per request on the router's path); filters get an {@code Optional}.
 */
final class CachedRoute {
    private final HttpConnectionManagerFilter filter;
    private final HttpRequest request;
    private final StreamInfo info;
    private boolean virtualHostResolved;
    private boolean routeResolved;
    private RouteConfig.VirtualHost virtualHost;
    private RouteConfig.Route route;
    /** The route's one cluster as the route resolved it (null: none, a weighted route, or not in the cluster manager). */
    private ClusterRuntime routeCluster;

    CachedRoute(HttpConnectionManagerFilter filter, HttpRequest request, StreamInfo info) {
        this.filter = filter;
        this.request = request;
        this.info = info;
    }

    /** The virtual host, or null when none matches. */
    RouteConfig.VirtualHost virtualHostOrNull() {
        if (!virtualHostResolved) {
            virtualHost = filter.routes.virtualHostOrNull(request);
            virtualHostResolved = true;
        }
        return virtualHost;
    }

    /** The route, or null when none matches. */
    RouteConfig.Route routeOrNull() {
        if (!routeResolved) {
            route = filter.routes.routeOrNull(request, virtualHostOrNull());
            routeResolved = true;
            // Envoy's refreshCachedRoute: the route's cluster is the stream's upstream cluster from here on,
            // so a request a filter answers (a fault abort) still logs %UPSTREAM_CLUSTER%.
            if (route != null && route.action() instanceof RouteConfig.Forward f && f.cluster().isPresent()) {
                routeCluster = filter.clusters.get(f.cluster().get());
                if (routeCluster != null) {
                    info.upstreamClusterName(f.cluster().get());
                }
            }
        }
        return route;
    }

    /**
     * The cluster named {@code name}: the one the route resolved when it is that one and no config update replaced
     * it since (a filter may have paused the stream), so a request looks its cluster up once, not twice.
     */
    ClusterRuntime cluster(String name) {
        ClusterRuntime c = routeCluster;
        return c != null && !c.closed() && c.name().equals(name) ? c : filter.clusters.get(name);
    }

    Optional<RouteConfig.Route> route() {
        return Optional.ofNullable(routeOrNull());
    }
}
