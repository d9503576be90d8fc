package io.sourcemesh.proxy.config;

import static io.sourcemesh.proxy.config.Protos.at;
import static io.sourcemesh.proxy.config.Protos.only;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.bootstrap.v3.Admin;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.core.v3.TrafficDirection;
import io.envoyproxy.envoy.config.core.v3.TransportSocket;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.listener.v3.ListenerFilter;
import io.envoyproxy.envoy.extensions.filters.listener.original_dst.v3.OriginalDst;
import io.envoyproxy.envoy.extensions.filters.listener.original_src.v3.OriginalSrc;
import io.envoyproxy.envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol;
import io.envoyproxy.envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy;
import io.envoyproxy.envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.IntStream;

/**
 * Envoy v3 protos → the proxy's immutable {@link ProxyConfig}. Every message is checked against an
 * allow-list of the fields we honour: a field that is set but not supported is an error naming its
 * path (snake_case, as written in YAML), never silently ignored.
 */
public final class ConfigTranslator {

    /** Envoy's default for {@code connect_timeout}. */
    static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);

    private ConfigTranslator() {}

    /**
     * A bootstrap: node, admin, static_resources listeners and clusters, and dynamic_resources when
     * they come over ADS ({@link ProxyConfig#ads()}). Paths in errors start at {@code listeners[i]} /
     * {@code clusters[i]}, the same as for {@link #fromResources}.
     */
    public static ProxyConfig translate(Bootstrap bootstrap) {
        only(bootstrap, "", "node", "static_resources", "dynamic_resources", "admin");
        only(bootstrap.getStaticResources(), "static_resources", "listeners", "clusters");
        NodeInfo node = bootstrap.hasNode() ? node(bootstrap.getNode(), "node") : NodeInfo.unnamed();
        Optional<AdminConfig> admin = bootstrap.hasAdmin() ? Optional.of(admin(bootstrap.getAdmin(), "admin")) : Optional.empty();
        List<Cluster> clusters = bootstrap.getStaticResources().getClustersList();
        Optional<AdsConfig> ads = bootstrap.hasDynamicResources()
                ? AdsTranslator.ads(bootstrap.getDynamicResources(), "dynamic_resources", clusters)
                : Optional.empty();
        if (ads.isPresent() && (node.id().isEmpty() || node.cluster().isEmpty())) {
            // Envoy's own rule for a proxy fed over xDS: the server keys its config on them.
            throw new ConfigException("node", "id and cluster are required with dynamic_resources (ADS)");
        }
        return build("bootstrap", node, admin, bootstrap.getStaticResources().getListenersList(), clusters, bootstrap, ads);
    }

    /**
     * The ADS path: listeners and clusters pushed together, validated exactly as a bootstrap's.
     * Paths in errors read {@code listeners[i]...} and {@code clusters[i]...}.
     */
    public static ProxyConfig fromResources(List<Listener> listeners, List<Cluster> clusters, String version, NodeInfo node) {
        Bootstrap source = Bootstrap.newBuilder()
                .setStaticResources(Bootstrap.StaticResources.newBuilder().addAllListeners(listeners).addAllClusters(clusters))
                .build();
        return build(version, node, Optional.empty(), listeners, clusters, source, Optional.empty());
    }

    /**
     * A push on top of the bootstrap the proxy started from ({@link #translate}): the pushed
     * listeners and clusters, then the bootstrap's static ones (its ADS cluster among them). Paths in
     * errors index the pushed resources as in {@link #fromResources}. A pushed resource may not take
     * a static one's name: Envoy keeps the static one and skips the push; here the push is refused.
     */
    public static ProxyConfig onBootstrap(ProxyConfig bootstrap, List<Listener> listeners, List<Cluster> clusters, String version) {
        Bootstrap.StaticResources base = bootstrap.source() instanceof Bootstrap b ? b.getStaticResources()
                : Bootstrap.StaticResources.getDefaultInstance();
        Set<String> staticListeners = new java.util.HashSet<>();
        base.getListenersList().forEach(l -> staticListeners.add(l.getName()));
        Set<String> staticClusters = new java.util.HashSet<>();
        base.getClustersList().forEach(c -> staticClusters.add(c.getName()));
        for (int i = 0; i < listeners.size(); i++) {
            if (staticListeners.contains(listeners.get(i).getName())) {
                throw new ConfigException(at("listeners[" + i + "]", "name"), "'" + listeners.get(i).getName()
                        + "' is a static listener of the bootstrap; ADS cannot replace it");
            }
        }
        for (int i = 0; i < clusters.size(); i++) {
            if (staticClusters.contains(clusters.get(i).getName())) {
                throw new ConfigException(at("clusters[" + i + "]", "name"), "'" + clusters.get(i).getName()
                        + "' is a static cluster of the bootstrap; ADS cannot replace it");
            }
        }
        List<Listener> allListeners = new ArrayList<>(listeners);
        allListeners.addAll(base.getListenersList());
        List<Cluster> allClusters = new ArrayList<>(clusters);
        allClusters.addAll(base.getClustersList());
        Bootstrap source = Bootstrap.newBuilder()
                .setStaticResources(Bootstrap.StaticResources.newBuilder().addAllListeners(allListeners).addAllClusters(allClusters))
                .build();
        return build(version, bootstrap.node(), bootstrap.admin(), allListeners, allClusters, source, bootstrap.ads());
    }

    private static ProxyConfig build(String version, NodeInfo node, Optional<AdminConfig> admin, List<Listener> listeners,
            List<Cluster> clusters, Bootstrap source, Optional<AdsConfig> ads) {
        List<ClusterConfig> clusterConfigs = new ArrayList<>();
        Map<String, Integer> clusterNames = new HashMap<>();
        for (int i = 0; i < clusters.size(); i++) {
            String path = "clusters[" + i + "]";
            Cluster proto = clusters.get(i);
            // The ADS cluster was checked with dynamic_resources: it carries the xDS stream, not traffic.
            boolean adsCluster = ads.isPresent() && proto.getName().equals(ads.get().clusterName());
            ClusterConfig cluster = adsCluster ? null : ClusterTranslator.cluster(proto, path);
            String name = adsCluster ? proto.getName() : cluster.name();
            Integer previous = clusterNames.putIfAbsent(name, i);
            if (previous != null) {
                throw new ConfigException(at(path, "name"), "duplicate cluster '" + name
                        + "' (also clusters[" + previous + "])");
            }
            if (cluster != null) {
                clusterConfigs.add(cluster);
            }
        }
        Set<String> known = clusterConfigs.stream().map(ClusterConfig::name).collect(java.util.stream.Collectors.toUnmodifiableSet());
        List<ListenerConfig> listenerConfigs = new ArrayList<>();
        Map<String, Integer> listenerNames = new HashMap<>();
        Map<InetSocketAddress, Integer> addresses = new HashMap<>();
        for (int i = 0; i < listeners.size(); i++) {
            String path = "listeners[" + i + "]";
            ListenerConfig listener = listener(listeners.get(i), path, known);
            Integer previous = listenerNames.putIfAbsent(listener.name(), i);
            if (previous != null) {
                throw new ConfigException(at(path, "name"), "duplicate listener '" + listener.name()
                        + "' (also listeners[" + previous + "])");
            }
            previous = addresses.putIfAbsent(listener.address(), i);
            if (previous != null) {
                throw new ConfigException(at(path, "address"), "listener '" + listener.name()
                        + "' has the same address as listeners[" + previous + "]");
            }
            listenerConfigs.add(listener);
        }
        return new ProxyConfig(version, node, admin, listenerConfigs, clusterConfigs, source, ads);
    }

    static NodeInfo node(Node node, String path) {
        // locality: what the node reports over xDS (Proxy.connect sends the bootstrap's node as it is) and config_dump shows
        only(node, path, "id", "cluster", "metadata", "locality");
        only(node.getLocality(), at(path, "locality"), "region", "zone", "sub_zone");
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<String, Value> e : node.getMetadata().getFieldsMap().entrySet()) {
            Value v = e.getValue();
            String text = switch (v.getKindCase()) {
                case STRING_VALUE -> v.getStringValue();
                case BOOL_VALUE -> Boolean.toString(v.getBoolValue());
                case NUMBER_VALUE -> v.getNumberValue() == Math.rint(v.getNumberValue())
                        ? Long.toString((long) v.getNumberValue()) : Double.toString(v.getNumberValue());
                default -> throw new ConfigException(at(path, "metadata") + "." + e.getKey(),
                        "only string, number and bool values are supported");
            };
            metadata.put(e.getKey(), text);
        }
        return new NodeInfo(node.getId(), node.getCluster(), metadata);
    }

    static AdminConfig admin(Admin admin, String path) {
        only(admin, path, "address");
        if (!admin.hasAddress()) {
            throw new ConfigException(at(path, "address"), "is required");
        }
        return new AdminConfig(Protos.address(admin.getAddress(), at(path, "address")));
    }

    static ListenerConfig listener(Listener l, String path, Set<String> clusters) {
        // traffic_direction changes no traffic; it labels the listener for tracing and stats, and is what
        // /drain_listeners?inboundonly selects by.
        only(l, path, "name", "address", "stat_prefix", "transparent", "use_original_dst", "listener_filters",
                "filter_chains", "default_filter_chain", "bind_to_port", "traffic_direction", "drain_type");
        if (!l.hasAddress()) {
            throw new ConfigException(at(path, "address"), "is required");
        }
        InetSocketAddress address = Protos.address(l.getAddress(), at(path, "address"));
        // Envoy invents a name for an unnamed listener; the address is more useful than a UUID.
        String name = l.getName().isEmpty() ? address.getAddress().getHostAddress() + "_" + address.getPort() : l.getName();
        List<ListenerFilterConfig> listenerFilters = IntStream.range(0, l.getListenerFiltersCount())
                .mapToObj(i -> listenerFilter(l.getListenerFilters(i), at(path, "listener_filters", i))).toList();
        if (l.getFilterChainsCount() == 0 && !l.hasDefaultFilterChain()) {
            throw new ConfigException(at(path, "filter_chains"), "no filter chains specified");
        }
        List<FilterChainConfig> chains = IntStream.range(0, l.getFilterChainsCount())
                .mapToObj(i -> filterChain(l.getFilterChains(i), at(path, "filter_chains", i), clusters, true)).toList();
        FilterChainMatches.rejectDuplicates(chains, path);
        Optional<FilterChainConfig> defaultChain = l.hasDefaultFilterChain()
                ? Optional.of(filterChain(l.getDefaultFilterChain(), at(path, "default_filter_chain"), clusters, false))
                : Optional.empty();
        boolean bindToPort = !l.hasBindToPort() || l.getBindToPort().getValue();
        return new ListenerConfig(name, address, l.getTransparent().getValue(), l.getUseOriginalDst().getValue(),
                listenerFilters, chains, defaultChain, bindToPort,
                l.getTrafficDirection() == TrafficDirection.INBOUND, modifyOnly(l, at(path, "drain_type")));
    }

    private static boolean modifyOnly(Listener l, String path) {
        return switch (l.getDrainType()) {
            case DEFAULT -> false;
            case MODIFY_ONLY -> true;
            default -> throw new ConfigException(path, l.getDrainTypeValue() + " is not a drain type");
        };
    }

    static ListenerFilterConfig listenerFilter(ListenerFilter f, String path) {
        only(f, path, "name", "typed_config");
        Protos.requireName(f.getName(), path);
        Descriptor type = Protos.extension(f.getName(), f.hasTypedConfig(), f.getTypedConfig(), path);
        // Envoy takes a listener filter by its well-known name alone (no typed_config) when its
        // config may be empty, e.g. Istio's "name: envoy.listener.proxy_protocol".
        Extensions.require(Extensions.Category.LISTENER_FILTER, type, at(path, "typed_config"));
        String name = f.getName();
        String config = at(path, "typed_config");
        if (type.equals(Protos.type(OriginalDst.class))) {
            only(Protos.unpack(f.hasTypedConfig(), f.getTypedConfig(), OriginalDst.getDefaultInstance(), path), config);
            return new ListenerFilterConfig.OriginalDst(name);
        }
        if (type.equals(Protos.type(OriginalSrc.class))) {
            OriginalSrc src = Protos.unpack(f.hasTypedConfig(), f.getTypedConfig(), OriginalSrc.getDefaultInstance(), path);
            only(src, config, "bind_port", "mark");
            return new ListenerFilterConfig.OriginalSrc(name, src.getMark(), src.getBindPort());
        }
        if (type.equals(Protos.type(TlsInspector.class))) {
            only(Protos.unpack(f.hasTypedConfig(), f.getTypedConfig(), TlsInspector.getDefaultInstance(), path), config);
            return new ListenerFilterConfig.TlsInspector(name);
        }
        if (type.equals(Protos.type(ProxyProtocol.class))) {
            ProxyProtocol pp = Protos.unpack(f.hasTypedConfig(), f.getTypedConfig(), ProxyProtocol.getDefaultInstance(), path);
            only(pp, config, "allow_requests_without_proxy_protocol", "pass_through_tlvs");
            return new ListenerFilterConfig.ProxyProtocol(name, pp.getAllowRequestsWithoutProxyProtocol(),
                    passThroughTlvs(pp, at(config, "pass_through_tlvs")));
        }
        throw new ConfigException(at(path, "typed_config"), EnvoyTypes.typeUrl(type) + " is not a listener filter");
    }

    /** INCLUDE_ALL is spelled out as every TLV type, so the runtime only ever checks membership. */
    private static List<Integer> passThroughTlvs(ProxyProtocol pp, String path) {
        if (!pp.hasPassThroughTlvs()) {
            return List.of();
        }
        var tlvs = pp.getPassThroughTlvs();
        only(tlvs, path, "match_type", "tlv_type");
        for (int i = 0; i < tlvs.getTlvTypeCount(); i++) {
            if (tlvs.getTlvType(i) > 255) {
                throw new ConfigException(at(path, "tlv_type", i), tlvs.getTlvType(i) + " is not a TLV type (0-255)");
            }
        }
        return switch (tlvs.getMatchType()) {
            case INCLUDE_ALL -> IntStream.range(0, 256).boxed().toList();
            case INCLUDE -> List.copyOf(tlvs.getTlvTypeList());
            default -> throw new ConfigException(at(path, "match_type"), tlvs.getMatchType() + " is not supported");
        };
    }

    static FilterChainConfig filterChain(FilterChain chain, String path, Set<String> clusters, boolean matchAllowed) {
        if (matchAllowed) {
            only(chain, path, "name", "filter_chain_match", "filters", "transport_socket");
        } else {
            only(chain, path, "name", "filters", "transport_socket");
        }
        FilterChainMatch match = chain.hasFilterChainMatch()
                ? FilterChainMatches.match(chain.getFilterChainMatch(), at(path, "filter_chain_match"))
                : FilterChainMatch.any();
        TransportSocketConfig transportSocket = chain.hasTransportSocket()
                ? TransportSockets.downstream(chain.getTransportSocket(), at(path, "transport_socket"))
                : TransportSocketConfig.RAW_BUFFER;
        if (chain.getFiltersCount() == 0) {
            throw new ConfigException(at(path, "filters"), "a tcp_proxy or http_connection_manager filter is required");
        }
        // Envoy's order: read filters (here only rbac) first, one terminal filter last.
        List<NetworkFilterConfig> filters = new ArrayList<>();
        int last = chain.getFiltersCount() - 1;
        for (int i = 0; i <= last; i++) {
            String fPath = at(path, "filters", i);
            NetworkFilterConfig filter = networkFilter(chain.getFilters(i), fPath, clusters);
            boolean terminal = !(filter instanceof NetworkRbacConfig);
            if (terminal && i < last) {
                throw new ConfigException(fPath, filter.name() + " is a terminal filter and must be last"
                        + " (only envoy.filters.network.rbac may come before it)");
            }
            if (!terminal && i == last) {
                throw new ConfigException(fPath, "the last filter must be tcp_proxy or http_connection_manager");
            }
            filters.add(filter);
        }
        return new FilterChainConfig(chain.getName(), match, transportSocket, filters);
    }

    static NetworkFilterConfig networkFilter(Filter filter, String path, Set<String> clusters) {
        only(filter, path, "name", "typed_config");
        Protos.requireName(filter.getName(), path);
        Descriptor type = Protos.extension(filter.getName(), filter.hasTypedConfig(), filter.getTypedConfig(), path);
        Extensions.require(Extensions.Category.NETWORK_FILTER, type, at(path, "typed_config"));
        String name = filter.getName();
        String config = at(path, "typed_config");
        if (!filter.hasTypedConfig() && (type.equals(Protos.type(TcpProxy.class)) || type.equals(Protos.type(HttpConnectionManager.class)))) {
            throw new ConfigException(config, "is required for " + name);
        }
        if (type.equals(Protos.type(TcpProxy.class))) {
            return TcpProxyTranslator.tcpProxy(name, Protos.unpack(true, filter.getTypedConfig(), TcpProxy.getDefaultInstance(), path),
                    config);
        }
        if (type.equals(Protos.type(HttpConnectionManager.class))) {
            return HttpTranslator.connectionManager(name,
                    Protos.unpack(true, filter.getTypedConfig(), HttpConnectionManager.getDefaultInstance(), path), config, clusters);
        }
        if (type.equals(Protos.type(io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC.class))) {
            return RbacTranslator.network(name, Protos.unpack(filter.hasTypedConfig(), filter.getTypedConfig(),
                    io.envoyproxy.envoy.extensions.filters.network.rbac.v3.RBAC.getDefaultInstance(), path), config);
        }
        throw new ConfigException(config, EnvoyTypes.typeUrl(type) + " is not a network filter");
    }
}
