package io.sourcemesh.proxy.http;

import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.sourcemesh.proxy.accesslog.AccessLog;
import io.sourcemesh.proxy.config.HttpConnectionManagerConfig;
import io.sourcemesh.proxy.listener.DrainDecision;
import io.sourcemesh.proxy.http.filter.HttpFilterFactory;
import io.sourcemesh.proxy.http.forwarded.ForwardedForConfig;
import io.sourcemesh.proxy.http.forwarded.InternalAddressConfig;
import io.sourcemesh.proxy.http.forwarded.RequestHeaderMutator;
import io.sourcemesh.proxy.network.ConnectionContext;
import io.sourcemesh.proxy.network.NetworkFilterFactory;
import io.sourcemesh.proxy.stats.Stats;
import io.sourcemesh.proxy.upstream.ClusterManager;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * {@code envoy.filters.network.http_connection_manager} for HTTP/1.1 and HTTP/2: everything a connection's
 * streams share, built once per config version — the compiled route table, the client-address
 * policy, access logs and stats. Each connection gets an {@link HttpConnection}; one that turns out to speak
 * HTTP/2 (codec_type, ALPN or its preface) becomes an {@link H2Connection} with an {@link HttpConnection} per stream.
 */
public final class HttpConnectionManagerFilter implements NetworkFilterFactory {
    /** Envoy's default route timeout. */
    static final Duration DEFAULT_ROUTE_TIMEOUT = Duration.ofSeconds(15);
    /** Envoy's default max_request_headers_kb is 60. */
    static final int MAX_HEADER_BYTES = 60 * 1024;

    final HttpConnectionManagerConfig config;
    final RouteTable routes;
    final RequestHeaderMutator headerMutator;
    final List<AccessLog> accessLogs;
    final ClusterManager clusters;
    final Set<String> upgradeTypes;
    final String serverName;
    final Stats.Counter cxTotal;
    final Stats.Gauge cxActive;
    final Stats.Counter rqTotal;
    final Stats.Gauge rqActive;
    final Stats.Counter[] rqByClass = new Stats.Counter[6];
    final Stats.Counter noRoute;
    final Stats.Counter noCluster;
    /** Upgrades refused because upgrade_configs does not allow their type (Envoy's name, from its WebSocket days). */
    final Stats.Counter rqWsOnNonWsRoute;
    /** Responses that started before their request's body had all arrived (the connection then closes). */
    final Stats.Counter rqResponseBeforeRqComplete;
    /** Requests whose target is not a path once the codec took it (OPTIONS *): 404, as Envoy. */
    final Stats.Counter rqNonRelativePath;
    /** Requests refused for their path before any rule saw it (a #fragment), 400 as Envoy. */
    final Stats.Counter rqFailedPathNormalization;
    final Stats.Counter rqRedirectedWithNormalizedPath;
    final Stats.Counter rqTimeout;
    /** The HTTP filters before the router, in order. */
    final List<HttpFilterFactory> httpFilters;
    final Stats.Counter cxIdleTimeout;
    final Stats.Counter rqHeaderTimeout;
    /** HTTP/2 connections closed for too many streams reset before their response (H2Connection, CVE-2023-44487). */
    final Stats.Counter rqTooManyPrematureResets;
    final Stats.Counter rqIdleTimeout;
    final Stats.Counter rqOverallTimeout;
    /** The connection manager's four clocks, shared by every connection of this config version. */
    final ConnectionTimers.Limits timeouts;
    final HttpDecoderConfig decoderConfig;
    /** Envoy's downstream_cx_http2_total / _active and downstream_rq_http2_total. */
    final Stats.Counter cxHttp2Total;
    final Stats.Gauge cxHttp2Active;
    final Stats.Counter rqHttp2Total;
    /** The http2.* codec stats, counted from the frames (one frame logger for all this version's connections). */
    final H2Stats h2Stats;
    /** How upstream connections are made: the cluster manager's connector (a unit test's stand-in). */
    final Connector connector;
    /**
     * The proxy's drain decision, asked once per request (Envoy's drainClose); null when it never drains (a MODIFY_ONLY
     * listener's, or outside a proxy): that is known once for the listener, and nothing is asked per request.
     */
    final DrainDecision drain;

    /** Makes one upstream connection on {@code loop}, {@code initializer} installing its pipeline. */
    interface Connector {
        io.netty.channel.ChannelFuture connect(io.netty.channel.EventLoop loop, java.net.InetSocketAddress destination,
                io.sourcemesh.l4.SourceBinding binding, Duration timeout, io.sourcemesh.l4.TcpKeepalive keepalive,
                io.netty.channel.ChannelHandler initializer);
    }

    /**
     * @param localAddress the proxy's own address (Envoy's LocalInfo address), which XFF gets
     *                     instead of a peer that is exactly the loopback host
     */
    public HttpConnectionManagerFilter(HttpConnectionManagerConfig config, ClusterManager clusters, List<AccessLog> accessLogs,
            List<HttpFilterFactory> httpFilters, Stats stats, java.net.InetAddress localAddress) {
        this(config, clusters, accessLogs, httpFilters, stats, localAddress, DrainDecision.NEVER);
    }

    /** @param drain the proxy's drain decision, asked at each request (the admin's /healthcheck/fail) */
    public HttpConnectionManagerFilter(HttpConnectionManagerConfig config, ClusterManager clusters, List<AccessLog> accessLogs,
            List<HttpFilterFactory> httpFilters, Stats stats, java.net.InetAddress localAddress, DrainDecision drain) {
        this(config, clusters, accessLogs, httpFilters, stats, localAddress,
                (loop, destination, binding, timeout, keepalive, initializer) -> clusters.connector().connect(loop, destination,
                        binding, timeout, keepalive, initializer), drain);
    }

    HttpConnectionManagerFilter(HttpConnectionManagerConfig config, ClusterManager clusters, List<AccessLog> accessLogs,
            List<HttpFilterFactory> httpFilters, Stats stats, java.net.InetAddress localAddress, Connector connector) {
        this(config, clusters, accessLogs, httpFilters, stats, localAddress, connector, DrainDecision.NEVER);
    }

    HttpConnectionManagerFilter(HttpConnectionManagerConfig config, ClusterManager clusters, List<AccessLog> accessLogs,
            List<HttpFilterFactory> httpFilters, Stats stats, java.net.InetAddress localAddress, Connector connector,
            DrainDecision drain) {
        this.drain = drain.constant() ? null : drain;
        this.connector = connector;
        this.config = config;
        this.timeouts = ConnectionTimers.Limits.of(config.limits().idleTimeout(), config.limits().requestHeadersTimeout(),
                config.requestTimeout(), config.streamIdleTimeout());
        this.decoderConfig = decoderConfig();
        this.routes = new RouteTable(config.routeConfig());
        InternalAddressConfig internal = config.internalAddressCidrs()
                .map(c -> new InternalAddressConfig(c, false))
                .orElseGet(InternalAddressConfig::defaults);
        this.headerMutator = RequestHeaderMutator.of(new ForwardedForConfig(config.useRemoteAddress(),
                config.xffNumTrustedHops(), config.skipXffAppend(), config.xffTrustedCidrs().orElse(null),
                config.xffRecurse(), internal, config.generateRequestId(), config.preserveExternalRequestId(),
                config.alwaysSetRequestIdInResponse(), localAddress, config.routeConfig().internalOnlyHeaders()));
        this.accessLogs = List.copyOf(accessLogs);
        this.clusters = clusters;
        this.upgradeTypes = config.upgradeTypes().stream().map(s -> s.toLowerCase(Locale.ROOT)).collect(Collectors.toSet());
        this.serverName = config.serverName().orElse("envoy");
        String p = "http." + config.statPrefix() + ".";
        cxTotal = stats.counter(p + "downstream_cx_total");
        cxActive = stats.gauge(p + "downstream_cx_active");
        rqTotal = stats.counter(p + "downstream_rq_total");
        rqActive = stats.gauge(p + "downstream_rq_active");
        for (int i = 1; i <= 5; i++) {
            rqByClass[i] = stats.counter(p + "downstream_rq_" + i + "xx");
        }
        noRoute = stats.counter(p + "no_route");
        noCluster = stats.counter(p + "no_cluster");
        rqWsOnNonWsRoute = stats.counter(p + "downstream_rq_ws_on_non_ws_route");
        rqResponseBeforeRqComplete = stats.counter(p + "downstream_rq_response_before_rq_complete");
        rqNonRelativePath = stats.counter(p + "downstream_rq_non_relative_path");
        rqFailedPathNormalization = stats.counter(p + "downstream_rq_failed_path_normalization");
        rqRedirectedWithNormalizedPath = stats.counter(p + "downstream_rq_redirected_with_normalized_path");
        rqTimeout = stats.counter(p + "downstream_rq_timeout");
        this.httpFilters = List.copyOf(httpFilters);
        cxIdleTimeout = stats.counter(p + "downstream_cx_idle_timeout");
        rqHeaderTimeout = stats.counter(p + "downstream_rq_header_timeout");
        rqTooManyPrematureResets = stats.counter(p + "downstream_rq_too_many_premature_resets");
        rqIdleTimeout = stats.counter(p + "downstream_rq_idle_timeout");
        rqOverallTimeout = rqTimeout;
        cxHttp2Total = stats.counter(p + "downstream_cx_http2_total");
        cxHttp2Active = stats.gauge(p + "downstream_cx_http2_active");
        rqHttp2Total = stats.counter(p + "downstream_rq_http2_total");
        h2Stats = new H2Stats(stats, p);
    }

    /** The downstream codec's settings: one for the config version, read by each connection's codec. */
    private HttpDecoderConfig decoderConfig() {
        int maxHeaderBytes = config.limits().maxRequestHeadersKb() * 1024;
        // Strict CRLF lines and RFC 9112 Transfer-Encoding; the request line counts toward the header limit, as in Envoy.
        return new HttpDecoderConfig()
                .setMaxInitialLineLength(maxHeaderBytes)
                .setMaxHeaderSize(maxHeaderBytes)
                .setMaxChunkSize(64 * 1024)
                // Netty's line scratch space serves only what PlainHeads passes on: it starts at a byte, not 128 per connection
                .setInitialBufferSize(1)
                .setStrictLineParsing(true)
                .setUseRfc9112TransferEncoding(true)
                .setAllowDuplicateContentLengths(false)
                .setHeadersFactory(FlatHeaders.FACTORY)
                .setTrailersFactory(SmallTrailers.FACTORY);
    }

    @Override
    public void install(ChannelPipeline pipeline, ConnectionContext connection) {
        HttpConnection http = new HttpConnection(this, connection);
        pipeline.addLast("http-codec", http.newCodec());
        // "Expect: 100-continue" is answered by HttpConnection itself: no handler (and pipeline context) of its own.
        pipeline.addLast("http-connection-manager", http);
    }
}
