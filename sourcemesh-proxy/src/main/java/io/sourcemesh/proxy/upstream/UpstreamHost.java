package io.sourcemesh.proxy.upstream;

import io.sourcemesh.proxy.address.IpLiteral;
import io.sourcemesh.proxy.config.ClusterConfig;
import io.sourcemesh.proxy.stats.LoopCounts;
import java.net.Inet6Address;
import java.net.InetSocketAddress;

/**
 * One endpoint of a cluster with the live counts the load balancers and /clusters read: per event
 * loop ({@link LoopCounts}), as requests start and end on the loops, summed when read; and its transport socket.
 */
public final class UpstreamHost {
    private static final int ACTIVE_REQUESTS = 0;
    private static final int ACTIVE_CONNECTIONS = 1;
    private static final int TOTAL_CONNECTIONS = 2;
    private static final int TOTAL_REQUESTS = 3;
    private static final int ERROR_REQUESTS = 4;
    private static final int CONNECT_FAILURES = 5;

    private final InetSocketAddress address;
    private final int weight;
    private final LoopCounts counts = new LoopCounts(6);
    private final UpstreamTransportSocket transportSocket;
    private final long joinedNanos;
    private final int priority;
    private final ClusterConfig.Locality locality;
    private final int localityWeight;

    /** {@link #joinedNanos} of a host of the cluster's first version: never in slow start. */
    public static final long INITIAL = Long.MIN_VALUE;

    UpstreamHost(InetSocketAddress address, int weight) {
        this(address, weight, UpstreamTransportSocket.RAW_BUFFER);
    }

    UpstreamHost(InetSocketAddress address, int weight, UpstreamTransportSocket transportSocket) {
        this(address, weight, transportSocket, INITIAL);
    }

    UpstreamHost(InetSocketAddress address, int weight, UpstreamTransportSocket transportSocket, long joinedNanos) {
        this(address, weight, transportSocket, joinedNanos, 0, ClusterConfig.Locality.NONE, 0);
    }

    /** In {@code priority}, in {@code locality}, whose load_balancing_weight is {@code localityWeight} (0 unset). */
    UpstreamHost(InetSocketAddress address, int weight, UpstreamTransportSocket transportSocket, long joinedNanos,
            int priority, ClusterConfig.Locality locality, int localityWeight) {
        this.address = address;
        this.weight = Math.max(1, weight);
        this.transportSocket = transportSocket;
        this.joinedNanos = joinedNanos;
        this.priority = priority;
        this.locality = locality;
        this.localityWeight = localityWeight;
    }

    /** Its locality's priority, 0 the highest. */
    public int priority() { return priority; }

    public ClusterConfig.Locality locality() { return locality; }

    /** Its locality's load_balancing_weight, 0 when unset. */
    int localityWeight() { return localityWeight; }

    /**
     * When ({@link System#nanoTime}) the host joined its cluster, carried by address across config versions; {@link
     * #INITIAL} for a host of the cluster's first version (Envoy's slow start takes only hosts added once the cluster
     * was initialised).
     */
    public long joinedNanos() { return joinedNanos; }

    public InetSocketAddress address() { return address; }

    /**
     * The transport socket of this host's connections: the cluster's, or the one its transport_socket_matches chose for
     * it (Envoy resolves it once per host). Pools are per host, so a connection is never reused under another socket.
     */
    public UpstreamTransportSocket transportSocket() { return transportSocket; }

    /**
     * A host's key in a consistent-hash table (ring hash, Maglev): its address as Envoy's Address::asString prints it,
     * "a.b.c.d:port" or "[inet_ntop form]:port", so a table built here places the hosts where Envoy's does.
     */
    static String hashKey(InetSocketAddress address) {
        String ip = IpLiteral.format(address.getAddress().getAddress());
        return address.getAddress() instanceof Inet6Address ? "[" + ip + "]:" + address.getPort() : ip + ":" + address.getPort();
    }
    public int weight() { return weight; }
    public int activeRequests() { return (int) counts.get(ACTIVE_REQUESTS); }
    public int activeConnections() { return (int) counts.get(ACTIVE_CONNECTIONS); }
    public long totalConnections() { return counts.get(TOTAL_CONNECTIONS); }
    public long totalRequests() { return counts.get(TOTAL_REQUESTS); }
    public long errorRequests() { return counts.get(ERROR_REQUESTS); }
    public long connectFailures() { return counts.get(CONNECT_FAILURES); }

    public void connectionOpened() {
        counts.add(ACTIVE_CONNECTIONS, 1);
        counts.add(TOTAL_CONNECTIONS, 1);
    }

    public void connectionClosed() {
        counts.add(ACTIVE_CONNECTIONS, -1);
    }

    public void connectFailed() {
        counts.add(CONNECT_FAILURES, 1);
    }

    public void requestStarted() {
        counts.add(ACTIVE_REQUESTS, 1);
        counts.add(TOTAL_REQUESTS, 1);
    }

    public void requestFinished(boolean error) {
        counts.add(ACTIVE_REQUESTS, -1);
        if (error) {
            counts.add(ERROR_REQUESTS, 1);
        }
    }

    @Override
    public String toString() {
        return address.getAddress().getHostAddress() + ":" + address.getPort();
    }

}
