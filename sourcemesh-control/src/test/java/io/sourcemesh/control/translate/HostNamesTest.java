package io.sourcemesh.control.translate;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Host names compared as Istio's pkg/config/host/name.go (Matches, and the one-way match of a pattern). */
class HostNamesTest {

    @Test
    void coversIsOneWay() {
        assertTrue(HostNames.covers("*.default.svc.cluster.local", "a.default.svc.cluster.local"));
        assertTrue(HostNames.covers("*", "a.default.svc.cluster.local"));
        assertFalse(HostNames.covers("a.default.svc.cluster.local", "*.default.svc.cluster.local"));
    }

    @Test
    void matchesEitherWayAsIstiosNameMatches() {
        assertTrue(HostNames.matches("a.example.com", "a.example.com"));
        assertFalse(HostNames.matches("a.example.com", "b.example.com"));
        assertTrue(HostNames.matches("*.example.com", "a.example.com"), "the wildcard first");
        assertTrue(HostNames.matches("a.example.com", "*.example.com"), "the wildcard second");
        assertFalse(HostNames.matches("a.example.org", "*.example.com"));
        assertTrue(HostNames.matches("*", "*.example.com"), "two wildcards: the longer ends with the shorter's suffix");
        assertTrue(HostNames.matches("*.a.example.com", "*.example.com"));
        assertTrue(HostNames.matches("*.example.com", "*.a.example.com"));
        assertFalse(HostNames.matches("*.example.com", "*.example.org"));
        assertTrue(HostNames.matches("*", "a.example.com"));
        assertFalse(HostNames.matches("*.example.com", "example.com"), "the suffix keeps its dot");
    }

    @Test
    void subsetOfAsIstiosNameSubsetOf() {
        assertTrue(HostNames.subsetOf("a.example.com", "a.example.com"));
        assertTrue(HostNames.subsetOf("a.example.com", "*.example.com"));
        assertFalse(HostNames.subsetOf("*.example.com", "a.example.com"), "a wildcard is no subset of a name");
        assertTrue(HostNames.subsetOf("*.a.example.com", "*.example.com"));
        assertFalse(HostNames.subsetOf("*.example.com", "*.a.example.com"), "the shorter wildcard is the larger set");
        assertTrue(HostNames.subsetOf("*", "*"));
        assertTrue(HostNames.subsetOf("*.example.com", "*"));
        assertFalse(HostNames.subsetOf("*", "*.example.com"));
    }
}
