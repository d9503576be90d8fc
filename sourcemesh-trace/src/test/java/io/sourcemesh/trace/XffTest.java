package io.sourcemesh.trace;

import static org.junit.jupiter.api.Assertions.*;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Envoy's table (headers.rst, "x-forwarded-for" examples) for the trusted client address. */
class XffTest {
    private static final List<String> XFF = List.of("203.0.113.128", "203.0.113.10", "203.0.113.1");

    @Test
    void envoysTable() {
        assertEquals("203.0.113.1", Xff.trustedClient(new Hcm(false, 0, false, ""), "192.0.2.5", XFF));
        assertEquals("192.0.2.5", Xff.trustedClient(new Hcm(false, 0, false, ""), "192.0.2.5", List.of()));
        assertEquals("192.0.2.5", Xff.trustedClient(new Hcm(true, 0, false, ""), "192.0.2.5", XFF));
        assertEquals("203.0.113.10", Xff.trustedClient(new Hcm(false, 1, false, ""), "192.0.2.5", XFF));
        assertEquals("203.0.113.10", Xff.trustedClient(new Hcm(true, 2, false, ""), "192.0.2.5", XFF));
        assertEquals("192.0.2.5", Xff.trustedClient(new Hcm(true, 4, false, ""), "192.0.2.5", XFF), "too few entries: the peer");
        assertEquals(List.of("203.0.113.128", "203.0.113.10", "203.0.113.1", "192.0.2.5"),
                Xff.forwarded(new Hcm(true, 2, false, ""), "192.0.2.5", XFF));
        assertEquals(XFF, Xff.forwarded(new Hcm(false, 0, false, ""), "192.0.2.5", XFF));
        assertEquals(XFF, Xff.forwarded(new Hcm(true, 0, true, ""), "192.0.2.5", XFF));
        assertEquals(List.of("a", "b"), Xff.parse(" a, ,b "));
        assertEquals(List.of(), Xff.parse("-"));
    }
}
