package io.sourcemesh.proxy.config;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
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
        Optional<UpstreamProxyProtocol> upstreamProxyProtocol) {

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
                Optional.empty());
    }

    public enum DiscoveryType { STATIC, STRICT_DNS, ORIGINAL_DST, EDS }

    public enum LbPolicy { ROUND_ROBIN, LEAST_REQUEST, RANDOM, RING_HASH, CLUSTER_PROVIDED }

    public ClusterConfig {
        endpoints = List.copyOf(endpoints);
    }

    public record Endpoint(InetSocketAddress address, int weight) {}

    public record RingHash(long minimumRingSize, long maximumRingSize) {
        public static RingHash defaults() {
            return new RingHash(1024, 8 * 1024 * 1024);
        }
    }
}
