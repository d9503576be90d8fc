package io.sourcemesh.cluster.network;

import java.util.BitSet;
import java.util.Collection;
import java.util.Optional;

/**
 * The one address allocator of both runtimes, for ClusterIPs and pod addresses: the hosts
 * {@code first}..254 of a /24. {@link #of} hands out the next free address after the last one it
 * gave, so an address just released is not reused at once (as Kubernetes' host-local IPAM does: a
 * client that still holds it does not reach a newcomer). {@link #lowestFree} always gives the lowest
 * free one: the netns runtime's pod ranges keep that, whose reuse of an address (and of the veth
 * named after it) its topology tests exercise.
 */
public final class AddressPool {
    private static final int LAST = 254;
    private final String prefix;
    private final int first;
    private final boolean rotate;
    private final BitSet used = new BitSet();
    private int next;

    private AddressPool(String prefix, int first, boolean rotate) {
        if (!prefix.matches("(\\d{1,3}\\.){3}") || first < 1 || first > LAST) {
            throw new IllegalArgumentException("address pool " + prefix + first + "-" + LAST);
        }
        this.prefix = prefix;
        this.first = first;
        this.next = first;
        this.rotate = rotate;
    }

    /** The hosts {@code first}..254 of {@code prefix} (three octets and a dot, e.g. {@code 10.96.0.}). */
    public static AddressPool of(String prefix, int first) {
        return new AddressPool(prefix, first, true);
    }

    /** As {@link #of}, but each allocation takes the lowest free address, a released one at once. */
    public static AddressPool lowestFree(String prefix, int first) {
        return new AddressPool(prefix, first, false);
    }

    public String prefix() {
        return prefix;
    }

    /** Whether {@code ip} is one of this pool's addresses. */
    public boolean contains(String ip) {
        return host(ip) >= 0;
    }

    /** The next free address, or empty when every one is taken. */
    public synchronized Optional<String> allocate() {
        int host = used.nextClearBit(rotate ? next : first);
        if (host > LAST) {
            host = used.nextClearBit(first);
        }
        if (host > LAST) {
            return Optional.empty();
        }
        used.set(host);
        next = host + 1;
        return Optional.of(prefix + host);
    }

    /** Marks an address as taken (one kept in the store across restarts); others' addresses are ignored. */
    public synchronized void reserve(String ip) {
        int host = host(ip);
        if (host >= 0) {
            used.set(host);
        }
    }

    public synchronized void release(String ip) {
        int host = host(ip);
        if (host >= 0) {
            used.clear(host);
        }
    }

    /** Exactly the pool's addresses among {@code inUse} are taken: the others are free again. */
    public synchronized void retainOnly(Collection<String> inUse) {
        used.clear();
        inUse.forEach(this::reserve);
    }

    private int host(String ip) {
        if (ip == null || !ip.startsWith(prefix)) {
            return -1;
        }
        try {
            int host = Integer.parseInt(ip.substring(prefix.length()));
            return host >= first && host <= LAST ? host : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
