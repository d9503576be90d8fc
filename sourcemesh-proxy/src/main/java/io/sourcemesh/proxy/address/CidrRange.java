package io.sourcemesh.proxy.address;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/**
 * An address prefix such as {@code 10.0.0.0/8} or {@code fd00::/8}, as Envoy's {@code CidrRange}.
 * The stored address is masked to the prefix so equal ranges compare equal.
 */
public record CidrRange(InetAddress address, int prefixLength) {

    public CidrRange {
        int max = address.getAddress().length * 8;
        if (prefixLength < 0 || prefixLength > max) {
            throw new IllegalArgumentException("prefix length " + prefixLength + " is out of range for " + address.getHostAddress());
        }
        address = masked(address, prefixLength);
    }

    /** Parses {@code "10.0.0.0/8"}, or a bare address as a host range ({@code /32} or {@code /128}); see {@link #asWritten}. */
    public static CidrRange parse(String text) {
        int slash = text.indexOf('/');
        String host = slash < 0 ? text : text.substring(0, slash);
        InetAddress address = asWritten(host);
        int length = slash < 0 ? address.getAddress().length * 8 : Integer.parseInt(text.substring(slash + 1));
        return new CidrRange(address, length);
    }

    public static CidrRange of(String address, int prefixLength) {
        return new CidrRange(asWritten(address), prefixLength);
    }

    /**
     * Envoy's {@code CidrRange::create}: a prefix length longer than the address is clamped to it
     * (10.0.0.1/64 is 10.0.0.1/32; the proto allows up to 128 for either family).
     */
    public static CidrRange clamped(InetAddress address, int prefixLength) {
        return new CidrRange(address, Math.min(prefixLength, address.getAddress().length * 8));
    }

    /**
     * An IP literal in the family it is written in, as Envoy's address parser keeps it: an IPv4-mapped
     * {@code ::ffff:a.b.c.d} is IPv6 (so a range of it holds mapped XFF entries, never an IPv4 peer),
     * where Java's parser would fold it to IPv4.
     */
    public static InetAddress asWritten(String host) {
        InetAddress address = literal(host);
        if (address instanceof java.net.Inet4Address v4 && host.contains(":")) {
            byte[] mapped = new byte[16];
            mapped[10] = (byte) 0xff;
            mapped[11] = (byte) 0xff;
            System.arraycopy(v4.getAddress(), 0, mapped, 12, 4);
            try {
                return Inet6Address.getByAddress(null, mapped, -1);
            } catch (UnknownHostException e) {
                throw new IllegalStateException(e); // 16 bytes are always an IPv6 address
            }
        }
        return address;
    }

    /** True when {@code candidate} lies in this range; an IPv4 address never matches an IPv6 range and vice versa. */
    public boolean contains(InetAddress candidate) {
        byte[] mine = address.getAddress();
        byte[] theirs = candidate.getAddress();
        if (mine.length != theirs.length) {
            return false;
        }
        return Arrays.equals(mine, masked(candidate, prefixLength).getAddress());
    }

    @Override
    public String toString() {
        return address.getHostAddress() + "/" + prefixLength;
    }

    /** Keeps the family: InetAddress.getByAddress would fold an IPv4-mapped IPv6 address to IPv4, Envoy does not. */
    private static InetAddress masked(InetAddress address, int prefixLength) {
        byte[] bytes = address.getAddress();
        for (int i = 0; i < bytes.length; i++) {
            int bits = Math.max(0, Math.min(8, prefixLength - i * 8));
            bytes[i] &= (byte) (0xff << (8 - bits));
        }
        try {
            return bytes.length == 16 ? Inet6Address.getByAddress(null, bytes, -1) : InetAddress.getByAddress(bytes);
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Parses an IP literal without ever doing a DNS lookup. */
    public static InetAddress literal(String host) {
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        if (!h.matches("[0-9a-fA-F:.%]+") || !(h.contains(".") || h.contains(":"))) {
            throw new IllegalArgumentException("not an IP address: " + host);
        }
        try {
            return InetAddress.getByName(h);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("not an IP address: " + host, e);
        }
    }
}
