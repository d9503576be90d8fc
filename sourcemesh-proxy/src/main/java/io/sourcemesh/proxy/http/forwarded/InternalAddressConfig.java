package io.sourcemesh.proxy.http.forwarded;

import io.sourcemesh.proxy.network.CidrRange;
import java.util.List;

/** TEMPORARY stand-in until the xff branch lands. */
public record InternalAddressConfig(List<CidrRange> cidrRanges, boolean unixSockets) {
    public static InternalAddressConfig defaults() {
        return new InternalAddressConfig(List.of(CidrRange.parse("10.0.0.0/8"), CidrRange.parse("172.16.0.0/12"),
                CidrRange.parse("192.168.0.0/16"), CidrRange.parse("fd00::/8")), false);
    }
}
