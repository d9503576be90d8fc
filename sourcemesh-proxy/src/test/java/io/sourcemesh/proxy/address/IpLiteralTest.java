package io.sourcemesh.proxy.address;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** inet_pton strictness and inet_ntop output, as Envoy parses XFF entries and prints addresses. */
class IpLiteralTest {

    @ParameterizedTest
    @ValueSource(strings = {"0.0.0.0", "1.2.3.4", "255.255.255.255", "10.0.0.1", "::", "::1", "1::", "2001:db8::1",
            "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:DB8::A", "::ffff:1.2.3.4", "64:ff9b::192.0.2.33",
            "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:1.2.3.4", "fe80::1:2", "::1.2.3.4"})
    void acceptsWhatInetPtonAccepts(String literal) {
        byte[] parsed = IpLiteral.parse(literal);
        byte[] expected = InetAddress.ofLiteral(literal).getAddress();
        // Java folds IPv4-mapped IPv6 into IPv4; inet_pton keeps 16 bytes.
        if (parsed.length == 16 && expected.length == 4) {
            assertArrayEquals(expected, Arrays.copyOfRange(parsed, 12, 16));
        } else {
            assertArrayEquals(expected, parsed);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "1.2.3", "1.2.3.4.5", "1.2.3.256", "01.2.3.4", "1.2.3.04", "1..2.3", "1.2.3.4.",
            ".1.2.3", "1.2.3.-4", "1.2.3.4:80", "a.b.c.d", "localhost", ":", ":::", "1:::2", "1::2::3", ":1::2",
            "1::2:", "12345::1", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::8", "::1.2.3", "::1.2.3.4:5", "[::1]",
            "::1%eth0", "fe80::g", "1:2:3:4:5:6:7:1.2.3.4", " 1.2.3.4", "1.2.3.4 "})
    void rejectsEverythingElse(String literal) {
        assertNull(IpLiteral.parse(literal), literal);
    }

    @Test
    void parsesInsideALargerValue() {
        assertArrayEquals(new byte[] {(byte) 203, 0, 113, 9}, IpLiteral.parse("x,203.0.113.9,y", 2, 13));
    }

    @ParameterizedTest
    @CsvSource({
            "1.2.3.4, 1.2.3.4",
            "0:0:0:0:0:0:0:0, ::",
            "0:0:0:0:0:0:0:1, ::1",
            "1:0:0:0:0:0:0:0, 1::",
            "2001:DB8:0:0:0:0:0:1, 2001:db8::1",
            "2001:db8:0:0:1:0:0:1, 2001:db8::1:0:0:1",
            "2001:db8:0:1:1:1:1:1, 2001:db8:0:1:1:1:1:1",
            "2001:db8:0000:0:1::1, 2001:db8::1:0:0:1",
            "2001:db8:0:1:0:0:0:1, 2001:db8:0:1::1",
            "fe80:0:0:0:0:0:0:0, fe80::",
            "::ffff:1.2.3.4, ::ffff:1.2.3.4",
            "::1.2.3.4, ::1.2.3.4",
            "::0.0.0.1, ::1",
            "::2, ::2",
            "1:0:0:2:0:0:0:3, 1:0:0:2::3",
            "2606:4700:4700::1111, 2606:4700:4700::1111"})
    void formatsLikeInetNtop(String literal, String expected) {
        assertEquals(expected, IpLiteral.format(IpLiteral.parse(literal)));
    }

    @Test
    void loopbackIsExactlyOneAddress() {
        assertTrue(IpLiteral.isLoopback(IpLiteral.parse("127.0.0.1")));
        assertTrue(IpLiteral.isLoopback(IpLiteral.parse("::1")));
        assertFalse(IpLiteral.isLoopback(IpLiteral.parse("127.0.0.6")));
        assertFalse(IpLiteral.isLoopback(IpLiteral.parse("127.17.0.1")));
        assertFalse(IpLiteral.isLoopback(IpLiteral.parse("::2")));
        assertFalse(IpLiteral.isLoopback(IpLiteral.parse("::ffff:127.0.0.1")));
    }
}
