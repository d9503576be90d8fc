package io.sourcemesh.proxy.http.forwarded;

import io.sourcemesh.proxy.address.CidrRange;
import java.net.InetAddress;
import java.util.Arrays;
import java.util.List;

/**
 * Which trusted client addresses make a request internal, as Envoy's HCM {@code internal_address_config}.
 * Only the listed ranges count: configuring any ranges replaces the defaults, it does not add to them.
 *
 * @param cidrRanges  ranges whose addresses are internal
 * @param unixSockets whether a peer on a unix domain socket is internal (kept for config parity; the
 *                    mutator only sees IP peers)
 */
public record InternalAddressConfig(List<CidrRange> cidrRanges, boolean unixSockets) {

    private static final InternalAddressConfig DEFAULTS = new InternalAddressConfig(List.of(
            CidrRange.parse("10.0.0.0/8"),
            CidrRange.parse("172.16.0.0/12"),
            CidrRange.parse("192.168.0.0/16"),
            // Envoy's Network::Utility::isInternalAddress also counts exactly one loopback address, not 127/8.
            CidrRange.parse("127.0.0.1/32"),
            // RFC 4193 is fc00::/7, but Envoy only tests the first byte against 0xfd.
            CidrRange.parse("fd00::/8"),
            CidrRange.parse("::1/128")), false);

    private static final InternalAddressConfig NONE = new InternalAddressConfig(List.of(), false);

    public InternalAddressConfig {
        cidrRanges = List.copyOf(cidrRanges);
    }

    /**
     * Envoy's built-in notion of internal (Network::Utility::isInternalAddress): 10/8, 172.16/12,
     * 192.168/16, 127.0.0.1, fd00::/8 and ::1. This is what the HCM headers documentation describes and
     * what Envoy used when {@code internal_address_config} was unset before
     * {@code envoy.reloadable_features.explicit_internal_address_config} became the default.
     */
    public static InternalAddressConfig defaults() {
        return DEFAULTS;
    }

    /** Nothing is internal: current Envoy's behaviour when {@code internal_address_config} is unset. */
    public static InternalAddressConfig none() {
        return NONE;
    }

    /** Only the given ranges (e.g. {@code "10.0.0.0/8"}, {@code "fd00::/8"}) are internal. */
    public static InternalAddressConfig of(String... cidrs) {
        return new InternalAddressConfig(Arrays.stream(cidrs).map(CidrRange::parse).toList(), false);
    }

    public boolean isInternal(InetAddress address) {
        for (CidrRange range : cidrRanges) {
            if (range.contains(address)) {
                return true;
            }
        }
        return false;
    }
}
