package io.sourcemesh.proxy.config;

import com.google.protobuf.Value;
import io.sourcemesh.l4.TcpKeepalive;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** An upstream cluster: how hosts are found, balanced, connected to and from which source address. */
public record ClusterConfig(
        String name,
        DiscoveryType type,
        LbPolicy lbPolicy,
        List<Endpoint> endpoints,
        Duration connectTimeout,
        Optional<InetSocketAddress> upstreamBindAddress,
        RingHash ringHash,
        Optional<Duration> idleTimeout,
        int maxRequestsPerConnection,
        TransportSocketConfig transportSocket,
        CircuitBreakers circuitBreakers,
        Optional<OutlierDetection> outlierDetection,
        double healthyPanicThreshold,
        Optional<Duration> maxConnectionDuration,
        long maglevTableSize,
        Optional<TcpKeepalive> tcpKeepalive,
        UpstreamHttp upstreamHttp,
        List<TransportSocketMatch> transportSocketMatches,
        SlowStart slowStart,
        Priorities priorities) {

    /** Without priorities' settings: Envoy's defaults (overprovisioning factor 140, no locality weighting). */
    public ClusterConfig(String name, DiscoveryType type, LbPolicy lbPolicy, List<Endpoint> endpoints, Duration connectTimeout,
            Optional<InetSocketAddress> upstreamBindAddress, RingHash ringHash, Optional<Duration> idleTimeout,
            int maxRequestsPerConnection, TransportSocketConfig transportSocket, CircuitBreakers circuitBreakers,
            Optional<OutlierDetection> outlierDetection, double healthyPanicThreshold, Optional<Duration> maxConnectionDuration,
            long maglevTableSize, Optional<TcpKeepalive> tcpKeepalive, UpstreamHttp upstreamHttp,
            List<TransportSocketMatch> transportSocketMatches, SlowStart slowStart) {
        this(name, type, lbPolicy, endpoints, connectTimeout, upstreamBindAddress, ringHash, idleTimeout, maxRequestsPerConnection,
                transportSocket, circuitBreakers, outlierDetection, healthyPanicThreshold, maxConnectionDuration, maglevTableSize,
                tcpKeepalive, upstreamHttp, transportSocketMatches, slowStart, Priorities.DEFAULTS);
    }

    /**
     * How load is spread over the endpoints' priorities and localities (Envoy's load_balancer_impl.cc): the load
     * assignment's policy.overprovisioning_factor (a percentage, 140 unset) and policy.weighted_priority_health (a
     * priority's health by its hosts' weights rather than their count), and common_lb_config.locality_weighted_lb_config
     * (a locality is picked by its load_balancing_weight × its health, then a host in it).
     */
    public record Priorities(int overprovisioningFactor, boolean weightedPriorityHealth, boolean localityWeighted) {
        public static final Priorities DEFAULTS = new Priorities(140, false, false);

        public Priorities {
            if (overprovisioningFactor < 1) {
                throw new IllegalArgumentException("overprovisioning factor " + overprovisioningFactor);
            }
        }
    }

    /** An endpoint's locality (LocalityLbEndpoints.locality); empty strings where unset. */
    public record Locality(String region, String zone, String subZone) {
        public static final Locality NONE = new Locality("", "", "");
    }

    /** {@code envoy.transport_sockets.upstream_proxy_protocol}: each upstream connection starts with a PROXY header. */
    public enum UpstreamProxyProtocol {
        V1(1), V2(2);

        private final int number;

        UpstreamProxyProtocol(int number) {
            this.number = number;
        }

        public int number() {
            return number;
        }
    }

    /** A cluster over plain TCP (no transport socket). */
    public ClusterConfig(String name, DiscoveryType type, LbPolicy lbPolicy, List<Endpoint> endpoints, Duration connectTimeout,
            Optional<InetSocketAddress> upstreamBindAddress, RingHash ringHash, Optional<Duration> idleTimeout,
            int maxRequestsPerConnection) {
        this(name, type, lbPolicy, endpoints, connectTimeout, upstreamBindAddress, ringHash, idleTimeout, maxRequestsPerConnection,
                TransportSocketConfig.RAW_BUFFER, CircuitBreakers.DEFAULTS, Optional.empty(), 50);
    }

    /** Without common_http_protocol_options.max_connection_duration: upstream connections live as long as they are used. */
    public ClusterConfig(String name, DiscoveryType type, LbPolicy lbPolicy, List<Endpoint> endpoints, Duration connectTimeout,
            Optional<InetSocketAddress> upstreamBindAddress, RingHash ringHash, Optional<Duration> idleTimeout,
            int maxRequestsPerConnection, TransportSocketConfig transportSocket, CircuitBreakers circuitBreakers,
            Optional<OutlierDetection> outlierDetection, double healthyPanicThreshold) {
        this(name, type, lbPolicy, endpoints, connectTimeout, upstreamBindAddress, ringHash, idleTimeout, maxRequestsPerConnection,
                transportSocket, circuitBreakers, outlierDetection, healthyPanicThreshold, Optional.empty());
    }

    /** Without maglev_lb_config: Envoy's default table size (MaglevTable::DefaultTableSize). */
    public ClusterConfig(String name, DiscoveryType type, LbPolicy lbPolicy, List<Endpoint> endpoints, Duration connectTimeout,
            Optional<InetSocketAddress> upstreamBindAddress, RingHash ringHash, Optional<Duration> idleTimeout,
            int maxRequestsPerConnection, TransportSocketConfig transportSocket, CircuitBreakers circuitBreakers,
            Optional<OutlierDetection> outlierDetection, double healthyPanicThreshold, Optional<Duration> maxConnectionDuration) {
        this(name, type, lbPolicy, endpoints, connectTimeout, upstreamBindAddress, ringHash, idleTimeout, maxRequestsPerConnection,
                transportSocket, circuitBreakers, outlierDetection, healthyPanicThreshold, maxConnectionDuration, DEFAULT_MAGLEV_TABLE_SIZE);
    }

    /** Without upstream_connection_options.tcp_keepalive: upstream sockets keep the kernel's default (no SO_KEEPALIVE). */
    public ClusterConfig(String name, DiscoveryType type, LbPolicy lbPolicy, List<Endpoint> endpoints, Duration connectTimeout,
            Optional<InetSocketAddress> upstreamBindAddress, RingHash ringHash, Optional<Duration> idleTimeout,
            int maxRequestsPerConnection, TransportSocketConfig transportSocket, CircuitBreakers circuitBreakers,
            Optional<OutlierDetection> outlierDetection, double healthyPanicThreshold, Optional<Duration> maxConnectionDuration,
            long maglevTableSize) {
        this(name, type, lbPolicy, endpoints, connectTimeout, upstreamBindAddress, ringHash, idleTimeout, maxRequestsPerConnection,
                transportSocket, circuitBreakers, outlierDetection, healthyPanicThreshold, maxConnectionDuration, maglevTableSize,
                Optional.empty());
    }

    /** Speaking HTTP/1.1 upstream (no HttpProtocolOptions choosing otherwise). */
    public ClusterConfig(String name, DiscoveryType type, LbPolicy lbPolicy, List<Endpoint> endpoints, Duration connectTimeout,
            Optional<InetSocketAddress> upstreamBindAddress, RingHash ringHash, Optional<Duration> idleTimeout,
            int maxRequestsPerConnection, TransportSocketConfig transportSocket, CircuitBreakers circuitBreakers,
            Optional<OutlierDetection> outlierDetection, double healthyPanicThreshold, Optional<Duration> maxConnectionDuration,
            long maglevTableSize, Optional<TcpKeepalive> tcpKeepalive) {
        this(name, type, lbPolicy, endpoints, connectTimeout, upstreamBindAddress, ringHash, idleTimeout, maxRequestsPerConnection,
                transportSocket, circuitBreakers, outlierDetection, healthyPanicThreshold, maxConnectionDuration, maglevTableSize,
                tcpKeepalive, UpstreamHttp.HTTP1);
    }

    /** Without transport_socket_matches: every host gets the cluster's {@code transportSocket}. */
    public ClusterConfig(String name, DiscoveryType type, LbPolicy lbPolicy, List<Endpoint> endpoints, Duration connectTimeout,
            Optional<InetSocketAddress> upstreamBindAddress, RingHash ringHash, Optional<Duration> idleTimeout,
            int maxRequestsPerConnection, TransportSocketConfig transportSocket, CircuitBreakers circuitBreakers,
            Optional<OutlierDetection> outlierDetection, double healthyPanicThreshold, Optional<Duration> maxConnectionDuration,
            long maglevTableSize, Optional<TcpKeepalive> tcpKeepalive, UpstreamHttp upstreamHttp) {
        this(name, type, lbPolicy, endpoints, connectTimeout, upstreamBindAddress, ringHash, idleTimeout, maxRequestsPerConnection,
                transportSocket, circuitBreakers, outlierDetection, healthyPanicThreshold, maxConnectionDuration, maglevTableSize,
                tcpKeepalive, upstreamHttp, List.of());
    }

    /** Without slow start (no slow_start_config): a host takes its full share as soon as it joins. */
    public ClusterConfig(String name, DiscoveryType type, LbPolicy lbPolicy, List<Endpoint> endpoints, Duration connectTimeout,
            Optional<InetSocketAddress> upstreamBindAddress, RingHash ringHash, Optional<Duration> idleTimeout,
            int maxRequestsPerConnection, TransportSocketConfig transportSocket, CircuitBreakers circuitBreakers,
            Optional<OutlierDetection> outlierDetection, double healthyPanicThreshold, Optional<Duration> maxConnectionDuration,
            long maglevTableSize, Optional<TcpKeepalive> tcpKeepalive, UpstreamHttp upstreamHttp,
            List<TransportSocketMatch> transportSocketMatches) {
        this(name, type, lbPolicy, endpoints, connectTimeout, upstreamBindAddress, ringHash, idleTimeout, maxRequestsPerConnection,
                transportSocket, circuitBreakers, outlierDetection, healthyPanicThreshold, maxConnectionDuration, maglevTableSize,
                tcpKeepalive, upstreamHttp, transportSocketMatches, SlowStart.NONE);
    }

    /**
     * Envoy's SlowStartConfig (round_robin_lb_config or least_request_lb_config): a host that joins the cluster after its
     * first version takes a share scaled by max(minWeightPercent / 100, (t / window) ^ (1 / aggression)) for {@code window}
     * after it joined. Envoy counts in whole milliseconds: a window under 1ms is none.
     */
    public record SlowStart(Duration window, double aggression, double minWeightPercent) {
        public static final SlowStart NONE = new SlowStart(Duration.ZERO, 1.0, 10);

        public SlowStart {
            if (window.isNegative() || !(aggression > 0) || Double.isInfinite(aggression)
                    || !(minWeightPercent >= 0 && minWeightPercent <= 100)) {
                throw new IllegalArgumentException("slow start " + window + ", aggression " + aggression + ", "
                        + minWeightPercent + "%");
            }
        }

        public boolean enabled() {
            return window.toMillis() > 0;
        }
    }

    /**
     * One of the cluster's transport_socket_matches (Envoy's legacy TransportSocketMatch): a host whose
     * {@code envoy.transport_socket_match} metadata holds every entry of {@code match} (an empty one: every host) gets
     * {@code transportSocket}. Values are protobuf {@link Value}s, compared as Envoy's ValueUtil::equal does.
     */
    public record TransportSocketMatch(String name, Map<String, Value> match, TransportSocketConfig transportSocket) {
        public TransportSocketMatch {
            match = Map.copyOf(match);
            if (transportSocket instanceof TransportSocketConfig.DownstreamTls) {
                throw new IllegalArgumentException("a cluster's transport socket is an upstream one");
            }
        }

        /** Envoy's Metadata::metadataLabelMatch: every entry of the match is in {@code metadata}, with an equal value. */
        public boolean matches(Map<String, Value> metadata) {
            for (Map.Entry<String, Value> e : match.entrySet()) {
                if (!e.getValue().equals(metadata.get(e.getKey()))) {
                    return false;
                }
            }
            return true;
        }
    }

    /**
     * The HTTP protocol spoken upstream: HTTP/1.1, HTTP/2 (explicit http2_protocol_options), or the downstream request's
     * (use_downstream_protocol_config: HTTP/2 for an HTTP/2 request, else HTTP/1.1); {@code http2} are the HTTP/2 settings
     * the proxy applies when it speaks HTTP/2 (Envoy's defaults when unset).
     */
    public record UpstreamHttp(Protocol protocol, Http2Settings http2, AutoSni autoSni) {
        public static final UpstreamHttp HTTP1 = new UpstreamHttp(Protocol.HTTP1, Http2Settings.DEFAULTS);

        /** Without upstream_http_protocol_options: no request sets its connection's TLS names. */
        public UpstreamHttp(Protocol protocol, Http2Settings http2) {
            this(protocol, http2, AutoSni.OFF);
        }

        UpstreamHttp with(AutoSni names) {
            return new UpstreamHttp(protocol, http2, names);
        }

        public enum Protocol { HTTP1, HTTP2, DOWNSTREAM }

        /** Whether a request that came over HTTP/2 ({@code downstreamHttp2}) goes upstream as an HTTP/2 stream. */
        public boolean http2For(boolean downstreamHttp2) {
            return protocol == Protocol.HTTP2 || (protocol == Protocol.DOWNSTREAM && downstreamHttp2);
        }
    }

    /**
     * upstream_http_protocol_options (Envoy's router, source/common/router/router.cc): each request's host — its Host
     * after the route's host rewrite, or the {@code overrideHeader}'s value when that is present and not empty, without
     * the port — is the SNI of its upstream TLS connection ({@code sni}; none for an IP address) and the name the
     * server's certificate must carry as a SAN ({@code sanValidation}), beside the cluster's own validation. Only a TLS
     * transport socket uses them; on a plaintext host they change nothing, as Envoy's raw_buffer ignores them.
     */
    public record AutoSni(boolean sni, boolean sanValidation, Optional<String> overrideHeader) {
        public static final AutoSni OFF = new AutoSni(false, false, Optional.empty());

        /** Whether a request sets any name (Envoy's router looks at the headers only then). */
        public boolean on() {
            return sni || sanValidation;
        }
    }

    /**
     * Http2ProtocolOptions' implemented fields: the streams one connection carries at once (the pool's limit, and the
     * SETTINGS_MAX_CONCURRENT_STREAMS the proxy advertises), the stream and connection receive windows, the HPACK table
     * size the proxy's decoder offers (SETTINGS_HEADER_TABLE_SIZE) and the PING keepalive. Envoy's defaults
     * (envoy/http/codec.h OptionsLimits): 1024 streams, 256 MiB windows, 4096 bytes of table, no keepalive.
     */
    public record Http2Settings(int maxConcurrentStreams, int initialStreamWindowSize, int initialConnectionWindowSize,
            long hpackTableSize, java.util.Optional<Http2Keepalive> keepalive) {
        public static final Http2Settings DEFAULTS = new Http2Settings(1024, 256 * 1024 * 1024, 256 * 1024 * 1024);

        public Http2Settings {
            java.util.Objects.requireNonNull(keepalive, "keepalive");
        }

        /** The streams and windows given, no keepalive, the default table. */
        public Http2Settings(int maxConcurrentStreams, int initialStreamWindowSize, int initialConnectionWindowSize) {
            this(maxConcurrentStreams, initialStreamWindowSize, initialConnectionWindowSize, Http2Options.DEFAULT_HPACK_TABLE_SIZE,
                    java.util.Optional.empty());
        }
    }

    /** MaglevTable::DefaultTableSize (source/extensions/load_balancing_policies/maglev/maglev_lb.h). */
    public static final long DEFAULT_MAGLEV_TABLE_SIZE = 65537;

    public enum DiscoveryType { STATIC, STRICT_DNS, LOGICAL_DNS, ORIGINAL_DST, EDS }

    public enum LbPolicy { ROUND_ROBIN, LEAST_REQUEST, RANDOM, RING_HASH, MAGLEV, CLUSTER_PROVIDED }

    public ClusterConfig {
        java.util.Objects.requireNonNull(priorities, "priorities");
        endpoints = List.copyOf(endpoints);
        transportSocketMatches = List.copyOf(transportSocketMatches);
        if (transportSocket instanceof TransportSocketConfig.DownstreamTls) {
            throw new IllegalArgumentException("a cluster's transport socket is an upstream one");
        }
    }

    /** The DEFAULT-priority circuit breaker thresholds (Envoy's defaults: 1024 each, 3 retries). */
    public record CircuitBreakers(long maxConnections, long maxPendingRequests, long maxRequests, long maxRetries,
            boolean trackRemaining) {
        public static final CircuitBreakers DEFAULTS = new CircuitBreakers(1024, 1024, 1024, 3, false);
    }

    /**
     * Envoy's outlier detection, the consecutive-error detectors: {@code consecutive5xx} and consecutive gateway
     * failures (502/503/504), each enforced with its percentage. With {@code splitExternalLocalOriginErrors} off, a
     * local-origin failure (connect failure, reset, timeout) counts as a 503 or 504 response; on, it counts only toward
     * {@code consecutiveLocalOriginFailure} (outlier_detection_impl.cc putResultWithLocalExternalSplit).
     */
    public record OutlierDetection(int consecutive5xx, int enforcingConsecutive5xx, int consecutiveGatewayFailure,
            int enforcingConsecutiveGatewayFailure, Duration interval, Duration baseEjectionTime, Duration maxEjectionTime,
            int maxEjectionPercent, boolean splitExternalLocalOriginErrors, int consecutiveLocalOriginFailure,
            int enforcingConsecutiveLocalOriginFailure) {

        /** Without the split: local-origin failures are 5xx (Envoy's default). */
        public OutlierDetection(int consecutive5xx, int enforcingConsecutive5xx, int consecutiveGatewayFailure,
                int enforcingConsecutiveGatewayFailure, Duration interval, Duration baseEjectionTime, Duration maxEjectionTime,
                int maxEjectionPercent) {
            this(consecutive5xx, enforcingConsecutive5xx, consecutiveGatewayFailure, enforcingConsecutiveGatewayFailure, interval,
                    baseEjectionTime, maxEjectionTime, maxEjectionPercent, false, 5, 100);
        }
    }

    /**
     * A host: its address, weight, and the {@code envoy.transport_socket_match} metadata of the endpoint and of its
     * locality (empty when there is none), which choose its transport socket among the cluster's matches; its
     * locality's priority (0 the highest), locality and load_balancing_weight (0 unset).
     */
    public record Endpoint(InetSocketAddress address, int weight, Map<String, Value> socketMatch,
            Map<String, Value> localitySocketMatch, int priority, Locality locality, int localityWeight) {
        public Endpoint {
            socketMatch = Map.copyOf(socketMatch);
            localitySocketMatch = Map.copyOf(localitySocketMatch);
            if (priority < 0 || localityWeight < 0) {
                throw new IllegalArgumentException("priority " + priority + ", locality weight " + localityWeight);
            }
        }

        /** In priority 0, in no locality. */
        public Endpoint(InetSocketAddress address, int weight, Map<String, Value> socketMatch,
                Map<String, Value> localitySocketMatch) {
            this(address, weight, socketMatch, localitySocketMatch, 0, Locality.NONE, 0);
        }

        /** Without metadata. */
        public Endpoint(InetSocketAddress address, int weight) {
            this(address, weight, Map.of(), Map.of());
        }
    }

    public record RingHash(long minimumRingSize, long maximumRingSize) {
        public static RingHash defaults() {
            return new RingHash(1024, 8 * 1024 * 1024);
        }
    }
}
