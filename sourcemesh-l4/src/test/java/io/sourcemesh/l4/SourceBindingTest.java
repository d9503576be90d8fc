package io.sourcemesh.l4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * A binding is part of an upstream pool's key: equal bindings share connections, and any difference — the client's
 * address, transparency, the mark, the PROXY header's addresses or version, the TLS names — keeps one client's connection from
 * another. (Their equals/hashCode are written out rather than the record's bootstrapped ones.)
 */
class SourceBindingTest {
    private static final InetSocketAddress CLIENT = new InetSocketAddress("10.0.0.1", 40000);
    private static final InetSocketAddress OTHER = new InetSocketAddress("10.0.0.2", 40000);
    private static final InetSocketAddress LOCAL = new InetSocketAddress("10.0.0.9", 80);

    @Test
    void equalBindingsAreEqualAndEveryPartTellsThemApart() throws Exception {
        SourceBinding a = SourceBinding.originalSource(InetAddress.getByName("10.0.0.1"), 1337).withProxyHeader(new ProxyHeader(2, CLIENT, LOCAL));
        SourceBinding same = SourceBinding.originalSource(InetAddress.getByName("10.0.0.1"), 1337).withProxyHeader(new ProxyHeader(2, CLIENT, LOCAL));
        assertEquals(a, same);
        assertEquals(a.hashCode(), same.hashCode());
        for (SourceBinding other : List.of(
                SourceBinding.originalSource(InetAddress.getByName("10.0.0.2"), 1337).withProxyHeader(new ProxyHeader(2, CLIENT, LOCAL)),
                new SourceBinding(a.address(), false, 1337, a.proxyHeader()),
                new SourceBinding(a.address(), true, 1338, a.proxyHeader()),
                new SourceBinding(a.address(), true, 1337, Optional.of(new ProxyHeader(2, OTHER, LOCAL))),
                new SourceBinding(a.address(), true, 1337, Optional.of(new ProxyHeader(1, CLIENT, LOCAL))),
                new SourceBinding(a.address(), true, 1337, Optional.of(new ProxyHeader(2, CLIENT, OTHER))),
                new SourceBinding(a.address(), true, 1337, Optional.empty()),
                a.withTlsNames(TlsNames.of("a.example", null)),
                SourceBinding.NONE)) {
            assertNotEquals(a, other, other.toString());
        }
        assertEquals(SourceBinding.NONE, new SourceBinding(Optional.empty(), false, 0));
        SourceBinding named = a.withTlsNames(TlsNames.of("a.example", "a.example"));
        assertEquals(named, same.withTlsNames(TlsNames.of("a.example", "a.example")));
        assertEquals(named.hashCode(), same.withTlsNames(TlsNames.of("a.example", "a.example")).hashCode());
        for (TlsNames other : List.of(TlsNames.of("b.example", "a.example"), TlsNames.of("a.example", "b.example"),
                TlsNames.of("a.example", null), TlsNames.of(null, "a.example"))) {
            assertNotEquals(named, a.withTlsNames(other), other.toString());
        }
        assertEquals(SourceBinding.NONE.hashCode(), new SourceBinding(Optional.empty(), false, 0).hashCode());
    }
}
