package io.sourcemesh.proxy.listener;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * What tls_inspector learns from the first bytes of a connection without consuming them: whether
 * it is TLS, and the ClientHello's SNI and ALPN. Reads only; never modifies the buffer.
 */
public record ClientHello(Result result, String serverName, List<String> alpn) {

    public enum Result { NEED_MORE, TLS, NOT_TLS }

    static final ClientHello NEED_MORE = new ClientHello(Result.NEED_MORE, null, List.of());
    static final ClientHello NOT_TLS = new ClientHello(Result.NOT_TLS, null, List.of());
    /** Envoy's tls_inspector gives up on ClientHellos larger than 64 KiB. */
    static final int MAX_CLIENT_HELLO = 64 * 1024;

    public static ClientHello inspect(ByteBuf in) {
        int start = in.readerIndex();
        int readable = in.readableBytes();
        if (readable < 1) {
            return NEED_MORE;
        }
        if (in.getUnsignedByte(start) != 22) { // handshake record
            return NOT_TLS;
        }
        if (readable < 5) {
            return NEED_MORE;
        }
        int major = in.getUnsignedByte(start + 1);
        if (major != 3) {
            return NOT_TLS;
        }
        // The ClientHello may span several records: gather handshake bytes across them.
        byte[] handshake = new byte[0];
        int pos = start;
        int needed = -1;
        while (true) {
            if (start + readable - pos < 5) {
                return NEED_MORE;
            }
            if (in.getUnsignedByte(pos) != 22) {
                return NOT_TLS;
            }
            int length = in.getUnsignedShort(pos + 3);
            if (start + readable - pos - 5 < length) {
                return pos - start + 5 + length > MAX_CLIENT_HELLO ? NOT_TLS : NEED_MORE;
            }
            byte[] grown = new byte[handshake.length + length];
            System.arraycopy(handshake, 0, grown, 0, handshake.length);
            in.getBytes(pos + 5, grown, handshake.length, length);
            handshake = grown;
            pos += 5 + length;
            if (needed < 0 && handshake.length >= 4) {
                if (handshake[0] != 1) { // not a ClientHello
                    return NOT_TLS;
                }
                needed = 4 + (((handshake[1] & 0xff) << 16) | ((handshake[2] & 0xff) << 8) | (handshake[3] & 0xff));
                if (needed > MAX_CLIENT_HELLO) {
                    return NOT_TLS;
                }
            }
            if (needed >= 0 && handshake.length >= needed) {
                return parse(handshake);
            }
        }
    }

    private static ClientHello parse(byte[] h) {
        try {
            int p = 4 + 2 + 32; // header, version, random
            p += 1 + (h[p] & 0xff); // session id
            p += 2 + u16(h, p); // cipher suites
            p += 1 + (h[p] & 0xff); // compression methods
            String sni = null;
            List<String> alpn = new ArrayList<>();
            if (p + 2 <= h.length) {
                int end = p + 2 + u16(h, p);
                p += 2;
                while (p + 4 <= end) {
                    int type = u16(h, p);
                    int len = u16(h, p + 2);
                    int body = p + 4;
                    if (type == 0) { // server_name
                        int q = body + 2;
                        int listEnd = body + 2 + u16(h, body);
                        while (q + 3 <= listEnd) {
                            int nameLen = u16(h, q + 1);
                            if (h[q] == 0) {
                                sni = new String(h, q + 3, nameLen, StandardCharsets.US_ASCII).toLowerCase(java.util.Locale.ROOT);
                            }
                            q += 3 + nameLen;
                        }
                    } else if (type == 16) { // application_layer_protocol_negotiation
                        int q = body + 2;
                        int listEnd = body + 2 + u16(h, body);
                        while (q < listEnd) {
                            int l = h[q] & 0xff;
                            alpn.add(new String(h, q + 1, l, StandardCharsets.US_ASCII));
                            q += 1 + l;
                        }
                    }
                    p = body + len;
                }
            }
            return new ClientHello(Result.TLS, sni, List.copyOf(alpn));
        } catch (ArrayIndexOutOfBoundsException e) {
            return NOT_TLS;
        }
    }

    private static int u16(byte[] b, int i) {
        return ((b[i] & 0xff) << 8) | (b[i + 1] & 0xff);
    }
}
