package io.sourcemesh.cluster.loadbalancer;

import io.netty.util.NetUtil;
import io.sourcemesh.l4.Addresses;
import io.sourcemesh.api.resource.ProxyProtocolAnnotations;
import java.io.ByteArrayOutputStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * The PROXY protocol header a cloud load balancer writes before a connection's first byte
 * (haproxy's doc/proxy-protocol.txt): the client's address and port as source, the load balancer's
 * own address and port as destination. v1 is the text line {@code PROXY TCP4 src dst sport dport\r\n};
 * v2 the binary form with command PROXY and family TCP over IPv4 or IPv6. Mixed families are written
 * as IPv6 (an IPv4 address as ::ffff:a.b.c.d), as the spec says a sender must use one family.
 */
public final class ProxyProtocolHeader {
    private static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    private static final int V2_PROXY = 0x21;      // version 2, command PROXY
    private static final int TCP_OVER_IPV4 = 0x11;
    private static final int TCP_OVER_IPV6 = 0x21;

    private ProxyProtocolHeader() {}

    public static byte[] of(ProxyProtocolAnnotations.Version version, InetSocketAddress source, InetSocketAddress destination) {
        return version == ProxyProtocolAnnotations.Version.V2 ? v2(source, destination) : v1(source, destination);
    }

    public static byte[] v1(InetSocketAddress source, InetSocketAddress destination) {
        boolean v4 = bothV4(source, destination);
        String line = "PROXY " + (v4 ? "TCP4 " : "TCP6 ") + literal(source.getAddress(), v4) + " "
                + literal(destination.getAddress(), v4) + " " + source.getPort() + " " + destination.getPort() + "\r\n";
        return line.getBytes(StandardCharsets.US_ASCII);
    }

    public static byte[] v2(InetSocketAddress source, InetSocketAddress destination) {
        boolean v4 = bothV4(source, destination);
        byte[] src = bytes(source.getAddress(), v4);
        byte[] dst = bytes(destination.getAddress(), v4);
        int length = src.length + dst.length + 4;
        ByteArrayOutputStream out = new ByteArrayOutputStream(16 + length);
        out.writeBytes(V2_SIGNATURE);
        out.write(V2_PROXY);
        out.write(v4 ? TCP_OVER_IPV4 : TCP_OVER_IPV6);
        out.write(length >> 8);
        out.write(length & 0xFF);
        out.writeBytes(src);
        out.writeBytes(dst);
        out.write(source.getPort() >> 8);
        out.write(source.getPort() & 0xFF);
        out.write(destination.getPort() >> 8);
        out.write(destination.getPort() & 0xFF);
        return out.toByteArray();
    }

    private static boolean bothV4(InetSocketAddress a, InetSocketAddress b) {
        return unmapped(a.getAddress()) instanceof Inet4Address && unmapped(b.getAddress()) instanceof Inet4Address;
    }

    private static InetAddress unmapped(InetAddress a) {
        return Addresses.unmapped(a);
    }

    private static byte[] bytes(InetAddress a, boolean v4) {
        byte[] raw = unmapped(a).getAddress();
        if (v4 || raw.length == 16) {
            return raw;
        }
        byte[] mapped = new byte[16];
        mapped[10] = (byte) 0xFF;
        mapped[11] = (byte) 0xFF;
        System.arraycopy(raw, 0, mapped, 12, 4);
        return mapped;
    }

    private static String literal(InetAddress a, boolean v4) {
        // Netty's text form: dotted quad, or compressed IPv6 (a mapped IPv4 address in hex groups).
        return NetUtil.bytesToIpAddress(bytes(a, v4));
    }
}
