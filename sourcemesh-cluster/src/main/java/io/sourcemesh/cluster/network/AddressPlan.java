package io.sourcemesh.cluster.network;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;

/**
 * Addresses of the embedded runtime, all on loopback (the whole 127.0.0.0/8 is local on Linux and
 * any of it can be bound, as a listener or as a client's source), so sockets show real, distinct
 * addresses: nodes 127.10.0.x, pods 127.17.&lt;node&gt;.x, service VIPs 127.96.0.x, the cloud
 * load balancer 127.100.0.x, external clients 127.120.x.y.
 */
public final class AddressPlan {
    public static final String NODE_PREFIX = "127.10.0.";
    public static final String SERVICE_PREFIX = "127.96.0.";
    public static final String LOAD_BALANCER_PREFIX = "127.100.0.";
    public static final String EXTERNAL_CLIENT = "127.120.0.10";

    private final Map<Integer, BitSet> podsByNode = new HashMap<>();
    /** Where the next search for a free pod address starts: addresses are not reused at once, as IPAM does. */
    private final Map<Integer, Integer> nextPod = new HashMap<>();
    private final BitSet services = new BitSet();
    private final BitSet loadBalancers = new BitSet();

    public static InetAddress node(int index) {
        return ip(NODE_PREFIX + (index + 1));
    }

    /** A free pod address on node {@code nodeIndex} (0-based). */
    public synchronized InetAddress allocatePod(int nodeIndex) {
        BitSet used = podsByNode.computeIfAbsent(nodeIndex, n -> new BitSet());
        int host = used.nextClearBit(nextPod.getOrDefault(nodeIndex, 2));
        if (host > 254) {
            host = used.nextClearBit(2);
        }
        if (host > 254) {
            throw new IllegalStateException("no pod addresses left on node " + nodeIndex);
        }
        used.set(host);
        nextPod.put(nodeIndex, host + 1);
        return ip("127.17." + nodeIndex + "." + host);
    }

    public synchronized void releasePod(InetAddress pod) {
        byte[] b = pod.getAddress();
        BitSet used = podsByNode.get(b[2] & 0xff);
        if (used != null) {
            used.clear(b[3] & 0xff);
        }
    }

    /** Marks an address as taken (a service VIP kept in the store across restarts). */
    public synchronized void reserveService(InetAddress vip) {
        services.set(vip.getAddress()[3] & 0xff);
    }

    public synchronized InetAddress allocateService() {
        int host = services.nextClearBit(2);
        services.set(host);
        return ip(SERVICE_PREFIX + host);
    }

    public synchronized InetAddress allocateLoadBalancer() {
        int host = loadBalancers.nextClearBit(2);
        loadBalancers.set(host);
        return ip(LOAD_BALANCER_PREFIX + host);
    }

    public static InetAddress ip(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(literal, e);
        }
    }
}
