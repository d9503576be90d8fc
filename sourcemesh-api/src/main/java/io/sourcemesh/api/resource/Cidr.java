package io.sourcemesh.api.resource;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.HexFormat;

/**
 * An IP address or CIDR range as Istio's AuthorizationPolicy accepts it ({@code 1.2.3.4}, {@code 10.0.0.0/8},
 * {@code ::1}, {@code fd00::/8}), parsed without any name lookup. A bare address is its own /32 or /128.
 */
public record Cidr(String address, int prefixLen) {

    /** The range, or IllegalArgumentException with Istio's message ("bad IP address (x)"). */
    public static Cidr parse(String value) {
        int slash = value.indexOf('/');
        String ip = slash < 0 ? value : value.substring(0, slash);
        byte[] bytes = bytes(ip);
        if (bytes == null) {
            throw new IllegalArgumentException(slash < 0 ? "bad IP address (" + value + ")"
                    : "bad CIDR range (" + value + "): netip.ParsePrefix(\"" + value + "\"): ParseAddr(\"" + ip + "\"): invalid IP address");
        }
        int max = bytes.length * 8;
        if (slash < 0) {
            return new Cidr(ip, max);
        }
        String len = value.substring(slash + 1);
        if (!len.matches("[0-9]{1,3}") || Integer.parseInt(len) > max) {
            throw new IllegalArgumentException("bad CIDR range (" + value + "): netip.ParsePrefix(\"" + value
                    + "\"): bad bits after slash: \"" + len + "\"");
        }
        return new Cidr(ip, Integer.parseInt(len));
    }

    /** Istio's validation message for this value, or null when it is a valid address or range. */
    public static String problem(String value) {
        try {
            parse(value);
            return null;
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }

    /** An IP address as Go's netip.ParseAddr reads one: no prefix length. */
    public static boolean isAddress(String value) {
        return !value.contains("/") && problem(value) == null;
    }

    /**
     * The range as Envoy's CidrRange compares ranges: the address masked to its prefix, tagged with its family (an
     * IPv4-mapped IPv6 address is IPv6 to Envoy, though Java reads it as IPv4). Equal for ranges that match alike.
     */
    public String network() {
        byte[] b = bytes(address);
        for (int bit = prefixLen; bit < b.length * 8; bit++) {
            b[bit / 8] &= (byte) ~(0x80 >>> (bit % 8));
        }
        return (address.contains(":") ? "6:" : "4:") + HexFormat.of().formatHex(b) + "/" + prefixLen;
    }

    /** Whether {@code address} is in this range (an IPv4 address is never in an IPv6 range, nor the other way). */
    public boolean contains(InetAddress address) {
        byte[] network = bytes(this.address);
        byte[] a = address.getAddress();
        if (network.length != a.length) {
            return false;
        }
        int full = prefixLen / 8;
        for (int i = 0; i < full; i++) {
            if (network[i] != a[i]) {
                return false;
            }
        }
        int rest = prefixLen % 8;
        if (rest == 0) {
            return true;
        }
        int mask = (0xff << (8 - rest)) & 0xff;
        return (network[full] & mask) == (a[full] & mask);
    }

    private static byte[] bytes(String ip) {
        if (ip.contains(":")) {
            if (!ip.matches("[0-9a-fA-F:.]+")) {
                return null; // no zones, no names: a literal only, so nothing is looked up
            }
            try {
                return InetAddress.getByName(ip).getAddress();
            } catch (UnknownHostException e) {
                return null;
            }
        }
        String[] parts = ip.split("\\.", -1);
        if (parts.length != 4) {
            return null;
        }
        byte[] out = new byte[4];
        for (int i = 0; i < 4; i++) {
            // Go's netip refuses leading zeros (octal ambiguity), and so do we.
            if (!parts[i].matches("0|[1-9][0-9]{0,2}") || Integer.parseInt(parts[i]) > 255) {
                return null;
            }
            out[i] = (byte) Integer.parseInt(parts[i]);
        }
        return out;
    }
}
