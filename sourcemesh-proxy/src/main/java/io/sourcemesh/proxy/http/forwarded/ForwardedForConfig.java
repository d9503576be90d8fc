package io.sourcemesh.proxy.http.forwarded;

import io.sourcemesh.proxy.network.CidrRange;
import java.util.List;

/** TEMPORARY stand-in until the xff branch lands. */
public record ForwardedForConfig(boolean useRemoteAddress, int xffNumTrustedHops, boolean skipXffAppend,
        List<CidrRange> xffTrustedCidrs, boolean recurse, InternalAddressConfig internalAddresses,
        boolean generateRequestId, boolean preserveExternalRequestId, boolean alwaysSetRequestIdInResponse) {}
