package io.sourcemesh.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

/** Query strings read as Envoy's parseQueryString for route matching: first value, nothing decoded. */
class RouteTableTest {

    @Test
    void firstQueryValueIsTheUndecodedFirstOccurrence() {
        assertEquals("1", RouteTable.firstQueryValue("/p?a=1&a=2", "a"));
        assertEquals("x%20y", RouteTable.firstQueryValue("/p?b=0&a=x%20y", "a"), "not decoded");
        assertEquals("", RouteTable.firstQueryValue("/p?flag&a=1", "flag"), "no '=': the empty value");
        assertEquals("", RouteTable.firstQueryValue("/p?a=", "a"));
        assertEquals("b=c", RouteTable.firstQueryValue("/p?a=b=c", "a"), "the name ends at the first '='");
        assertNull(RouteTable.firstQueryValue("/p?ab=1", "a"));
        assertNull(RouteTable.firstQueryValue("/p?a1=1", "a"));
        assertNull(RouteTable.firstQueryValue("/p", "a"));
        assertNull(RouteTable.firstQueryValue("/p?", "a"));
    }
}
