package io.sourcemesh.proxy.testing;

import com.google.protobuf.Empty;
import io.sourcemesh.proxy.config.TransportSocketConfig;
import io.sourcemesh.proxy.config.AccessLogConfig;
import io.sourcemesh.proxy.config.ClusterConfig;
import io.sourcemesh.proxy.config.FilterChainConfig;
import io.sourcemesh.proxy.config.FilterChainMatch;
import io.sourcemesh.proxy.config.HttpConnectionManagerConfig;
import io.sourcemesh.proxy.config.HttpFilterConfig;
import io.sourcemesh.proxy.config.ListenerConfig;
import io.sourcemesh.proxy.config.ListenerFilterConfig;
import io.sourcemesh.proxy.config.NetworkFilterConfig;
import io.sourcemesh.proxy.config.NodeInfo;
import io.sourcemesh.proxy.config.ProxyConfig;
import io.sourcemesh.proxy.config.RouteConfig;
import io.sourcemesh.proxy.config.TcpProxyConfig;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** Compact builders of proxy config records for tests that do not go through a bootstrap file. */
public final class Configs {
    private Configs() {}

    public static ProxyConfig proxy(List<ListenerConfig> listeners, List<ClusterConfig> clusters) {
        return new ProxyConfig("test", NodeInfo.unnamed(), Optional.empty(), listeners, clusters, Empty.getDefaultInstance());
    }

    public static ListenerConfig listener(String name, String host, List<ListenerFilterConfig> filters, FilterChainConfig... chains) {
        return new ListenerConfig(name, new InetSocketAddress(host, 0), false, false, filters, List.of(chains), Optional.empty(), true);
    }

    public static FilterChainConfig chain(NetworkFilterConfig filter) {
        return new FilterChainConfig("", FilterChainMatch.any(), TransportSocketConfig.RAW_BUFFER, List.of(filter));
    }

    public static HttpConnectionManagerConfig hcm(RouteConfig routes, boolean useRemoteAddress, List<AccessLogConfig> logs) {
        return new HttpConnectionManagerConfig("envoy.filters.network.http_connection_manager", "ingress_http", routes,
                List.of(new HttpFilterConfig.Router("envoy.filters.http.router")), useRemoteAddress, 0, false,
                Optional.empty(), false, Optional.empty(), true, false, false, Optional.empty(), Optional.empty(),
                Optional.empty(), List.of("websocket"), logs, "SANITIZE", false);
    }

    public static TcpProxyConfig tcp(String cluster, List<AccessLogConfig> logs) {
        return new TcpProxyConfig("envoy.filters.network.tcp_proxy", "tcp", Optional.of(cluster), List.of(),
                Optional.empty(), logs);
    }

    /** One virtual host "*" routing every path to {@code cluster}. */
    public static RouteConfig routeAll(String cluster) {
        return routes(route("default", "/", forward(cluster)));
    }

    public static RouteConfig routes(RouteConfig.Route... routes) {
        return new RouteConfig("local_route", List.of(new RouteConfig.VirtualHost("all", List.of("*"), List.of(routes))));
    }

    public static RouteConfig.Route route(String name, String prefix, RouteConfig.RouteAction action) {
        return new RouteConfig.Route(name, RouteConfig.RouteMatch.ofPrefix(prefix), action);
    }

    public static RouteConfig.Forward forward(String cluster) {
        return new RouteConfig.Forward(Optional.of(cluster), List.of(), Optional.empty(), Optional.empty(), Optional.empty(), List.of());
    }

    public static RouteConfig.Forward forward(String cluster, Duration timeout) {
        return new RouteConfig.Forward(Optional.of(cluster), List.of(), Optional.of(timeout), Optional.empty(), Optional.empty(), List.of());
    }

    public static ClusterConfig staticCluster(String name, InetSocketAddress... endpoints) {
        return cluster(name, Optional.empty(), endpoints);
    }

    public static ClusterConfig cluster(String name, Optional<InetSocketAddress> bind, InetSocketAddress... endpoints) {
        return new ClusterConfig(name, ClusterConfig.DiscoveryType.STATIC, ClusterConfig.LbPolicy.ROUND_ROBIN,
                java.util.Arrays.stream(endpoints).map(e -> new ClusterConfig.Endpoint(e, 1)).toList(),
                Duration.ofSeconds(2), bind, ClusterConfig.RingHash.defaults(), Optional.empty(), 0);
    }

    public static AccessLogConfig fileLog(java.nio.file.Path path, java.util.Map<String, Object> json) {
        return new AccessLogConfig("envoy.access_loggers.file",
                new AccessLogConfig.Sink(AccessLogConfig.Sink.Kind.FILE, Optional.of(path.toString())), Optional.empty(),
                Optional.of(json));
    }
}
