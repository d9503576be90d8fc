package io.sourcemesh.proxy.http;

import io.netty.handler.codec.http.HttpRequest;
import io.sourcemesh.proxy.accesslog.StreamInfo;
import io.sourcemesh.proxy.config.RouteConfig;
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
            if (route != null && route.action() instanceof RouteConfig.Forward f && f.cluster().isPresent()
                    && filter.clusters.get(f.cluster().get()) != null) {
                info.upstreamClusterName(f.cluster().get());
            }
        }
        return route;
    }

    Optional<RouteConfig.Route> route() {
        return Optional.ofNullable(routeOrNull());
    }
}
