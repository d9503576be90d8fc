package io.sourcemesh.proxy.listener;

import io.netty.buffer.ByteBuf;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Parses a PROXY protocol v1 or v2 header (haproxy's doc/proxy-protocol.txt) at the start of a
 * buffer without consuming it. Never guesses: it waits until the whole header is there.
 */
final class ProxyProtocolHeader {
    private static final byte[] V2_SIGNATURE = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
    private static final byte[] V1_PREFIX = "PROXY ".getBytes(StandardCharsets.US_ASCII);
    private static final int V1_MAX = 107;

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
        String[] f = line.split(" ");
        int length = end + 2;
        if (f.length >= 2 && f[1].equals("UNKNOWN")) {
            return new Parse(Result.OK, length, Optional.empty(), Optional.empty(), true, null);
        }
        if (f.length != 6 || !(f[1].equals("TCP4") || f[1].equals("TCP6"))) {
            return Parse.invalid(true, "malformed v1 header: " + line);
        }
        try {
            InetAddress src = io.sourcemesh.proxy.network.CidrRange.literal(f[2]);
            InetAddress dst = io.sourcemesh.proxy.network.CidrRange.literal(f[3]);
            boolean v6 = f[1].equals("TCP6");
            if ((src.getAddress().length == 16) != v6 || (dst.getAddress().length == 16) != v6) {
                return Parse.invalid(true, "address family does not match " + f[1]);
            }
            int sport = port(f[4]);
            int dport = port(f[5]);
            return new Parse(Result.OK, length, Optional.of(new InetSocketAddress(src, sport)),
                    Optional.of(new InetSocketAddress(dst, dport)), true, null);
        } catch (IllegalArgumentException e) {
            return Parse.invalid(true, "malformed v1 header: " + line);
        }
    }

    private static int port(String s) {
        if (s.isEmpty() || s.length() > 5 || (s.length() > 1 && s.charAt(0) == '0')) {
            throw new IllegalArgumentException(s);
        }
        int p = Integer.parseInt(s);
        if (p > 65535) {
            throw new IllegalArgumentException(s);
        }
        return p;
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
        try {
            switch (famProto) {
                case 0x11 -> {
                    if (rest < 12) {
                        return Parse.invalid(true, "v2 TCP4 address block too short");
                    }
                    byte[] s = new byte[4];
                    byte[] d = new byte[4];
                    in.getBytes(start + 16, s);
                    in.getBytes(start + 20, d);
                    return new Parse(Result.OK, length,
                            Optional.of(new InetSocketAddress(InetAddress.getByAddress(s), in.getUnsignedShort(start + 24))),
                            Optional.of(new InetSocketAddress(InetAddress.getByAddress(d), in.getUnsignedShort(start + 26))), true, null);
                }
                case 0x21 -> {
                    if (rest < 36) {
                        return Parse.invalid(true, "v2 TCP6 address block too short");
                    }
                    byte[] s = new byte[16];
                    byte[] d = new byte[16];
                    in.getBytes(start + 16, s);
                    in.getBytes(start + 32, d);
                    return new Parse(Result.OK, length,
                            Optional.of(new InetSocketAddress(InetAddress.getByAddress(s), in.getUnsignedShort(start + 48))),
                            Optional.of(new InetSocketAddress(InetAddress.getByAddress(d), in.getUnsignedShort(start + 50))), true, null);
                }
                default -> {
                    // UNSPEC, UDP and unix sockets carry no TCP client address: keep the socket's.
                    return new Parse(Result.OK, length, Optional.empty(), Optional.empty(), true, null);
                }
            }
        } catch (java.net.UnknownHostException e) {
            return Parse.invalid(true, e.getMessage());
        }
    }
}
