package io.sourcemesh.proxy.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.sourcemesh.proxy.accesslog.StreamInfo;
import io.sourcemesh.proxy.config.RouteConfig;
import java.util.Optional;

/**
 * One stream's virtual host and route, each resolved once on first ask (Envoy's cached route): an
 * HTTP filter may ask before the router (the fault filter reads the route's
 * {@code typed_per_filter_config}), and the router then uses the same.
 */
final class CachedRoute {
    private final HttpConnectionManagerFilter filter;
    private final HttpRequest request;
    private final StreamInfo info;
    /** Null until resolved. */
    private Optional<RouteConfig.VirtualHost> virtualHost;
    private Optional<RouteConfig.Route> route;

    CachedRoute(HttpConnectionManagerFilter filter, HttpRequest request, StreamInfo info) {
        this.filter = filter;
        this.request = request;
        this.info = info;
    }

    Optional<RouteConfig.VirtualHost> virtualHost() {
        if (virtualHost == null) {
            virtualHost = filter.routes.virtualHost(request.headers().get(HttpHeaderNames.HOST));
        }
        return virtualHost;
    }

    Optional<RouteConfig.Route> route() {
        if (route == null) {
            route = filter.routes.route(request, virtualHost());
            // Envoy's refreshCachedRoute: the route's cluster is the stream's upstream cluster from here on,
            // so a request a filter answers (a fault abort) still logs %UPSTREAM_CLUSTER%.
            if (route.isPresent() && route.get().action() instanceof RouteConfig.Forward f && f.cluster().isPresent()
                    && filter.clusters.get(f.cluster().get()) != null) {
                info.upstreamClusterName(f.cluster().get());
            }
        }
        return route;
    }
}
