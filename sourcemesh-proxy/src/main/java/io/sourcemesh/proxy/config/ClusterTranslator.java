package io.sourcemesh.proxy.config;

import static io.sourcemesh.proxy.config.Protos.at;
import static io.sourcemesh.proxy.config.Protos.only;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.Metadata;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.sourcemesh.l4.TcpKeepalive;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Clusters: discovery type, load balancing, endpoints, timeouts and the upstream source address. */
final class ClusterTranslator {

    /** Envoy's default upstream connection idle timeout. */
    static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofHours(1);

    /** Envoy's upper bound for both ring sizes (8M). */
    static final long MAX_RING_SIZE = 8 * 1024 * 1024;

    /** cluster.proto's bound on maglev_lb_config.table_size (uint64 lte 5000011). */
    static final long MAX_MAGLEV_TABLE_SIZE = 5000011;

    /** endpoint_components.proto's bound on LocalityLbEndpoints.priority. */
    static final int MAX_PRIORITY = 128;

    private ClusterTranslator() {}

    static ClusterConfig cluster(Cluster c, String path) {
        only(c, path, "name", "type", "lb_policy", "ring_hash_lb_config", "maglev_lb_config",
                "round_robin_lb_config", "least_request_lb_config", "connect_timeout", "load_assignment",
                "upstream_bind_config", "common_http_protocol_options", "typed_extension_protocol_options", "max_requests_per_connection", "dns_lookup_family",
                "transport_socket", "circuit_breakers", "outlier_detection", "common_lb_config",
                "upstream_connection_options", "http2_protocol_options", "transport_socket_matches");
        if (c.getName().isEmpty()) {
            throw new ConfigException(at(path, "name"), "is required");
        }
        ClusterConfig.DiscoveryType type = switch (c.getType()) {
            case STATIC -> ClusterConfig.DiscoveryType.STATIC;
            case STRICT_DNS -> ClusterConfig.DiscoveryType.STRICT_DNS;
            case LOGICAL_DNS -> ClusterConfig.DiscoveryType.LOGICAL_DNS;
            case ORIGINAL_DST -> ClusterConfig.DiscoveryType.ORIGINAL_DST;
            default -> throw new ConfigException(at(path, "type"), c.getType() + " is not supported");
        };
        ClusterConfig.LbPolicy lb = switch (c.getLbPolicy()) {
            case ROUND_ROBIN -> ClusterConfig.LbPolicy.ROUND_ROBIN;
            case LEAST_REQUEST -> ClusterConfig.LbPolicy.LEAST_REQUEST;
            case RANDOM -> ClusterConfig.LbPolicy.RANDOM;
            case RING_HASH -> ClusterConfig.LbPolicy.RING_HASH;
            case MAGLEV -> ClusterConfig.LbPolicy.MAGLEV;
            case CLUSTER_PROVIDED -> ClusterConfig.LbPolicy.CLUSTER_PROVIDED;
            default -> throw new ConfigException(at(path, "lb_policy"), c.getLbPolicy() + " is not supported");
        };
        // Envoy's own rule: an ORIGINAL_DST cluster picks its host itself, and only it may.
        if (type == ClusterConfig.DiscoveryType.ORIGINAL_DST && lb != ClusterConfig.LbPolicy.CLUSTER_PROVIDED) {
            throw new ConfigException(at(path, "lb_policy"), "LB policy " + c.getLbPolicy()
                    + " is not valid for Cluster type ORIGINAL_DST. Only 'CLUSTER_PROVIDED' is allowed with cluster type 'ORIGINAL_DST'");
        }
        if (type != ClusterConfig.DiscoveryType.ORIGINAL_DST && lb == ClusterConfig.LbPolicy.CLUSTER_PROVIDED) {
            throw new ConfigException(at(path, "lb_policy"), "CLUSTER_PROVIDED is only valid for cluster type ORIGINAL_DST");
        }
        boolean dns = type == ClusterConfig.DiscoveryType.STRICT_DNS || type == ClusterConfig.DiscoveryType.LOGICAL_DNS;
        if (c.getDnsLookupFamily() != Cluster.DnsLookupFamily.AUTO && !dns) {
            throw new ConfigException(at(path, "dns_lookup_family"), "is only valid with type STRICT_DNS or LOGICAL_DNS");
        }
        // Envoy's LogicalDnsCluster: one name, whose first address is the one host (logical_dns_cluster.cc).
        if (type == ClusterConfig.DiscoveryType.LOGICAL_DNS && (c.getLoadAssignment().getEndpointsCount() != 1
                || c.getLoadAssignment().getEndpoints(0).getLbEndpointsCount() != 1)) {
            throw new ConfigException(at(path, "load_assignment"),
                    "LOGICAL_DNS clusters must have a single locality_lb_endpoint and a single lb_endpoint");
        }
        switch (c.getDnsLookupFamily()) {
            case AUTO, V4_ONLY, V4_PREFERRED, V6_ONLY -> { }
            default -> throw new ConfigException(at(path, "dns_lookup_family"), c.getDnsLookupFamily() + " is not supported");
        }
        if (c.hasRingHashLbConfig() && lb != ClusterConfig.LbPolicy.RING_HASH) {
            throw new ConfigException(at(path, "ring_hash_lb_config"), "is only valid with lb_policy RING_HASH");
        }
        if (c.hasMaglevLbConfig() && lb != ClusterConfig.LbPolicy.MAGLEV) {
            throw new ConfigException(at(path, "maglev_lb_config"), "is only valid with lb_policy MAGLEV");
        }
        List<ClusterConfig.Endpoint> endpoints = c.hasLoadAssignment()
                ? endpoints(c.getLoadAssignment(), at(path, "load_assignment"), c)
                : List.of();
        if (type == ClusterConfig.DiscoveryType.ORIGINAL_DST && !endpoints.isEmpty()) {
            throw new ConfigException(at(path, "load_assignment"), "ORIGINAL_DST clusters must have no load assignment configured");
        }
        Duration connectTimeout = c.hasConnectTimeout() ? Protos.duration(c.getConnectTimeout()) : ConfigTranslator.DEFAULT_CONNECT_TIMEOUT;
        if (connectTimeout.isNegative() || connectTimeout.isZero()) {
            throw new ConfigException(at(path, "connect_timeout"), "must be greater than 0s");
        }
        Optional<InetSocketAddress> bind = Optional.empty();
        if (c.hasUpstreamBindConfig()) {
            String bindPath = at(path, "upstream_bind_config");
            only(c.getUpstreamBindConfig(), bindPath, "source_address");
            if (!c.getUpstreamBindConfig().hasSourceAddress()) {
                throw new ConfigException(at(bindPath, "source_address"), "is required");
            }
            bind = Optional.of(Protos.socketAddress(c.getUpstreamBindConfig().getSourceAddress(), at(bindPath, "source_address")));
        }
        ClusterHttpOptions.Limits http = ClusterHttpOptions.of(c, path);
        TransportSocketConfig transportSocket = c.hasTransportSocket()
                ? TransportSockets.upstream(c.getTransportSocket(), at(path, "transport_socket"))
                : TransportSocketConfig.RAW_BUFFER;
        transportSocket = autoSan(alpnFallback(transportSocket, http.upstreamHttp()), http.upstreamHttp());
        List<ClusterConfig.TransportSocketMatch> matches = transportSocketMatches(c, path, http.upstreamHttp());
        double panic = 50;
        boolean localityWeighted = false;
        if (c.hasCommonLbConfig()) {
            String lbPath = at(path, "common_lb_config");
            only(c.getCommonLbConfig(), lbPath, "healthy_panic_threshold", "locality_weighted_lb_config");
            if (c.getCommonLbConfig().hasLocalityWeightedLbConfig()) {
                String lwPath = at(lbPath, "locality_weighted_lb_config");
                only(c.getCommonLbConfig().getLocalityWeightedLbConfig(), lwPath);
                localityWeighted = true;
            }
            if (c.getCommonLbConfig().hasHealthyPanicThreshold()) {
                panic = c.getCommonLbConfig().getHealthyPanicThreshold().getValue();
                if (panic < 0 || panic > 100) {
                    throw new ConfigException(at(lbPath, "healthy_panic_threshold.value"), panic + " is not in [0, 100]");
                }
            }
        }
        return new ClusterConfig(c.getName(), type, lb, endpoints, connectTimeout, bind, ringHash(c, path), http.idleTimeout(), http.maxRequestsPerConnection(),
                transportSocket, Resilience.circuitBreakers(c, path), Resilience.outlierDetection(c, path), panic, http.maxConnectionDuration(),
                maglevTableSize(c, path), tcpKeepalive(c, path), http.upstreamHttp(), matches, slowStart(c, path, lb),
                priorities(c.getLoadAssignment(), at(path, "load_assignment"), localityWeighted));
    }

    /**
     * The load assignment's policy: overprovisioning_factor (Envoy's default 140; the proto requires it above 0) and
     * weighted_priority_health. drop_overloads and endpoint_stale_after are not implemented and refused.
     */
    private static ClusterConfig.Priorities priorities(ClusterLoadAssignment assignment, String path, boolean localityWeighted) {
        int factor = ClusterConfig.Priorities.DEFAULTS.overprovisioningFactor();
        boolean weighted = false;
        if (assignment.hasPolicy()) {
            String pPath = at(path, "policy");
            ClusterLoadAssignment.Policy policy = assignment.getPolicy();
            only(policy, pPath, "overprovisioning_factor", "weighted_priority_health");
            if (policy.hasOverprovisioningFactor()) {
                long value = Integer.toUnsignedLong(policy.getOverprovisioningFactor().getValue());
                if (value == 0 || value > Integer.MAX_VALUE) {
                    throw new ConfigException(at(pPath, "overprovisioning_factor"), value + ": value must be greater than 0"
                            + (value == 0 ? "" : " and at most " + Integer.MAX_VALUE));
                }
                factor = (int) value;
            }
            weighted = policy.getWeightedPriorityHealth();
        }
        return new ClusterConfig.Priorities(factor, weighted, localityWeighted);
    }

    /**
     * round_robin_lb_config or least_request_lb_config, each only with its lb_policy (Envoy would read neither under
     * another): their slow_start_config. least_request_lb_config's choice_count and active_request_bias are refused.
     */
    private static ClusterConfig.SlowStart slowStart(Cluster c, String path, ClusterConfig.LbPolicy lb) {
        if (c.hasRoundRobinLbConfig()) {
            String p = at(path, "round_robin_lb_config");
            if (lb != ClusterConfig.LbPolicy.ROUND_ROBIN) {
                throw new ConfigException(p, "is only valid with lb_policy ROUND_ROBIN");
            }
            only(c.getRoundRobinLbConfig(), p, "slow_start_config");
            return c.getRoundRobinLbConfig().hasSlowStartConfig()
                    ? slowStart(c.getRoundRobinLbConfig().getSlowStartConfig(), at(p, "slow_start_config"))
                    : ClusterConfig.SlowStart.NONE;
        }
        if (c.hasLeastRequestLbConfig()) {
            String p = at(path, "least_request_lb_config");
            if (lb != ClusterConfig.LbPolicy.LEAST_REQUEST) {
                throw new ConfigException(p, "is only valid with lb_policy LEAST_REQUEST");
            }
            only(c.getLeastRequestLbConfig(), p, "slow_start_config");
            return c.getLeastRequestLbConfig().hasSlowStartConfig()
                    ? slowStart(c.getLeastRequestLbConfig().getSlowStartConfig(), at(p, "slow_start_config"))
                    : ClusterConfig.SlowStart.NONE;
        }
        return ClusterConfig.SlowStart.NONE;
    }

    /**
     * Envoy's SlowStartConfig: slow_start_window (unset or under 1ms: no slow start), aggression's default_value (1.0
     * unset; Envoy's RuntimeDouble requires a runtime_key, which this proxy, without a runtime, never finds set, so the
     * default applies, as in Envoy whose runtime lacks the key: Istio writes the key "(" for that), min_weight_percent
     * (10 unset). An aggression Envoy would replace by 1.0 at every pick (not above 0) is refused here.
     */
    private static ClusterConfig.SlowStart slowStart(Cluster.SlowStartConfig s, String path) {
        only(s, path, "slow_start_window", "aggression", "min_weight_percent");
        Duration window = s.hasSlowStartWindow() ? Protos.duration(s.getSlowStartWindow()) : Duration.ZERO;
        if (window.isNegative()) {
            throw new ConfigException(at(path, "slow_start_window"), window + " is negative");
        }
        double aggression = 1.0;
        if (s.hasAggression()) {
            String a = at(path, "aggression");
            only(s.getAggression(), a, "default_value", "runtime_key");
            if (s.getAggression().getRuntimeKey().isEmpty()) {
                throw new ConfigException(at(a, "runtime_key"), "is required");
            }
            aggression = s.getAggression().getDefaultValue();
            if (!(aggression > 0) || Double.isInfinite(aggression)) {
                throw new ConfigException(at(a, "default_value"), aggression + " is not a number above 0");
            }
        }
        double min = 10;
        if (s.hasMinWeightPercent()) {
            min = s.getMinWeightPercent().getValue();
            if (!(min >= 0 && min <= 100)) {
                throw new ConfigException(at(path, "min_weight_percent.value"), min + " is not in [0, 100]");
            }
        }
        return new ClusterConfig.SlowStart(window, aggression, min);
    }

    /**
     * transport_socket_matches, Envoy's legacy form (TransportSocketMatcherImpl::setupLegacySocketMatches): each a name,
     * a match (a Struct; empty matches every host) and a transport socket, built as the cluster's own would be (so one
     * that cannot be is refused, and the whole config with it). The newer transport_socket_matcher is refused by the
     * cluster's field list.
     */
    private static List<ClusterConfig.TransportSocketMatch> transportSocketMatches(Cluster c, String path,
            ClusterConfig.UpstreamHttp http) {
        List<ClusterConfig.TransportSocketMatch> out = new ArrayList<>();
        for (int i = 0; i < c.getTransportSocketMatchesCount(); i++) {
            String matchPath = at(path, "transport_socket_matches", i);
            Cluster.TransportSocketMatch m = c.getTransportSocketMatches(i);
            only(m, matchPath, "name", "match", "transport_socket");
            // Envoy looks the factory up by the socket's name or type: a match without a socket has none to find.
            if (!m.hasTransportSocket()) {
                throw new ConfigException(at(matchPath, "transport_socket"), "is required");
            }
            TransportSocketConfig socket = autoSan(alpnFallback(
                    TransportSockets.upstream(m.getTransportSocket(), at(matchPath, "transport_socket")), http), http);
            out.add(new ClusterConfig.TransportSocketMatch(m.getName(), m.getMatch().getFieldsMap(), socket));
        }
        return out;
    }

    /** The namespace of endpoint (and locality) metadata that chooses a host's transport socket. */
    static final String TRANSPORT_SOCKET_MATCH = "envoy.transport_socket_match";

    /**
     * An endpoint's or locality's {@code metadata}: its {@code envoy.transport_socket_match} Struct, else none. Other
     * filter_metadata namespaces (Istio writes {@code istio} with the workload's name for its telemetry filters) are
     * data for a reader, and the proxy has none: every reader of host metadata (subset load balancing, a route's
     * metadata_match, the %UPSTREAM_METADATA% and %CLUSTER_METADATA% commands, Lua) is refused where it would be
     * configured, so the rest changes nothing, here or in Envoy, and is accepted. typed_filter_metadata is refused.
     */
    private static Map<String, Value> socketMatchMetadata(
            Metadata metadata, String path) {
        only(metadata, path, "filter_metadata");
        Struct socket = metadata.getFilterMetadataMap().get(TRANSPORT_SOCKET_MATCH);
        return socket == null ? Map.of() : socket.getFieldsMap();
    }

    /**
     * Envoy's ALPN fallback for an HTTP/2 cluster (the connection pool's transport socket options): a TLS context without
     * alpn_protocols offers "h2", so an origin that speaks both picks HTTP/2; alpn_protocols, when set, are offered as written.
     */
    private static TransportSocketConfig alpnFallback(TransportSocketConfig socket, ClusterConfig.UpstreamHttp http) {
        if (http.protocol() != ClusterConfig.UpstreamHttp.Protocol.HTTP2
                || !(socket instanceof TransportSocketConfig.UpstreamTls(UpstreamTlsConfig tls))
                || !tls.context().alpnProtocols().isEmpty()) {
            return socket;
        }
        TlsContextConfig c = tls.context();
        return new TransportSocketConfig.UpstreamTls(new UpstreamTlsConfig(tls.sni(), new TlsContextConfig(c.certificates(),
                c.minVersion(), c.maxVersion(), List.of("h2"), c.validation(), c.requireClientCertificate(), c.cipherSuites()),
                tls.autoSanValidation()));
    }

    /** A TLS socket of a cluster with auto_san_validation: its verifier also checks the SAN each request names. */
    private static TransportSocketConfig autoSan(TransportSocketConfig socket, ClusterConfig.UpstreamHttp http) {
        if (!http.autoSni().sanValidation() || !(socket instanceof TransportSocketConfig.UpstreamTls(UpstreamTlsConfig tls))) {
            return socket;
        }
        return new TransportSocketConfig.UpstreamTls(new UpstreamTlsConfig(tls.sni(), tls.context(), true));
    }

    /**
     * upstream_connection_options.tcp_keepalive (Envoy's buildTcpKeepaliveOptions, source/common/network/
     * socket_option_factory.cc): SO_KEEPALIVE on every upstream socket, and each of keepalive_probes, _time, _interval
     * that is set; the others keep the kernel's defaults. A value the kernel refuses (0, or beyond its bound) is refused
     * here: Envoy would fail every connection's setsockopt. The options' other fields are not implemented.
     */
    private static Optional<TcpKeepalive> tcpKeepalive(Cluster c, String path) {
        if (!c.hasUpstreamConnectionOptions()) {
            return Optional.empty();
        }
        String oPath = at(path, "upstream_connection_options");
        only(c.getUpstreamConnectionOptions(), oPath, "tcp_keepalive");
        if (!c.getUpstreamConnectionOptions().hasTcpKeepalive()) {
            return Optional.empty();
        }
        io.envoyproxy.envoy.config.core.v3.TcpKeepalive k = c.getUpstreamConnectionOptions().getTcpKeepalive();
        String kPath = at(oPath, "tcp_keepalive");
        return Optional.of(new TcpKeepalive(
                keepaliveValue(k.hasKeepaliveProbes(), k.getKeepaliveProbes().getValue(), TcpKeepalive.MAX_PROBES,
                        at(kPath, "keepalive_probes")),
                keepaliveValue(k.hasKeepaliveTime(), k.getKeepaliveTime().getValue(), TcpKeepalive.MAX_SECONDS,
                        at(kPath, "keepalive_time")),
                keepaliveValue(k.hasKeepaliveInterval(), k.getKeepaliveInterval().getValue(), TcpKeepalive.MAX_SECONDS,
                        at(kPath, "keepalive_interval"))));
    }

    /** A keepalive field's value, 0 when unset (the kernel's default); Linux takes 1 to {@code max}. */
    private static int keepaliveValue(boolean has, int value, int max, String path) {
        if (!has) {
            return 0;
        }
        if (value == 0 || Integer.compareUnsigned(value, max) > 0) {
            throw new ConfigException(path, Integer.toUnsignedString(value) + " is not in [1, " + max
                    + "]: the kernel refuses it, so every upstream connection would fail");
        }
        return value;
    }

    /**
     * maglev_lb_config.table_size, Envoy's default 65537 without it: at most 5000011 (cluster.proto's validation) and a
     * prime (MaglevLoadBalancer's constructor, with its message; source/extensions/load_balancing_policies/maglev/
     * maglev_lb.cc). 1, which Envoy's prime check takes, is refused too: the table's skip, in [1, size - 1], would have no
     * value (Envoy's build divides by zero).
     */
    private static long maglevTableSize(Cluster c, String path) {
        if (!c.hasMaglevLbConfig()) {
            return ClusterConfig.DEFAULT_MAGLEV_TABLE_SIZE;
        }
        String mPath = at(path, "maglev_lb_config");
        only(c.getMaglevLbConfig(), mPath, "table_size");
        if (!c.getMaglevLbConfig().hasTableSize()) {
            return ClusterConfig.DEFAULT_MAGLEV_TABLE_SIZE;
        }
        long size = c.getMaglevLbConfig().getTableSize().getValue();
        String sizePath = at(mPath, "table_size");
        if (size < 0 || size > MAX_MAGLEV_TABLE_SIZE) {
            throw new ConfigException(sizePath, Long.toUnsignedString(size) + ": value must be less than or equal to " + MAX_MAGLEV_TABLE_SIZE);
        }
        if (size == 1) {
            // Envoy's Primes::isPrime counts 1, then takes the skip as a remainder of table_size - 1 = 0.
            throw new ConfigException(sizePath, "1: a table of one slot leaves Maglev's skip no value (table_size - 1 is 0)");
        }
        if (!prime(size)) {
            throw new ConfigException(sizePath, size + ": The table size of maglev must be prime number");
        }
        return size;
    }

    private static boolean prime(long n) {
        if (n < 2 || n % 2 == 0) {
            return n == 2;
        }
        for (long f = 3; f * f <= n; f += 2) {
            if (n % f == 0) {
                return false;
            }
        }
        return true;
    }

    private static ClusterConfig.RingHash ringHash(Cluster c, String path) {
        ClusterConfig.RingHash defaults = ClusterConfig.RingHash.defaults();
        if (!c.hasRingHashLbConfig()) {
            return defaults;
        }
        String rhPath = at(path, "ring_hash_lb_config");
        Cluster.RingHashLbConfig rh = c.getRingHashLbConfig();
        only(rh, rhPath, "minimum_ring_size", "maximum_ring_size", "hash_function");
        if (rh.getHashFunction() != Cluster.RingHashLbConfig.HashFunction.XX_HASH) {
            throw new ConfigException(at(rhPath, "hash_function"), rh.getHashFunction() + " is not supported");
        }
        long min = rh.hasMinimumRingSize() ? rh.getMinimumRingSize().getValue() : defaults.minimumRingSize();
        long max = rh.hasMaximumRingSize() ? rh.getMaximumRingSize().getValue() : defaults.maximumRingSize();
        if (min > MAX_RING_SIZE || max > MAX_RING_SIZE) {
            throw new ConfigException(rhPath, "ring sizes are limited to " + MAX_RING_SIZE);
        }
        if (min > max) {
            throw new ConfigException(rhPath, "minimum_ring_size (" + min + ") is greater than maximum_ring_size (" + max + ")");
        }
        return new ClusterConfig.RingHash(min, max);
    }

    private static List<ClusterConfig.Endpoint> endpoints(ClusterLoadAssignment assignment, String path, Cluster c) {
        only(assignment, path, "cluster_name", "endpoints", "policy");
        List<ClusterConfig.Endpoint> out = new ArrayList<>();
        java.util.BitSet priorities = new java.util.BitSet();
        for (int i = 0; i < assignment.getEndpointsCount(); i++) {
            String localityPath = at(path, "endpoints", i);
            LocalityLbEndpoints locality = assignment.getEndpoints(i);
            only(locality, localityPath, "lb_endpoints", "metadata", "locality", "priority", "load_balancing_weight");
            Map<String, Value> localityMatch = locality.hasMetadata()
                    ? socketMatchMetadata(locality.getMetadata(), at(localityPath, "metadata")) : Map.of();
            ClusterConfig.Locality where = ClusterConfig.Locality.NONE;
            if (locality.hasLocality()) {
                only(locality.getLocality(), at(localityPath, "locality"), "region", "zone", "sub_zone");
                where = new ClusterConfig.Locality(locality.getLocality().getRegion(), locality.getLocality().getZone(),
                        locality.getLocality().getSubZone());
            }
            // endpoint_components.proto: priority lte 128, load_balancing_weight gte 1.
            int priority = locality.getPriority();
            if (priority < 0 || priority > MAX_PRIORITY) {
                throw new ConfigException(at(localityPath, "priority"), Integer.toUnsignedString(priority)
                        + ": value must be less than or equal to " + MAX_PRIORITY);
            }
            priorities.set(priority);
            int localityWeight = 0;
            if (locality.hasLoadBalancingWeight()) {
                localityWeight = locality.getLoadBalancingWeight().getValue();
                if (localityWeight == 0) {
                    throw new ConfigException(at(localityPath, "load_balancing_weight"), "0: value must be greater than or equal to 1");
                }
                if (localityWeight < 0) {
                    throw new ConfigException(at(localityPath, "load_balancing_weight"), Integer.toUnsignedString(localityWeight)
                            + ": at most " + Integer.MAX_VALUE + " is implemented");
                }
            }
            for (int j = 0; j < locality.getLbEndpointsCount(); j++) {
                String endpointPath = at(localityPath, "lb_endpoints", j);
                LbEndpoint lb = locality.getLbEndpoints(j);
                only(lb, endpointPath, "endpoint", "load_balancing_weight", "health_status", "metadata");
                Map<String, Value> endpointMatch = lb.hasMetadata()
                        ? socketMatchMetadata(lb.getMetadata(), at(endpointPath, "metadata")) : Map.of();
                if (!lb.hasEndpoint()) {
                    throw new ConfigException(at(endpointPath, "endpoint"), "is required");
                }
                only(lb.getEndpoint(), at(endpointPath, "endpoint"), "address");
                if (!lb.getEndpoint().hasAddress()) {
                    throw new ConfigException(at(endpointPath, "endpoint.address"), "is required");
                }
                InetSocketAddress address = c.getType() == Cluster.DiscoveryType.STRICT_DNS
                        || c.getType() == Cluster.DiscoveryType.LOGICAL_DNS
                        ? dnsAddress(lb.getEndpoint().getAddress(), at(endpointPath, "endpoint.address"), c.getDnsLookupFamily())
                        : Protos.address(lb.getEndpoint().getAddress(), at(endpointPath, "endpoint.address"));
                int weight = lb.hasLoadBalancingWeight() ? lb.getLoadBalancingWeight().getValue() : 1;
                if (weight < 1) {
                    throw new ConfigException(at(endpointPath, "load_balancing_weight"), "must be at least 1");
                }
                // Envoy routes only to HEALTHY/UNKNOWN (and DEGRADED as a last resort) hosts; without
                // active health checking an endpoint the control plane marks otherwise is left out.
                switch (lb.getHealthStatus()) {
                    case UNKNOWN, HEALTHY, DEGRADED -> out.add(new ClusterConfig.Endpoint(address, weight, endpointMatch, localityMatch,
                            priority, where, localityWeight));
                    default -> { }
                }
            }
        }
        // endpoint_components.proto: priorities range from 0 to N without skipping.
        int gap = priorities.nextClearBit(0);
        if (gap < priorities.length()) {
            for (int i = 0; i < assignment.getEndpointsCount(); i++) {
                if (assignment.getEndpoints(i).getPriority() > gap) {
                    throw new ConfigException(at(at(path, "endpoints", i), "priority"), assignment.getEndpoints(i).getPriority()
                            + " leaves priority " + gap + " without endpoints: priorities must range from 0 to N without skipping");
                }
            }
        }
        return out;
    }

    /**
     * STRICT_DNS and LOGICAL_DNS without a resolver: IP literals, and {@code localhost} resolved as Envoy would
     * against a standard /etc/hosts (AUTO prefers IPv6, so {@code ::1}; LOGICAL_DNS's first address is the same one). Fixed at load time;
     * any other name is refused rather than resolved once and never refreshed.
     */
    private static InetSocketAddress dnsAddress(Address address, String path, Cluster.DnsLookupFamily family) {
        Protos.only(address, path, "socket_address");
        SocketAddress socket = address.getSocketAddress();
        String socketPath = at(path, "socket_address");
        if (!socket.getAddress().equalsIgnoreCase("localhost")) {
            return Protos.address(address, path);
        }
        Protos.only(socket, socketPath, "address", "port_value", "protocol");
        InetSocketAddress checked = Protos.socketAddress(socket.toBuilder().setAddress("127.0.0.1").build(), socketPath);
        String ip = switch (family) {
            case V4_ONLY, V4_PREFERRED -> "127.0.0.1";
            default -> "::1";
        };
        return new InetSocketAddress(Protos.ip(ip, at(socketPath, "address")), checked.getPort());
    }
}
