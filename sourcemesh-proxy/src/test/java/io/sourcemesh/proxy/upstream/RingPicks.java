package io.sourcemesh.proxy.upstream;

import io.sourcemesh.proxy.config.ClusterConfig;
import java.net.InetSocketAddress;
import java.util.List;

/** For tests outside this package: the endpoint a ring of Envoy's default size over equal-weight hosts gives a key. */
public final class RingPicks {
    private RingPicks() {}

    public static InetSocketAddress pick(List<InetSocketAddress> endpoints, String key) {
        List<UpstreamHost> hosts = endpoints.stream().map(a -> new UpstreamHost(a, 1)).toList();
        return RingHashTable.of(hosts, ClusterConfig.RingHash.defaults()).choose(key).address();
    }

    /** The endpoint for a request's hash (what the route's hash policies made of it). */
    public static InetSocketAddress pick(List<InetSocketAddress> endpoints, long hash) {
        List<UpstreamHost> hosts = endpoints.stream().map(a -> new UpstreamHost(a, 1)).toList();
        return RingHashTable.of(hosts, ClusterConfig.RingHash.defaults()).choose(true, hash).address();
    }
}
