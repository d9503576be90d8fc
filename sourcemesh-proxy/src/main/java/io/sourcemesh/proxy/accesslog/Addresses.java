package io.sourcemesh.proxy.accesslog;

import io.sourcemesh.proxy.address.IpLiteral;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * Prints socket addresses as Envoy does: "ip:port", IPv6 as "[::1]:80" in inet_ntop's compressed
 * form (an IPv4-mapped address as "::ffff:6.6.6.6"), and the bare IP (no brackets) for the *_WITHOUT_PORT operators.
 */
final class Addresses {
    private Addresses() {}

    static void appendWithPort(StringBuilder out, InetSocketAddress a) {
        InetAddress ip = a.getAddress();
        if (ip instanceof Inet6Address) {
            out.append('[').append(IpLiteral.format(ip.getAddress())).append(']');
        } else {
            appendIp(out, a);
        }
        out.append(':').append(a.getPort());
    }

    static void appendIp(StringBuilder out, InetSocketAddress a) {
        InetAddress ip = a.getAddress();
        if (ip == null) {
            out.append(a.getHostString()); // unresolved: keep the name as configured
        } else {
            out.append(IpLiteral.format(ip.getAddress())); // inet_ntop's form, no "%scope", no lookup
        }
    }

    /** The address masked to {@code bits} in CIDR notation ("10.1.0.0/16"); false when bits exceed the family's length. */
    static boolean appendMasked(StringBuilder out, InetAddress ip, int bits) {
        byte[] raw = ip.getAddress();
        if (bits > raw.length * 8) {
            return false;
        }
        for (int i = 0; i < raw.length; i++) {
            int keep = Math.max(0, Math.min(8, bits - i * 8));
            raw[i] &= (byte) (0xff << (8 - keep));
        }
        out.append(IpLiteral.format(raw)).append('/').append(bits);
        return true;
    }
}
