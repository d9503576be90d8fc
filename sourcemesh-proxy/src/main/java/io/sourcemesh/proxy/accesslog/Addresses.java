package io.sourcemesh.proxy.accesslog;

import io.netty.util.NetUtil;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;

/**
 * Prints socket addresses as Envoy does: "ip:port", IPv6 as "[::1]:80" in RFC 5952 compressed
 * form, and the bare IP (no brackets) for the *_WITHOUT_PORT operators.
 */
final class Addresses {
    private Addresses() {}

    static void appendWithPort(StringBuilder out, InetSocketAddress a) {
        InetAddress ip = a.getAddress();
        if (ip instanceof Inet6Address) {
            out.append('[').append(NetUtil.toAddressString(ip)).append(']');
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
            out.append(NetUtil.toAddressString(ip)); // no "%scope", no host-name lookup
        }
    }
}
