package io.sourcemesh.proxy.extension;

import io.sourcemesh.proxy.accesslog.AccessLog;
import io.sourcemesh.proxy.accesslog.AccessLogs;
import io.sourcemesh.proxy.config.AccessLogConfig;
import io.sourcemesh.proxy.config.ConfigException;
import io.sourcemesh.proxy.config.Extensions;
import io.sourcemesh.proxy.config.HttpConnectionManagerConfig;
import io.sourcemesh.proxy.config.HttpFilterConfig;
import io.sourcemesh.proxy.config.ListenerFilterConfig;
import io.sourcemesh.proxy.config.NetworkFilterConfig;
import io.sourcemesh.proxy.config.NetworkRbacConfig;
import io.sourcemesh.proxy.config.TcpProxyConfig;
import io.sourcemesh.proxy.config.TransportSocketConfig;
import io.sourcemesh.proxy.http.HttpConnectionManagerFilter;
import io.sourcemesh.proxy.http.filter.CorsFilterFactory;
import io.sourcemesh.proxy.http.filter.FaultFilterFactory;
import io.sourcemesh.proxy.http.filter.HttpFilterFactory;
import io.sourcemesh.proxy.listener.ListenerFilter;
import io.sourcemesh.proxy.listener.OriginalSrcFilter;
import io.sourcemesh.proxy.listener.ProxyProtocolFilter;
import io.sourcemesh.proxy.listener.TlsInspectorFilter;
import io.sourcemesh.proxy.network.DownstreamTransportSocket;
import io.sourcemesh.proxy.network.NetworkFilterFactory;
import io.sourcemesh.proxy.jwt.filter.JwtAuthnFilterFactory;
import io.sourcemesh.proxy.rbac.filter.RbacHttpFilterFactory;
import io.sourcemesh.proxy.rbac.filter.RbacNetworkFilterFactory;
import io.sourcemesh.proxy.tcp.TcpProxyFilter;
import io.sourcemesh.proxy.tls.DownstreamTlsSocket;
import io.sourcemesh.proxy.upstream.UpstreamTransportSocket;
import io.sourcemesh.proxy.tls.UpstreamTlsSocket;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The run-time half of the one extension registry: for an extension of {@link Extensions} (name,
 * deprecated names, config type, category), the factory that builds it from its translated config
 * record. The chain builder asks here for listener, network and HTTP filters, transport sockets
 * (a filter chain's and a cluster's) and access loggers; an
 * extension registered here must be in {@link Extensions} under the same category, or the proxy
 * refuses to start (tested). To add one: its entry in {@code Extensions}, its translation to a
 * config record, and one {@code register} line below.
 */
public final class ExtensionFactories {

    /**
     * Builds one HTTP filter's factory for one config version (one filter per stream comes from it); {@code chain}: the
     * version's stats, the proxy's clusters (for a filter that calls one itself, as jwt_authn's remote JWKS) and the
     * version's resources (what the filter starts once served and closes with the version).
     */
    @FunctionalInterface
    public interface HttpFilters<C extends HttpFilterConfig> {
        HttpFilterFactory create(C config, String hcmStatPrefix, ChainContext chain);
    }

    /** Builds one network filter for a filter chain of one config version. */
    @FunctionalInterface
    public interface NetworkFilters<C extends NetworkFilterConfig> {
        NetworkFilterFactory create(C config, ChainContext chain);
    }

    /** Builds one listener filter's factory for one listener version (null: the listener runs it itself). */
    @FunctionalInterface
    public interface ListenerFilters<C extends ListenerFilterConfig> {
        ListenerFilter.Factory create(C config);
    }

    /** Builds one access log (its sink is opened here). */
    @FunctionalInterface
    public interface AccessLoggers {
        AccessLog create(AccessLogConfig config);
    }

    /** Builds a filter chain's transport socket for one config version ({@code path} names it in errors). */
    @FunctionalInterface
    public interface DownstreamTransportSockets<C extends TransportSocketConfig> {
        /** {@code httpAlpn}: the ALPN protocols the chain's HTTP connection manager speaks; empty when the chain is not HTTP. */
        DownstreamTransportSocket create(C config, List<String> httpAlpn, String path);
    }

    /** Builds a cluster's transport socket. */
    @FunctionalInterface
    public interface UpstreamTransportSockets<C extends TransportSocketConfig> {
        UpstreamTransportSocket create(C config);
    }

    /** One registration: the extension, the config record it is translated to, its factory. */
    public record Registration(Extensions.Extension extension, Class<?> configType, Object factory) {}

    private static final ExtensionFactories STANDARD = standard();

    /** A config record is unique within a category (raw_buffer's is on both transport-socket sides). */
    private record Key(Extensions.Category category, Object id) {
        // Written out: a record's generated equals and hashCode are bootstrapped at their first call, which an
        // AOT cache does not hold (a start's map puts would bootstrap them each time).
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && category == k.category && id.equals(k.id);
        }

        @Override
        public int hashCode() {
            return 31 * category.hashCode() + id.hashCode();
        }
    }

    private final Map<Key, Registration> byConfigType = new LinkedHashMap<>();
    private final Map<Key, Registration> byName = new LinkedHashMap<>();

    private ExtensionFactories() {}

    /** Every extension this proxy builds. */
    public static ExtensionFactories get() {
        return STANDARD;
    }

    private static ExtensionFactories standard() {
        ExtensionFactories r = new ExtensionFactories();
        // Listener filters, in the order they run whatever order the config lists them in (the PROXY
        // header comes before a ClientHello). original_dst is the listener's own step (it serves
        // use_original_dst too: listener.ConnectionSetup), so its factory builds nothing here.
        r.register("envoy.filters.listener.original_dst", ListenerFilterConfig.OriginalDst.class,
                (ListenerFilters<ListenerFilterConfig.OriginalDst>) c -> null);
        r.register("envoy.filters.listener.original_src", ListenerFilterConfig.OriginalSrc.class,
                (ListenerFilters<ListenerFilterConfig.OriginalSrc>) OriginalSrcFilter::factory);
        r.register("envoy.filters.listener.proxy_protocol", ListenerFilterConfig.ProxyProtocol.class,
                (ListenerFilters<ListenerFilterConfig.ProxyProtocol>) ProxyProtocolFilter::factory);
        r.register("envoy.filters.listener.tls_inspector", ListenerFilterConfig.TlsInspector.class,
                (ListenerFilters<ListenerFilterConfig.TlsInspector>) c -> TlsInspectorFilter.factory());
        // HTTP filters. The router is the stream's terminal filter (http.Router), not a factory: it builds nothing here.
        r.register("envoy.filters.http.router", HttpFilterConfig.Router.class, (HttpFilters<HttpFilterConfig.Router>) (c, p, chain) -> null);
        r.register("envoy.filters.http.rbac", HttpFilterConfig.Rbac.class,
                (HttpFilters<HttpFilterConfig.Rbac>) (c, p, chain) -> RbacHttpFilterFactory.of(c.name(), c.rbac(), chain.stats(), p));
        r.register("envoy.filters.http.fault", HttpFilterConfig.Fault.class,
                (HttpFilters<HttpFilterConfig.Fault>) (c, p, chain) -> FaultFilterFactory.of(c.name(), c.fault(), chain.stats(), p));
        r.register("envoy.filters.http.jwt_authn", HttpFilterConfig.JwtAuthn.class,
                (HttpFilters<HttpFilterConfig.JwtAuthn>) (c, p, chain) -> JwtAuthnFilterFactory.of(c.name(), c.jwt(), chain.stats(), p,
                        chain.clusters(), chain.resources()));
        r.register("envoy.filters.http.cors", HttpFilterConfig.Cors.class,
                (HttpFilters<HttpFilterConfig.Cors>) (c, p, chain) -> CorsFilterFactory.of(c.name(), chain.stats(), p));
        // Network filters.
        r.register("envoy.filters.network.tcp_proxy", TcpProxyConfig.class, (NetworkFilters<TcpProxyConfig>) (c, chain) ->
                new TcpProxyFilter(c, chain.clusters(), chain.accessLogs(c.accessLogs()), chain.stats()));
        r.register("envoy.filters.network.http_connection_manager", HttpConnectionManagerConfig.class,
                (NetworkFilters<HttpConnectionManagerConfig>) (c, chain) -> {
                    try {
                        return new HttpConnectionManagerFilter(c, chain.clusters(), chain.accessLogs(c.accessLogs()),
                                r.httpFilters(c.httpFilters(), c.statPrefix(), chain), chain.stats(), chain.localAddress(), chain.drain());
                    } catch (IllegalArgumentException e) {
                        throw new ConfigException(chain.path() + ".filters", e.getMessage());
                    }
                });
        r.register("envoy.filters.network.rbac", NetworkRbacConfig.class,
                (NetworkFilters<NetworkRbacConfig>) (c, chain) -> RbacNetworkFilterFactory.of(c, chain.stats()));
        // Transport sockets, each side with its own factory (Envoy's tls and raw_buffer are registered on both).
        r.register("envoy.transport_sockets.raw_buffer", TransportSocketConfig.RawBuffer.class,
                (DownstreamTransportSockets<TransportSocketConfig.RawBuffer>) (c, alpn, path) -> DownstreamTransportSocket.RAW_BUFFER);
        r.register("envoy.transport_sockets.tls", TransportSocketConfig.DownstreamTls.class,
                (DownstreamTransportSockets<TransportSocketConfig.DownstreamTls>) (c, alpn, path) ->
                        DownstreamTlsSocket.of(c.context(), alpn, path));
        r.register("envoy.transport_sockets.raw_buffer", TransportSocketConfig.RawBuffer.class,
                (UpstreamTransportSockets<TransportSocketConfig.RawBuffer>) c -> UpstreamTransportSocket.RAW_BUFFER);
        r.register("envoy.transport_sockets.tls", TransportSocketConfig.UpstreamTls.class,
                (UpstreamTransportSockets<TransportSocketConfig.UpstreamTls>) c -> UpstreamTlsSocket.of(c.tls(), "transport_socket"));
        r.register("envoy.transport_sockets.upstream_proxy_protocol", TransportSocketConfig.UpstreamProxyProtocol.class,
                (UpstreamTransportSockets<TransportSocketConfig.UpstreamProxyProtocol>) c ->
                        UpstreamTransportSocket.proxyProtocol(c.version().number(), r.upstreamTransportSocket(c.inner())));
        // Access loggers: one config record for the three sinks, told apart by its sink kind.
        AccessLoggers logs = AccessLogs::create;
        r.register("envoy.access_loggers.file", AccessLogConfig.class, logs);
        r.register("envoy.access_loggers.stdout", null, logs);
        r.register("envoy.access_loggers.stderr", null, logs);
        return r;
    }

    private void register(String name, Class<?> configType, Object factory) {
        Extensions.Category expected = category(factory);
        Extensions.Extension e = Extensions.byName(expected, name)
                .filter(x -> x.name().equals(name))
                .orElseThrow(() -> new IllegalStateException(name + " is not a canonical name of " + expected.description()
                        + " in config.Extensions"));
        Registration reg = new Registration(e, configType, factory);
        byName.put(new Key(expected, name), reg);
        if (configType != null) {
            byConfigType.put(new Key(expected, configType), reg);
        }
    }

    /**
     * The factory's category. An {@code instanceof} chain, not a pattern {@code switch}: the JDK builds a type
     * switch's dispatch class at its first run, which an AOT cache does not hold (a few ms of every start).
     */
    private static Extensions.Category category(Object factory) {
        if (factory instanceof ListenerFilters<?>) {
            return Extensions.Category.LISTENER_FILTER;
        } else if (factory instanceof HttpFilters<?>) {
            return Extensions.Category.HTTP_FILTER;
        } else if (factory instanceof NetworkFilters<?>) {
            return Extensions.Category.NETWORK_FILTER;
        } else if (factory instanceof AccessLoggers) {
            return Extensions.Category.ACCESS_LOGGER;
        } else if (factory instanceof DownstreamTransportSockets<?>) {
            return Extensions.Category.DOWNSTREAM_TRANSPORT_SOCKET;
        } else if (factory instanceof UpstreamTransportSockets<?>) {
            return Extensions.Category.UPSTREAM_TRANSPORT_SOCKET;
        }
        throw new IllegalStateException("unknown factory kind " + factory.getClass().getName());
    }

    /** Every registration, in order. */
    public List<Registration> registrations() {
        return List.copyOf(byName.values());
    }

    /** The registration for a translated config record; refuses one nothing builds. */
    public Registration of(Object config) {
        List<Registration> found = byConfigType.entrySet().stream().filter(e -> e.getKey().id().equals(config.getClass()))
                .map(Map.Entry::getValue).toList();
        if (found.size() != 1) {
            throw new IllegalStateException(found.isEmpty() ? "no factory is registered for " + config.getClass().getName()
                    : config.getClass().getName() + " is registered in several categories: ask with one");
        }
        return found.getFirst();
    }

    /** The registration for a translated config record of {@code category}; refuses one nothing builds. */
    public Registration of(Extensions.Category category, Object config) {
        Registration r = byConfigType.get(new Key(category, config.getClass()));
        if (r == null) {
            throw new IllegalStateException("no factory of " + category.description() + " is registered for "
                    + config.getClass().getName());
        }
        return r;
    }

    /** A listener's filters, in the order they run (the registry's), built once per listener version. */
    @SuppressWarnings("unchecked")
    public List<ListenerFilter.Factory> listenerFilters(List<ListenerFilterConfig> configs) {
        List<ListenerFilter.Factory> out = new ArrayList<>();
        for (Registration r : byName.values()) {
            for (ListenerFilterConfig c : configs) {
                if (c.getClass().equals(r.configType())) {
                    ListenerFilter.Factory f = ((ListenerFilters<ListenerFilterConfig>) r.factory()).create(c);
                    if (f != null) {
                        out.add(f);
                    }
                    break; // one of each kind, as ListenerConfig.listenerFilter finds it
                }
            }
        }
        return List.copyOf(out);
    }

    /** The HTTP filters before the router, built once per config version, in order. */
    @SuppressWarnings("unchecked")
    public List<HttpFilterFactory> httpFilters(List<HttpFilterConfig> configs, String hcmStatPrefix, ChainContext chain) {
        List<HttpFilterFactory> out = new ArrayList<>();
        for (HttpFilterConfig c : configs) {
            HttpFilterFactory f = ((HttpFilters<HttpFilterConfig>) of(Extensions.Category.HTTP_FILTER, c).factory())
                    .create(c, hcmStatPrefix, chain);
            if (f != null) {
                out.add(f);
            }
        }
        return List.copyOf(out);
    }

    @SuppressWarnings("unchecked")
    public NetworkFilterFactory networkFilter(NetworkFilterConfig config, ChainContext chain) {
        return ((NetworkFilters<NetworkFilterConfig>) of(Extensions.Category.NETWORK_FILTER, config).factory()).create(config, chain);
    }

    public AccessLog accessLog(AccessLogConfig config) {
        return ((AccessLoggers) of(Extensions.Category.ACCESS_LOGGER, config).factory()).create(config);
    }

    /** A filter chain's transport socket, built once per config version. */
    @SuppressWarnings("unchecked")
    public DownstreamTransportSocket downstreamTransportSocket(TransportSocketConfig config, List<String> httpAlpn, String path) {
        return ((DownstreamTransportSockets<TransportSocketConfig>) of(Extensions.Category.DOWNSTREAM_TRANSPORT_SOCKET, config)
                .factory()).create(config, httpAlpn, path);
    }

    /** A cluster's transport socket, built once per cluster. */
    @SuppressWarnings("unchecked")
    public UpstreamTransportSocket upstreamTransportSocket(TransportSocketConfig config) {
        return ((UpstreamTransportSockets<TransportSocketConfig>) of(Extensions.Category.UPSTREAM_TRANSPORT_SOCKET, config)
                .factory()).create(config);
    }
}
