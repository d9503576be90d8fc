package io.sourcemesh.proxy.http.forwarded;

import io.sourcemesh.proxy.address.CidrRange;
import java.net.InetAddress;
import java.util.List;
import java.util.Objects;

/**
 * The HTTP connection manager settings that decide the trusted client address and the headers derived
 * from it, built once per config version.
 *
 * @param useRemoteAddress             HCM {@code use_remote_address}
 * @param xffNumTrustedHops            HCM {@code xff_num_trusted_hops} (or the xff extension's)
 * @param skipXffAppend                HCM {@code skip_xff_append}
 * @param xffTrustedCidrs              the xff original_ip_detection extension's {@code xff_trusted_cidrs.cidrs};
 *                                     null when not configured. When non-null, {@code xffNumTrustedHops} is not used.
 * @param recurse                      {@code xff_trusted_cidrs.recurse}
 * @param internalAddresses            HCM {@code internal_address_config}
 * @param generateRequestId            HCM {@code generate_request_id} (Envoy's default is true)
 * @param preserveExternalRequestId    HCM {@code preserve_external_request_id}
 * @param alwaysSetRequestIdInResponse HCM {@code always_set_request_id_in_response}
 * @param localAddress                 the proxy's own address (Envoy's {@code LocalInfo::address()}, the node's
 *                                     first non-loopback address), appended to XFF instead of the peer when the
 *                                     peer is exactly 127.0.0.1 or ::1; {@link #defaults()} uses 127.0.0.1, which
 *                                     is Envoy's own fallback when the host has no other address
 * @param internalOnlyHeaders          the route configuration's {@code internal_only_headers}, lower case: removed
 *                                     from every request that is not internal
 */
public record ForwardedForConfig(boolean useRemoteAddress, int xffNumTrustedHops, boolean skipXffAppend,
        List<CidrRange> xffTrustedCidrs, boolean recurse, InternalAddressConfig internalAddresses,
        boolean generateRequestId, boolean preserveExternalRequestId, boolean alwaysSetRequestIdInResponse,
        InetAddress localAddress, List<String> internalOnlyHeaders) {

    private static final ForwardedForConfig DEFAULTS = new ForwardedForConfig(false, 0, false, null, false,
            InternalAddressConfig.defaults(), true, false, false, InetAddress.getLoopbackAddress(), List.of());

    public ForwardedForConfig {
        if (xffNumTrustedHops < 0) {
            throw new IllegalArgumentException("xff_num_trusted_hops must not be negative: " + xffNumTrustedHops);
        }
        if (xffTrustedCidrs != null && useRemoteAddress) {
            // Envoy rejects this too: original_ip_detection_extensions and use_remote_address may not be mixed.
            throw new IllegalArgumentException("xff_trusted_cidrs (original_ip_detection_extensions) cannot be used with use_remote_address");
        }
        xffTrustedCidrs = xffTrustedCidrs == null ? null : List.copyOf(xffTrustedCidrs);
        Objects.requireNonNull(internalAddresses, "internalAddresses");
        Objects.requireNonNull(localAddress, "localAddress");
        internalOnlyHeaders = internalOnlyHeaders.stream().map(h -> h.toLowerCase(java.util.Locale.ROOT)).toList();
    }

    /** Envoy's HCM defaults: transparent XFF, no trusted hops, request ids generated, built-in internal ranges. */
    public static ForwardedForConfig defaults() {
        return DEFAULTS;
    }

    public ForwardedForConfig withUseRemoteAddress(boolean value) {
        return new ForwardedForConfig(value, xffNumTrustedHops, skipXffAppend, xffTrustedCidrs, recurse, internalAddresses,
                generateRequestId, preserveExternalRequestId, alwaysSetRequestIdInResponse, localAddress, internalOnlyHeaders);
    }

    public ForwardedForConfig withXffNumTrustedHops(int value) {
        return new ForwardedForConfig(useRemoteAddress, value, skipXffAppend, xffTrustedCidrs, recurse, internalAddresses,
                generateRequestId, preserveExternalRequestId, alwaysSetRequestIdInResponse, localAddress, internalOnlyHeaders);
    }

    public ForwardedForConfig withSkipXffAppend(boolean value) {
        return new ForwardedForConfig(useRemoteAddress, xffNumTrustedHops, value, xffTrustedCidrs, recurse, internalAddresses,
                generateRequestId, preserveExternalRequestId, alwaysSetRequestIdInResponse, localAddress, internalOnlyHeaders);
    }

    public ForwardedForConfig withXffTrustedCidrs(List<CidrRange> cidrs, boolean recurseXff) {
        return new ForwardedForConfig(useRemoteAddress, xffNumTrustedHops, skipXffAppend, cidrs, recurseXff, internalAddresses,
                generateRequestId, preserveExternalRequestId, alwaysSetRequestIdInResponse, localAddress, internalOnlyHeaders);
    }

    public ForwardedForConfig withInternalAddresses(InternalAddressConfig value) {
        return new ForwardedForConfig(useRemoteAddress, xffNumTrustedHops, skipXffAppend, xffTrustedCidrs, recurse, value,
                generateRequestId, preserveExternalRequestId, alwaysSetRequestIdInResponse, localAddress, internalOnlyHeaders);
    }

    public ForwardedForConfig withRequestId(boolean generate, boolean preserveExternal, boolean alwaysInResponse) {
        return new ForwardedForConfig(useRemoteAddress, xffNumTrustedHops, skipXffAppend, xffTrustedCidrs, recurse, internalAddresses,
                generate, preserveExternal, alwaysInResponse, localAddress, internalOnlyHeaders);
    }

    public ForwardedForConfig withLocalAddress(InetAddress value) {
        return new ForwardedForConfig(useRemoteAddress, xffNumTrustedHops, skipXffAppend, xffTrustedCidrs, recurse, internalAddresses,
                generateRequestId, preserveExternalRequestId, alwaysSetRequestIdInResponse, value, internalOnlyHeaders);
    }

    public ForwardedForConfig withInternalOnlyHeaders(List<String> value) {
        return new ForwardedForConfig(useRemoteAddress, xffNumTrustedHops, skipXffAppend, xffTrustedCidrs, recurse, internalAddresses,
                generateRequestId, preserveExternalRequestId, alwaysSetRequestIdInResponse, localAddress, value);
    }
}
