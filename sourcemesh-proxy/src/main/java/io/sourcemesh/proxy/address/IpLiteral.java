package io.sourcemesh.proxy.address;

/**
 * IP literal parsing and printing on raw bytes, with the strictness of {@code inet_pton} and the output
 * of {@code inet_ntop}, which is what Envoy uses for XFF entries and {@code addressAsString()}.
 * No regex, no DNS, no substring: the hot path parses straight out of the header value. Public for
 * the PROXY protocol receiver, whose addresses come off the network just the same.
 */
public final class IpLiteral {

    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private IpLiteral() {
    }

    /** Parses {@code text[from, to)} as an IPv4 or IPv6 literal; null when it is anything else (ports, brackets, names). */
    public static byte[] parse(CharSequence text, int from, int to) {
        for (int i = from; i < to; i++) {
            if (text.charAt(i) == ':') {
                return parseV6(text, from, to);
            }
        }
        byte[] out = new byte[4];
        return parseV4(text, from, to, out, 0) ? out : null;
    }

    public static byte[] parse(CharSequence text) {
        return parse(text, 0, text.length());
    }

    /** Same rules as glibc {@code inet_pton4}: exactly four decimal octets, no leading zeros. */
    private static boolean parseV4(CharSequence text, int from, int to, byte[] out, int offset) {
        int octets = 0;
        int value = 0;
        boolean sawDigit = false;
        for (int i = from; i < to; i++) {
            char ch = text.charAt(i);
            if (ch >= '0' && ch <= '9') {
                if (sawDigit && value == 0) {
                    return false;
                }
                value = value * 10 + (ch - '0');
                if (value > 255) {
                    return false;
                }
                if (!sawDigit) {
                    if (++octets > 4) {
                        return false;
                    }
                    sawDigit = true;
                }
            } else if (ch == '.' && sawDigit) {
                if (octets == 4) {
                    return false;
                }
                out[offset + octets - 1] = (byte) value;
                value = 0;
                sawDigit = false;
            } else {
                return false;
            }
        }
        if (octets < 4 || !sawDigit) {
            return false;
        }
        out[offset + 3] = (byte) value;
        return true;
    }

    /** Same rules as glibc {@code inet_pton6}: one "::" at most, up to four hex digits a group, optional dotted IPv4 tail. */
    private static byte[] parseV6(CharSequence text, int from, int to) {
        byte[] out = new byte[16];
        int p = 0;
        int colonAt = -1;
        int i = from;
        if (i < to && text.charAt(i) == ':') {
            if (i + 1 >= to || text.charAt(i + 1) != ':') {
                return null;
            }
            i++;
        }
        int token = i;
        boolean sawDigit = false;
        int digits = 0;
        int value = 0;
        while (i < to) {
            char ch = text.charAt(i++);
            int hex = hexValue(ch);
            if (hex >= 0) {
                if (++digits > 4) {
                    return null;
                }
                value = (value << 4) | hex;
                sawDigit = true;
                continue;
            }
            if (ch == ':') {
                token = i;
                if (!sawDigit) {
                    if (colonAt >= 0) {
                        return null;
                    }
                    colonAt = p;
                    continue;
                }
                if (i == to || p + 2 > 16) {
                    return null;
                }
                out[p++] = (byte) (value >> 8);
                out[p++] = (byte) value;
                sawDigit = false;
                digits = 0;
                value = 0;
                continue;
            }
            if (ch == '.' && p + 4 <= 16) {
                if (!parseV4(text, token, to, out, p)) {
                    return null;
                }
                p += 4;
                sawDigit = false;
                break;
            }
            return null;
        }
        if (sawDigit) {
            if (p + 2 > 16) {
                return null;
            }
            out[p++] = (byte) (value >> 8);
            out[p++] = (byte) value;
        }
        if (colonAt >= 0) {
            if (p == 16) {
                return null;
            }
            int moved = p - colonAt;
            for (int j = 1; j <= moved; j++) {
                out[16 - j] = out[colonAt + moved - j];
                out[colonAt + moved - j] = 0;
            }
            p = 16;
        }
        return p == 16 ? out : null;
    }

    private static int hexValue(char ch) {
        if (ch >= '0' && ch <= '9') {
            return ch - '0';
        }
        if (ch >= 'a' && ch <= 'f') {
            return ch - 'a' + 10;
        }
        if (ch >= 'A' && ch <= 'F') {
            return ch - 'A' + 10;
        }
        return -1;
    }

    /** Prints like glibc {@code inet_ntop}: dotted quad, or RFC 5952-style IPv6 with the first longest zero run compressed. */
    public static String format(byte[] address) {
        StringBuilder out = new StringBuilder(address.length == 4 ? 15 : 39);
        appendTo(out, address);
        return out.toString();
    }

    static void appendTo(StringBuilder out, byte[] address) {
        if (address.length == 4) {
            appendV4(out, address, 0);
            return;
        }
        int bestBase = -1;
        int bestLength = 0;
        int base = -1;
        for (int w = 0; w < 8; w++) {
            if (word(address, w) == 0) {
                if (base < 0) {
                    base = w;
                }
                if (w - base + 1 > bestLength) {
                    bestBase = base;
                    bestLength = w - base + 1;
                }
            } else {
                base = -1;
            }
        }
        if (bestLength < 2) {
            bestBase = -1;
        }
        for (int w = 0; w < 8; w++) {
            if (bestBase >= 0 && w >= bestBase && w < bestBase + bestLength) {
                if (w == bestBase) {
                    out.append(':');
                }
                continue;
            }
            if (w != 0) {
                out.append(':');
            }
            // inet_ntop prints IPv4-compatible and IPv4-mapped addresses with a dotted tail.
            if (w == 6 && bestBase == 0
                    && (bestLength == 6 || (bestLength == 7 && word(address, 7) != 1) || (bestLength == 5 && word(address, 5) == 0xffff))) {
                appendV4(out, address, 12);
                return;
            }
            appendHex(out, word(address, w));
        }
        if (bestBase >= 0 && bestBase + bestLength == 8) {
            out.append(':');
        }
    }

    private static int word(byte[] address, int index) {
        return ((address[2 * index] & 0xff) << 8) | (address[2 * index + 1] & 0xff);
    }

    private static void appendV4(StringBuilder out, byte[] address, int offset) {
        for (int i = 0; i < 4; i++) {
            if (i > 0) {
                out.append('.');
            }
            out.append(address[offset + i] & 0xff);
        }
    }

    private static void appendHex(StringBuilder out, int value) {
        boolean started = false;
        for (int shift = 12; shift >= 0; shift -= 4) {
            int nibble = (value >> shift) & 0xf;
            if (nibble != 0 || started || shift == 0) {
                out.append(HEX[nibble]);
                started = true;
            }
        }
    }

    /** Envoy's {@code isLoopbackAddress}: exactly 127.0.0.1 or ::1, not the whole 127/8. */
    public static boolean isLoopback(byte[] address) {
        if (address.length == 4) {
            return address[0] == 127 && address[1] == 0 && address[2] == 0 && address[3] == 1;
        }
        for (int i = 0; i < 15; i++) {
            if (address[i] != 0) {
                return false;
            }
        }
        return address[15] == 1;
    }
}
