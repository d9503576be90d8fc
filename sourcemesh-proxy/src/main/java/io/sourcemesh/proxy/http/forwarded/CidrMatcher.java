package io.sourcemesh.proxy.http.forwarded;

import io.sourcemesh.proxy.address.CidrRange;
import java.util.List;

/** A list of {@link CidrRange}s flattened once per config into byte prefixes, so matching allocates nothing. */
final class CidrMatcher {

    private final byte[][] networks;
    private final int[] prefixLengths;

    private CidrMatcher(byte[][] networks, int[] prefixLengths) {
        this.networks = networks;
        this.prefixLengths = prefixLengths;
    }

    static CidrMatcher of(List<CidrRange> ranges) {
        byte[][] networks = new byte[ranges.size()][];
        int[] prefixLengths = new int[ranges.size()];
        for (int i = 0; i < ranges.size(); i++) {
            networks[i] = ranges.get(i).address().getAddress();
            prefixLengths[i] = ranges.get(i).prefixLength();
        }
        return new CidrMatcher(networks, prefixLengths);
    }

    boolean isEmpty() {
        return networks.length == 0;
    }

    /** True when {@code address} (4 or 16 bytes) lies in any range; families never cross, as in Envoy. */
    boolean contains(byte[] address) {
        for (int i = 0; i < networks.length; i++) {
            if (matches(networks[i], prefixLengths[i], address)) {
                return true;
            }
        }
        return false;
    }

    private static boolean matches(byte[] network, int prefixLength, byte[] address) {
        if (network.length != address.length) {
            return false;
        }
        int whole = prefixLength >>> 3;
        for (int i = 0; i < whole; i++) {
            if (network[i] != address[i]) {
                return false;
            }
        }
        int rest = prefixLength & 7;
        if (rest == 0) {
            return true;
        }
        int mask = (0xff << (8 - rest)) & 0xff;
        return (network[whole] & mask) == (address[whole] & mask);
    }
}
