package io.sourcemesh.proxy.network;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.proxy.address.CidrRange;
import io.sourcemesh.proxy.config.FilterChainMatch;
import io.sourcemesh.proxy.config.FilterChainMatch.SourceType;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** Envoy's filter-chain precedence, and a listener whose chains name no criterion choosing without work per connection. */
class FilterChainSelectorTest {
    private record Chain(String name, FilterChainMatch match) {}

    private static final Function<Chain, FilterChainMatch> MATCH = Chain::match;

    private static ConnectionContext connection(String local, int localPort, String remote, int remotePort) {
        return new ConnectionContext("l", new InetSocketAddress(local, localPort), new InetSocketAddress(remote, remotePort));
    }

    private static FilterChainMatch match(OptionalInt port, List<CidrRange> prefixes, List<String> serverNames, SourceType type,
            List<CidrRange> sources) {
        return new FilterChainMatch(port, prefixes, serverNames, "", List.of(), List.of(), type, sources, List.of());
    }

    @Test
    void oneChainWithoutCriteriaIsChosenWithoutAllocatingPerConnection() {
        Chain only = new Chain("only", FilterChainMatch.any());
        FilterChainSelector<Chain> selector = new FilterChainSelector<>(List.of(only), MATCH);
        ConnectionContext c = connection("127.0.0.1", 8080, "127.0.0.2", 40000);
        Optional<Chain> first = selector.select(c);
        assertEquals(Optional.of(only), first);
        assertSame(first, selector.select(c), "the answer is decided once per config version");

        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().threadId();
        int n = 20_000;
        Object sink = null;
        long before = threads.getThreadAllocatedBytes(tid);
        for (int i = 0; i < n; i++) {
            sink = selector.select(c);
        }
        long allocated = threads.getThreadAllocatedBytes(tid) - before;
        assertSame(first, sink);
        // Nothing per selection (the full walk made nine steps of lists: ~870 B per connection on the bench's listener).
        assertTrue(allocated < n, allocated + " bytes for " + n + " selections");
    }

    @Test
    void noChainsSelectNothing() {
        assertEquals(Optional.empty(), new FilterChainSelector<>(List.<Chain>of(), MATCH).select(connection("127.0.0.1", 1, "127.0.0.2", 2)));
    }

    @Test
    void aCriterionOneChainNamesStillDecides() {
        Chain any = new Chain("any", FilterChainMatch.any());
        Chain port = new Chain("port", match(OptionalInt.of(9080), List.of(), List.of(), SourceType.ANY, List.of()));
        FilterChainSelector<Chain> s = new FilterChainSelector<>(List.of(any, port), MATCH);
        assertEquals("port", s.select(connection("127.0.0.1", 9080, "127.0.0.2", 1)).orElseThrow().name());
        assertEquals("any", s.select(connection("127.0.0.1", 9081, "127.0.0.2", 1)).orElseThrow().name());
    }

    @Test
    void aCriterionNoChainMatchesLeavesNoChainWhenEveryChainNamesIt() {
        Chain port = new Chain("port", match(OptionalInt.of(9080), List.of(), List.of(), SourceType.ANY, List.of()));
        FilterChainSelector<Chain> s = new FilterChainSelector<>(List.of(port), MATCH);
        assertEquals(Optional.empty(), s.select(connection("127.0.0.1", 9081, "127.0.0.2", 1)));
        assertEquals("port", s.select(connection("127.0.0.1", 9080, "127.0.0.2", 1)).orElseThrow().name());
    }

    @Test
    void precedenceAcrossCriteriaIsEnvoys() {
        // Destination port decides before source type; the longest destination prefix before a shorter one; SNI exact beats wildcard.
        Chain wide = new Chain("wide", match(OptionalInt.empty(), List.of(CidrRange.of("10.0.0.0", 8)), List.of(), SourceType.ANY, List.of()));
        Chain narrow = new Chain("narrow", match(OptionalInt.empty(), List.of(CidrRange.of("10.1.0.0", 16)), List.of(), SourceType.ANY, List.of()));
        Chain local = new Chain("local", match(OptionalInt.empty(), List.of(), List.of(), SourceType.SAME_IP_OR_LOOPBACK, List.of()));
        Chain sni = new Chain("sni", match(OptionalInt.empty(), List.of(), List.of("a.example"), SourceType.ANY, List.of()));
        Chain wildcard = new Chain("wildcard", match(OptionalInt.empty(), List.of(), List.of("*.example"), SourceType.ANY, List.of()));
        FilterChainSelector<Chain> s = new FilterChainSelector<>(List.of(wide, narrow, local, sni, wildcard), MATCH);
        assertEquals("narrow", s.select(connection("10.1.2.3", 80, "10.9.9.9", 1)).orElseThrow().name());
        assertEquals("wide", s.select(connection("10.2.2.3", 80, "10.9.9.9", 1)).orElseThrow().name());
        assertEquals("local", s.select(connection("192.168.0.1", 80, "127.0.0.1", 1)).orElseThrow().name());
        ConnectionContext named = connection("192.168.0.1", 80, "192.168.0.2", 1);
        named.serverName("a.example");
        assertEquals("sni", s.select(named).orElseThrow().name());
        ConnectionContext wild = connection("192.168.0.1", 80, "192.168.0.2", 1);
        wild.serverName("b.example");
        assertEquals("wildcard", s.select(wild).orElseThrow().name());
        // An external client without SNI to an address no prefix covers: after the prefix and server-name steps only
        // "local" is left (it names neither), and it asks for a local source: no chain.
        assertEquals(Optional.empty(), s.select(connection("192.168.0.1", 80, "192.168.0.2", 1)));
    }
}
