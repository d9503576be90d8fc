package io.sourcemesh.proxy.listener;

import static org.junit.jupiter.api.Assertions.*;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.sourcemesh.proxy.listener.ProxyProtocolHeader.Parse;
import io.sourcemesh.proxy.listener.ProxyProtocolHeader.Result;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * The PROXY protocol receiver, against haproxy's doc/proxy-protocol.txt and Envoy's
 * test/extensions/filters/listener/proxy_protocol/proxy_protocol_test.cc: literal addresses only,
 * with inet_pton's strictness, and every malformed header refused rather than guessed at.
 */
class ProxyProtocolHeaderTest {

    private static Parse v1(String line) {
        ByteBuf b = Unpooled.copiedBuffer(line, StandardCharsets.ISO_8859_1);
        try {
            return ProxyProtocolHeader.parse(b);
        } finally {
            b.release();
        }
    }

    private static Parse bytes(byte[] raw) {
        ByteBuf b = Unpooled.wrappedBuffer(raw);
        try {
            return ProxyProtocolHeader.parse(b);
        } finally {
            b.release();
        }
    }

    @Test
    void acceptsLiteralV4AndV6() {
        Parse p = v1("PROXY TCP4 1.2.3.4 10.0.0.1 65535 8080\r\nGET");
        assertEquals(Result.OK, p.result());
        assertEquals("1.2.3.4", p.source().orElseThrow().getAddress().getHostAddress());
        assertEquals(65535, p.source().orElseThrow().getPort());
        assertEquals(40, p.length());
        Parse v6 = v1("PROXY TCP6 ::ffff:6.6.6.6 ::1 1 2\r\n");
        assertEquals(Result.OK, v6.result(), v6.error());
        // An IPv4-mapped source stays IPv6, as Envoy's Ipv6Instance (InetAddress.getByAddress would fold it to 6.6.6.6).
        assertTrue(v6.source().orElseThrow().getAddress() instanceof java.net.Inet6Address, v6.source().toString());
        assertEquals("0:0:0:0:0:ffff:606:606", v6.source().orElseThrow().getAddress().getHostAddress());
        assertEquals(Result.OK, v1("PROXY UNKNOWN whatever follows\r\n").result());
        assertTrue(v1("PROXY UNKNOWN\r\n").source().isEmpty());
    }

    /** Envoy ProxyProtocolTest.v1Malformed* / v1WrongProtocol; the name forms never reach a resolver. */
    @ParameterizedTest
    @ValueSource(strings = {
            "PROXY TCP4 010.6.6.6 1.2.3.4 1 2\r\n",      // leading zero: inet_pton refuses, Java would read 10.6.6.6
            "PROXY TCP4 127.1 1.2.3.4 1 2\r\n",          // short form
            "PROXY TCP4 0x7f.0.0.1 1.2.3.4 1 2\r\n",
            "PROXY TCP4 bad.cafe 1.2.3.4 1 2\r\n",       // hex letters and a dot: a host name to the old parser
            "PROXY TCP4 localhost 1.2.3.4 1 2\r\n",
            "PROXY TCP4 1.2.3.4.5 1.2.3.4 1 2\r\n",
            "PROXY TCP4 256.1.1.1 1.2.3.4 1 2\r\n",
            "PROXY TCP6 [::1] ::1 1 2\r\n",
            "PROXY TCP6 fe80::1%lo ::1 1 2\r\n",
            "PROXY TCP4 ::1 ::1 1 2\r\n",                // family mismatch
            "PROXY TCP6 1.2.3.4 ::1 1 2\r\n",
            "PROXY TCP4 1.2.3.4 1.2.3.4 +1 2\r\n",       // signs, leading zeros, out of range
            "PROXY TCP4 1.2.3.4 1.2.3.4 -1 2\r\n",
            "PROXY TCP4 1.2.3.4 1.2.3.4 01 2\r\n",
            "PROXY TCP4 1.2.3.4 1.2.3.4 65536 2\r\n",
            "PROXY TCP4 1.2.3.4 1.2.3.4 1 2 3\r\n",      // extra field
            "PROXY TCP4  1.2.3.4 1.2.3.4 1 2\r\n",       // two spaces
            "PROXY TCP4 1.2.3.4 1.2.3.4 1 2 \r\n",       // trailing space
            "PROXY UDP4 1.2.3.4 1.2.3.4 1 2\r\n",
            "PROXY tcp4 1.2.3.4 1.2.3.4 1 2\r\n",
            "PROXY TCP4 1.2.3.4\t1.2.3.4 1 2\r\n",
    })
    void refusesEveryNonLiteralOrMalformedV1(String line) {
        Parse p = v1(line);
        assertEquals(Result.INVALID, p.result(), line);
        assertTrue(p.looksLikeHeader());
        assertTrue(p.error().startsWith("v1 header") || p.error().startsWith("malformed v1 header"), p.error());
        assertFalse(p.error().contains("\r"), "logged text is escaped");
    }

    @Test
    void v1WithoutCrlfWithin107BytesIsRefusedAndShorterWaits() {
        assertEquals(Result.NEED_MORE, v1("PROXY TCP4 1.2.3.4 1.2.3.4 1 2").result());
        assertEquals(Result.NEED_MORE, v1("PROX").result());
        assertEquals(Result.INVALID, v1("PROXY " + "1".repeat(120)).result());
        // bare LF is not the end of a v1 line
        assertEquals(Result.NEED_MORE, v1("PROXY TCP4 1.2.3.4 1.2.3.4 1 2\n").result());
    }

    private static final byte[] SIG = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

    private static byte[] v2(int verCmd, int famProto, byte[] block) {
        byte[] out = new byte[16 + block.length];
        System.arraycopy(SIG, 0, out, 0, 12);
        out[12] = (byte) verCmd;
        out[13] = (byte) famProto;
        out[14] = (byte) (block.length >> 8);
        out[15] = (byte) block.length;
        System.arraycopy(block, 0, out, 16, block.length);
        return out;
    }

    private static byte[] tcp4Block() {
        return new byte[] {6, 6, 6, 6, 10, 0, 0, 1, 0x1f, (byte) 0x90, 0, 80};
    }

    @Test
    void v2ProxyTcp4GivesTheSource() {
        Parse p = bytes(v2(0x21, 0x11, tcp4Block()));
        assertEquals(Result.OK, p.result());
        assertEquals("6.6.6.6", p.source().orElseThrow().getAddress().getHostAddress());
        assertEquals(8080, p.source().orElseThrow().getPort());
        assertEquals(28, p.length());
    }

    /** Envoy's filter requires both addresses to be unicast (its isUnicastAddress), in either version. */
    @ParameterizedTest
    @ValueSource(strings = {
            "PROXY TCP4 0.0.0.0 10.0.0.1 1 2\r\n",
            "PROXY TCP4 1.2.3.4 255.255.255.255 1 2\r\n",
            "PROXY TCP4 224.0.0.1 10.0.0.1 1 2\r\n",
            "PROXY TCP4 1.2.3.4 239.255.255.250 1 2\r\n",
            "PROXY TCP6 :: ::1 1 2\r\n",
            "PROXY TCP6 ff02::1 ::1 1 2\r\n"})
    void anAddressThatIsNotUnicastIsRefused(String line) {
        Parse p = v1(line);
        assertEquals(Result.INVALID, p.result(), line);
        assertTrue(p.error().contains("not unicast"), p.error());
    }

    @Test
    void unicastEdgesAreAccepted() {
        // Envoy's own Fragmented test: 254.254.254.254 is unicast; an IPv4-mapped any address is judged as IPv6, as Envoy.
        assertEquals(Result.OK, v1("PROXY TCP4 254.254.254.254 1.2.3.4 65535 1234\r\n").result());
        assertEquals(Result.OK, v1("PROXY TCP6 ::ffff:0.0.0.0 ::1 1 2\r\n").result());
        byte[] multicast = tcp4Block();
        multicast[0] = (byte) 224;
        assertEquals(Result.INVALID, bytes(v2(0x21, 0x11, multicast)).result(), "v2 checks the same");
    }

    /** Envoy ProxyProtocolTest.V2BasicV6: a TCP6 source, here IPv4-mapped, keeps its family. */
    @Test
    void v2Tcp6KeepsAnIpv4MappedSourceIpv6() {
        byte[] block = new byte[36];
        block[10] = (byte) 0xff;
        block[11] = (byte) 0xff;
        block[12] = 6;
        block[13] = 6;
        block[14] = 6;
        block[15] = 6;
        block[31] = 1; // ::1
        block[33] = 80;
        block[35] = 81;
        Parse p = bytes(v2(0x21, 0x21, block));
        assertEquals(Result.OK, p.result(), p.error());
        assertTrue(p.source().orElseThrow().getAddress() instanceof java.net.Inet6Address);
        assertEquals(80, p.source().orElseThrow().getPort());
        assertEquals(81, p.destination().orElseThrow().getPort());
    }

    /** Envoy uses the addresses of a DGRAM header too (parseV2Header takes STREAM and DGRAM alike). */
    @Test
    void v2UdpGivesTheSourceAsEnvoy() {
        Parse p = bytes(v2(0x21, 0x12, tcp4Block()));
        assertEquals(Result.OK, p.result());
        assertEquals("6.6.6.6", p.source().orElseThrow().getAddress().getHostAddress());
    }

    /** Envoy ProxyProtocolTest.V2LocalConnection: LOCAL keeps the socket's addresses; V2AF_UNIX: PROXY over AF_UNIX and AF_UNSPEC is refused. */
    @Test
    void v2LocalKeepsTheSocketsAddressesAndUnspecOrUnixIsRefused() {
        Parse local = bytes(v2(0x20, 0x00, new byte[0]));
        assertEquals(Result.OK, local.result());
        assertTrue(local.source().isEmpty());
        Parse localWithBlock = bytes(v2(0x20, 0x11, tcp4Block()));
        assertEquals(Result.OK, localWithBlock.result());
        assertTrue(localWithBlock.source().isEmpty(), "LOCAL ignores the address block");
        assertEquals(28, localWithBlock.length());
        assertEquals(Result.INVALID, bytes(v2(0x21, 0x00, new byte[0])).result(), "PROXY with AF_UNSPEC: Envoy's lenV2Address refuses");
        assertEquals(Result.INVALID, bytes(v2(0x21, 0x31, new byte[216])).result(), "AF_UNIX stream");
        assertEquals(Result.INVALID, bytes(v2(0x21, 0x32, new byte[216])).result(), "AF_UNIX dgram (Envoy's V2AF_UNIX)");
        assertEquals(Result.INVALID, bytes(v2(0x21, 0x10, tcp4Block())).result(), "AF_INET with an unspecified transport");
    }

    /** Envoy ProxyProtocolTest.V2WrongVersion / V2ShortV4 / V2ShortV6 / V2NotLocalOrOnBehalf / V2ShortAddrV4. */
    @Test
    void v2MalformedHeadersAreRefused() {
        assertEquals(Result.INVALID, bytes(v2(0x11, 0x11, tcp4Block())).result(), "version 1 in a v2 signature");
        assertEquals(Result.INVALID, bytes(v2(0x22, 0x11, tcp4Block())).result(), "command 2");
        assertEquals(Result.INVALID, bytes(v2(0x21, 0x11, new byte[11])).result(), "TCP4 block too short");
        assertEquals(Result.INVALID, bytes(v2(0x21, 0x21, new byte[35])).result(), "TCP6 block too short");
        assertEquals(Result.INVALID, bytes(v2(0x21, 0x41, tcp4Block())).result(), "undefined family");
        assertEquals(Result.INVALID, bytes(v2(0x21, 0x13, tcp4Block())).result(), "undefined protocol");
    }

    @Test
    void v2TruncatedWaitsAndABadSignatureIsNotAHeader() {
        byte[] whole = v2(0x21, 0x11, tcp4Block());
        for (int n = 1; n < whole.length; n++) {
            assertEquals(Result.NEED_MORE, bytes(java.util.Arrays.copyOf(whole, n)).result(), "prefix of " + n);
        }
        byte[] bad = whole.clone();
        bad[11] = 0x0B;
        Parse p = bytes(bad);
        assertEquals(Result.INVALID, p.result());
        assertFalse(p.looksLikeHeader());
    }
}
