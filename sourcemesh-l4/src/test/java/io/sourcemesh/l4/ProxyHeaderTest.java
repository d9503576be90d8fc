package io.sourcemesh.l4;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The header bytes, per the PROXY protocol spec (haproxy's proxy-protocol.txt, sections 2.1 and 2.2). */
class ProxyHeaderTest {
    private static final InetSocketAddress V4_SRC = new InetSocketAddress("192.0.2.10", 50000);
    private static final InetSocketAddress V4_DST = new InetSocketAddress("198.51.100.1", 443);
    private static final InetSocketAddress V6_SRC = new InetSocketAddress("2001:db8::1", 50000);
    private static final InetSocketAddress V6_DST = new InetSocketAddress("2001:db8::2", 443);

    private static byte[] bytes(ByteBuf b) {
        try {
            return ByteBufUtil.getBytes(b);
        } finally {
            b.release();
        }
    }

    @Test
    void v1Lines() {
        assertEquals("PROXY TCP4 192.0.2.10 198.51.100.1 50000 443\r\n",
                new String(bytes(new ProxyHeader(1, V4_SRC, V4_DST).encode()), StandardCharsets.US_ASCII));
        assertEquals("PROXY TCP6 2001:db8:0:0:0:0:0:1 2001:db8:0:0:0:0:0:2 50000 443\r\n",
                new String(bytes(new ProxyHeader(1, V6_SRC, V6_DST).encode()), StandardCharsets.US_ASCII));
        assertEquals("PROXY UNKNOWN\r\n", new String(bytes(new ProxyHeader(1, V4_SRC, V6_DST).encode()), StandardCharsets.US_ASCII));
    }

    @Test
    void v2Binary() {
        byte[] v4 = bytes(new ProxyHeader(2, V4_SRC, V4_DST).encode());
        assertEquals(16 + 12, v4.length);
        assertEquals(0x21, v4[12]);
        assertEquals(0x11, v4[13]);
        assertArrayEquals(new byte[] {(byte) 192, 0, 2, 10, (byte) 198, 51, 100, 1, (byte) 0xC3, 0x50, 0x01, (byte) 0xBB},
                java.util.Arrays.copyOfRange(v4, 16, 28));
        byte[] v6 = bytes(new ProxyHeader(2, V6_SRC, V6_DST).encode());
        assertEquals(16 + 36, v6.length);
        assertEquals(0x21, v6[13]);
        assertEquals(36, v6[15]);
        byte[] local = bytes(new ProxyHeader(2, V4_SRC, V6_DST).encode());
        assertEquals(16, local.length);
        assertEquals(0x20, local[12], "LOCAL command when the families differ");
    }
}
