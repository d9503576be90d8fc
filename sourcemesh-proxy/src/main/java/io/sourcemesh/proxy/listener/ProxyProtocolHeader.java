package io.sourcemesh.proxy.listener;

import io.netty.buffer.ByteBuf;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import io.sourcemesh.proxy.address.IpLiteral;
import java.util.Optional;

/**
 * Parses a PROXY protocol v1 or v2 header (haproxy's doc/proxy-protocol.txt) at the start of a
 * buffer without consuming it. Never guesses: it waits until the whole header is there.
 */
final class ProxyProtocolHeader {
    private static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    private static final byte[] V1_PREFIX = "PROXY ".getBytes(StandardCharsets.US_ASCII);
    private static final int V1_MAX = 107;
    /** UNSPEC, TCP/UDP over IPv4 and IPv6, unix stream/datagram: the only family/protocol bytes the spec defines. */
    enum Result { NEED_MORE, OK, INVALID }

    /** {@code source}/{@code destination} are empty for LOCAL and UNKNOWN headers (use the socket's). */
    record Parse(Result result, int length, Optional<InetSocketAddress> source, Optional<InetSocketAddress> destination,
            boolean looksLikeHeader, String error) {
        static Parse needMore() { return new Parse(Result.NEED_MORE, 0, Optional.empty(), Optional.empty(), true, null); }
        static Parse invalid(boolean looksLikeHeader, String error) {
            return new Parse(Result.INVALID, 0, Optional.empty(), Optional.empty(), looksLikeHeader, error);
        }
    }

    private ProxyProtocolHeader() {}

    static Parse parse(ByteBuf in) {
        int start = in.readerIndex();
        int n = in.readableBytes();
        if (prefixMatches(in, start, n, V2_SIGNATURE)) {
            return n < V2_SIGNATURE.length ? Parse.needMore() : parseV2(in, start, n);
        }
        if (prefixMatches(in, start, n, V1_PREFIX)) {
            return n < V1_PREFIX.length ? Parse.needMore() : parseV1(in, start, n);
        }
        return Parse.invalid(false, "no PROXY protocol signature");
    }

    private static boolean prefixMatches(ByteBuf in, int start, int n, byte[] sig) {
        for (int i = 0; i < Math.min(n, sig.length); i++) {
            if (in.getByte(start + i) != sig[i]) {
                return false;
            }
        }
        return true;
    }

    private static Parse parseV1(ByteBuf in, int start, int n) {
        int end = -1;
        for (int i = 0; i < Math.min(n, V1_MAX) - 1; i++) {
            if (in.getByte(start + i) == '\r' && in.getByte(start + i + 1) == '\n') {
                end = i;
                break;
            }
        }
        if (end < 0) {
            return n >= V1_MAX ? Parse.invalid(true, "v1 header longer than 107 bytes") : Parse.needMore();
        }
        String line = in.toString(start, end, StandardCharsets.US_ASCII);
        String[] f = line.split(" ", -1);
        int length = end + 2;
        if (f.length >= 2 && f[1].equals("UNKNOWN")) {
            // The spec: a receiver ignores everything after UNKNOWN and keeps the socket's addresses.
            return new Parse(Result.OK, length, Optional.empty(), Optional.empty(), true, null);
        }
        if (f.length != 6 || !(f[1].equals("TCP4") || f[1].equals("TCP6"))) {
            return Parse.invalid(true, "malformed v1 header: " + printable(line));
        }
        // Literal addresses only, with inet_pton's strictness (as Envoy and HAProxy): never "127.1",
        // "010.6.6.6", a scope id or a host name, so a header off the network never causes a lookup.
        byte[] src = IpLiteral.parse(f[2]);
        byte[] dst = IpLiteral.parse(f[3]);
        int family = f[1].equals("TCP4") ? 4 : 16;
        if (src == null || dst == null) {
            return Parse.invalid(true, "v1 header address is not an IP literal: " + printable(line));
        }
        if (src.length != family || dst.length != family) {
            return Parse.invalid(true, "v1 header address family does not match " + f[1]);
        }
        int sport = port(f[4]);
        int dport = port(f[5]);
        if (sport < 0 || dport < 0) {
            return Parse.invalid(true, "v1 header port is not a number in 0..65535: " + printable(line));
        }
        if (!unicast(src) || !unicast(dst)) {
            return Parse.invalid(true, "v1 header address is not unicast: " + printable(line));
        }
        return new Parse(Result.OK, length, Optional.of(new InetSocketAddress(address(src), sport)),
                Optional.of(new InetSocketAddress(address(dst), dport)), true, null);
    }

    /**
     * Envoy's isUnicastAddress, which its filter requires of both addresses: not the any address, not multicast
     * (224.0.0.0/4, ff00::/8), not the IPv4 broadcast address. An IPv4-mapped address is judged as IPv6, as Envoy does.
     */
    private static boolean unicast(byte[] a) {
        boolean any = true;
        for (byte b : a) {
            any &= b == 0;
        }
        if (any) {
            return false;
        }
        if (a.length == 4) {
            boolean broadcast = (a[0] & a[1] & a[2] & a[3]) == (byte) 0xff;
            return !broadcast && (a[0] & 0xf0) != 0xe0;
        }
        return a[0] != (byte) 0xff;
    }

    /** Decimal digits only (no sign, no leading zero), 0..65535; -1 otherwise. */
    private static int port(String s) {
        if (s.isEmpty() || s.length() > 5 || (s.length() > 1 && s.charAt(0) == '0')) {
            return -1;
        }
        int p = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            p = p * 10 + (c - '0');
        }
        return p > 65535 ? -1 : p;
    }

    /**
     * The address as the header gave its family: an IPv4-mapped TCP6 source stays IPv6 ({@code ::ffff:a.b.c.d}), as
     * Envoy's Ipv6Instance keeps it — InetAddress.getByAddress would fold it to IPv4, and an IPv4 CIDR in a filter
     * chain or an RBAC rule would then match a source Envoy's would not.
     */
    private static InetAddress address(byte[] raw) {
        try {
            return raw.length == 16 ? java.net.Inet6Address.getByAddress(null, raw, -1) : InetAddress.getByAddress(raw);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The line as it may be logged: control and non-ASCII bytes escaped. */
    private static String printable(String line) {
        StringBuilder b = new StringBuilder(line.length());
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c < 0x20 || c > 0x7e) {
                b.append(String.format("\\x%02x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    private static Parse parseV2(ByteBuf in, int start, int n) {
        if (n < 16) {
            return Parse.needMore();
        }
        int verCmd = in.getUnsignedByte(start + 12);
        if ((verCmd >> 4) != 2) {
            return Parse.invalid(true, "unsupported v2 version " + (verCmd >> 4));
        }
        int command = verCmd & 0x0f;
        int famProto = in.getUnsignedByte(start + 13);
        int rest = in.getUnsignedShort(start + 14);
        int length = 16 + rest;
        if (n < length) {
            return Parse.needMore();
        }
        if (command == 0) { // LOCAL: health checks from the proxy itself; keep the socket's addresses
            return new Parse(Result.OK, length, Optional.empty(), Optional.empty(), true, null);
        }
        if (command != 1) {
            return Parse.invalid(true, "unknown v2 command " + command);
        }
        // Envoy takes the addresses of AF_INET and AF_INET6 over STREAM or DGRAM (0x11, 0x12, 0x21, 0x22) and refuses
        // every other family and transport under PROXY (AF_UNSPEC, AF_UNIX, undefined values): its lenV2Address and
        // parseV2Header (test V2AF_UNIX, V2UnsupportedAF).
        int family = famProto >> 4;
        int transport = famProto & 0x0f;
        if ((family != 1 && family != 2) || (transport != 1 && transport != 2)) {
            return Parse.invalid(true, String.format("unsupported v2 address family/transport 0x%02x", famProto));
        }
        int size = family == 1 ? 4 : 16;
        if (rest < 2 * size + 4) {
            return Parse.invalid(true, "v2 " + (family == 1 ? "IPv4" : "IPv6") + " address block too short");
        }
        byte[] s = new byte[size];
        byte[] d = new byte[size];
        in.getBytes(start + 16, s);
        in.getBytes(start + 16 + size, d);
        if (!unicast(s) || !unicast(d)) {
            return Parse.invalid(true, "v2 header address is not unicast");
        }
        return new Parse(Result.OK, length,
                Optional.of(new InetSocketAddress(address(s), in.getUnsignedShort(start + 16 + 2 * size))),
                Optional.of(new InetSocketAddress(address(d), in.getUnsignedShort(start + 18 + 2 * size))), true, null);
    }
}
