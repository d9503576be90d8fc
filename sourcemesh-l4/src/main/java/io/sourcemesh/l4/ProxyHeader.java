package io.sourcemesh.l4;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * The PROXY protocol header an upstream connection starts with
 * ({@code envoy.transport_sockets.upstream_proxy_protocol}): the downstream connection's remote
 * address as source and its local address as destination. Part of the pool key, as Envoy hashes
 * these addresses into it, so one client's connection is never reused for another.
 */
public record ProxyHeader(int version, InetSocketAddress source, InetSocketAddress destination) {
    private static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

    public ProxyHeader {
        if (version != 1 && version != 2) {
            throw new IllegalArgumentException("PROXY protocol version " + version);
        }
    }

    // equals and hashCode written out, as SourceBinding's: part of a pool key looked up per request.
    @Override
    public boolean equals(Object o) {
        return o instanceof ProxyHeader h && version == h.version && source.equals(h.source) && destination.equals(h.destination);
    }

    @Override
    public int hashCode() {
        return (version * 31 + source.hashCode()) * 31 + destination.hashCode();
    }

    public ByteBuf encode() {
        boolean v4 = source.getAddress() instanceof Inet4Address;
        boolean sameFamily = v4 == destination.getAddress() instanceof Inet4Address;
        if (version == 1) {
            String line = !sameFamily ? "PROXY UNKNOWN\r\n"
                    : "PROXY " + (v4 ? "TCP4 " : "TCP6 ") + source.getAddress().getHostAddress() + " "
                            + destination.getAddress().getHostAddress() + " " + source.getPort() + " " + destination.getPort() + "\r\n";
            return Unpooled.copiedBuffer(line.replaceAll("%[^ ]*", ""), StandardCharsets.US_ASCII); // no IPv6 scope ids
        }
        ByteBuf b = Unpooled.buffer(16 + 36);
        b.writeBytes(V2_SIGNATURE);
        if (!sameFamily) {
            b.writeByte(0x20); // version 2, LOCAL: the receiver uses the connection's own addresses
            b.writeByte(0x00);
            b.writeShort(0);
            return b;
        }
        b.writeByte(0x21); // version 2, PROXY
        b.writeByte(v4 ? 0x11 : 0x21); // TCP over IPv4 / IPv6
        b.writeShort(v4 ? 12 : 36);
        b.writeBytes(source.getAddress().getAddress());
        b.writeBytes(destination.getAddress().getAddress());
        b.writeShort(source.getPort());
        b.writeShort(destination.getPort());
        return b;
    }
}
