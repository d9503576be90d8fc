package io.sourcemesh.cluster.network;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalInt;

/**
 * Addresses of the embedded runtime, all on loopback (the whole 127.0.0.0/8 is local on Linux and
 * any of it can be bound, as a listener or as a client's source), so sockets show real, distinct
 * addresses: nodes 127.10.0.x, pods 127.17.&lt;node&gt;.x, service VIPs 127.96.0.x, the cloud
 * load balancer 127.100.0.x, external clients 127.120.x.y.
 *
 * <p>A {@code block} other than 0 moves a whole cluster to other addresses (nodes 127.10.B.x,
 * pods 127.17.(8B+node).x, VIPs 127.96.B.x, load balancers 127.100.B.x), so several clusters can
 * share one machine — the test suite's next to a user's running one. A cluster holds its block while it runs
 * ({@link AddressBlockClaim}); its home remembers it. Set it with {@code SOURCEMESH_ADDRESS_BLOCK} or
 * {@code -Dsourcemesh.addressBlock}, or let the first free one be taken.
 */
public final class AddressPlan {
    public static final String NODE_PREFIX = "127.10.0.";
    public static final String SERVICE_PREFIX = "127.96.0.";
    public static final String LOAD_BALANCER_PREFIX = "127.100.0.";
    public static final String EXTERNAL_CLIENT = "127.120.0.10";
    public static final int MAX_BLOCK = 30;
    /** Node n of block B has pods 127.17.(8B+n).x: a ninth node would take the next block's first. */
    public static final int MAX_NODES = 8;

    private final int block;
    /** Per node; addresses are not reused at once, as IPAM does. */
    private final Map<Integer, AddressPool> podsByNode = new HashMap<>();
    private final AddressPool services;
    private final BitSet loadBalancers = new BitSet();

    public AddressPlan(int block) {
        this.block = checkBlock(block);
        this.services = AddressPool.of("127.96." + block + ".", 2);
    }

    public AddressPlan() {
        this(0);
    }

    /** The block SOURCEMESH_ADDRESS_BLOCK or -Dsourcemesh.addressBlock asks for, if either does. */
    public static OptionalInt configuredBlock() {
        String v = System.getProperty("sourcemesh.addressBlock", System.getenv("SOURCEMESH_ADDRESS_BLOCK"));
        if (v == null || v.isBlank()) {
            return OptionalInt.empty();
        }
        try {
            return OptionalInt.of(checkBlock(Integer.parseInt(v.trim())));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("SOURCEMESH_ADDRESS_BLOCK must be a number 0.." + MAX_BLOCK + ", not \"" + v + "\"");
        }
    }

    static int checkBlock(int block) {
        if (block < 0 || block > MAX_BLOCK) {
            throw new IllegalArgumentException("address block must be 0.." + MAX_BLOCK + ", not " + block);
        }
        return block;
    }

    public int block() {
        return block;
    }

    /** Node {@code index} (0-based) of block 0. */
    public static InetAddress node(int index) {
        return ip(NODE_PREFIX + (index + 1));
    }

    public InetAddress nodeAddress(int index) {
        return ip("127.10." + block + "." + (index + 1));
    }

    /** A free pod address on node {@code nodeIndex} (0-based). */
    public synchronized InetAddress allocatePod(int nodeIndex) {
        if (nodeIndex < 0) {
            throw new IllegalArgumentException("no such node: " + nodeIndex);
        }
        AddressPool pool = podsByNode.computeIfAbsent(nodeIndex, n -> AddressPool.of("127.17." + (block * 8 + n) + ".", 2));
        return ip(pool.allocate().orElseThrow(() -> new IllegalStateException("no pod addresses left on node " + nodeIndex)));
    }

    public synchronized void releasePod(InetAddress pod) {
        AddressPool pool = podsByNode.get((pod.getAddress()[2] & 0xff) - block * 8);
        if (pool != null) {
            pool.release(pod.getHostAddress());
        }
    }

    /** The service VIPs (ClusterIPs) 127.96.B.2–254. */
    public AddressPool services() {
        return services;
    }

    public synchronized InetAddress allocateLoadBalancer() {
        int host = loadBalancers.nextClearBit(2);
        loadBalancers.set(host);
        return ip("127.100." + block + "." + host);
    }

    public static InetAddress ip(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(literal, e);
        }
    }
}
