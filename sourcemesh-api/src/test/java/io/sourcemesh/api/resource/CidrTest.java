package io.sourcemesh.api.resource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CidrTest {
    @Test
    void anAddressHasNoPrefixLengthAndNoName() {
        assertTrue(Cidr.isAddress("10.1.2.3"));
        assertTrue(Cidr.isAddress("fd00::1"));
        assertFalse(Cidr.isAddress("10.0.0.0/8"));
        assertFalse(Cidr.isAddress("256.1.1.1"), "Go's netip: no octet past 255");
        assertFalse(Cidr.isAddress("010.1.1.1"), "Go's netip: no leading zeros");
        assertFalse(Cidr.isAddress("localhost"));
    }

    /** Ranges that Envoy's CidrRange matches alike have one network: host bits masked, a bare address its /32 or /128. */
    @Test
    void theNetworkIsTheMaskedRangeOfItsFamily() {
        assertEquals(Cidr.parse("127.96.0.0/16").network(), Cidr.parse("127.96.1.7/16").network());
        assertEquals(Cidr.parse("127.96.0.20").network(), Cidr.parse("127.96.0.20/32").network());
        assertNotEquals(Cidr.parse("127.96.0.0/16").network(), Cidr.parse("127.96.0.0/24").network());
        assertEquals(Cidr.parse("fd00::/8").network(), Cidr.parse("fd12:3456::1/8").network());
        assertEquals("4:7f600000/16", Cidr.parse("127.96.1.7/16").network());
        assertNotEquals(Cidr.parse("::ffff:10.0.0.1").network(), Cidr.parse("10.0.0.1").network(), "IPv4-mapped is IPv6 to Envoy");
    }

    @Test
    void aRangeContainsTheAddressesOfItsPrefixInItsFamily() throws Exception {
        Cidr range = Cidr.parse("127.96.0.0/12");
        assertTrue(range.contains(java.net.InetAddress.getByName("127.96.0.1")));
        assertTrue(range.contains(java.net.InetAddress.getByName("127.111.255.255")));
        assertFalse(range.contains(java.net.InetAddress.getByName("127.112.0.0")), "past the 12-bit prefix");
        assertFalse(range.contains(java.net.InetAddress.getByName("::1")), "another family");
        assertTrue(Cidr.parse("0.0.0.0/0").contains(java.net.InetAddress.getByName("10.1.2.3")));
        assertTrue(Cidr.parse("10.1.2.3").contains(java.net.InetAddress.getByName("10.1.2.3")));
        assertFalse(Cidr.parse("10.1.2.3").contains(java.net.InetAddress.getByName("10.1.2.4")));
        assertTrue(Cidr.parse("fd00::/8").contains(java.net.InetAddress.getByName("fd12::1")));
        assertFalse(Cidr.parse("fd00::/8").contains(java.net.InetAddress.getByName("fe80::1")));
    }
}
