package io.sourcemesh.proxy.network;

import io.sourcemesh.l4.Addresses;
import io.sourcemesh.proxy.address.CidrRange;
import io.sourcemesh.proxy.config.FilterChainMatch;
import io.sourcemesh.proxy.config.FilterChainMatch.SourceType;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * Envoy's filter-chain selection: criteria are applied in a fixed order, and at each step only
 * the chains that match that criterion most specifically survive — a chain that does not name the
 * criterion is kept only when no chain names it and matches. See Envoy's listener docs,
 * "Filter chain matching".
 */
public final class FilterChainSelector<C> {
    private final List<C> chains;
    private final Function<C, FilterChainMatch> matchOf;

    public FilterChainSelector(List<C> chains, Function<C, FilterChainMatch> matchOf) {
        this.chains = List.copyOf(chains);
        this.matchOf = matchOf;
    }

    public Optional<C> select(ConnectionContext connection) {
        return select(connection.localAddress(), connection.directRemoteAddress(), connection.remoteAddress(),
                connection.serverName(), connection.transportProtocol(), connection.applicationProtocols());
    }

    public Optional<C> select(InetSocketAddress destination, InetSocketAddress directSource, InetSocketAddress source,
            String serverName, String transportProtocol, List<String> alpn) {
        List<C> c = chains;
        c = byExact(c, m -> m.destinationPort().isPresent() ? List.of(m.destinationPort().getAsInt()) : List.of(), destination.getPort());
        c = byPrefix(c, FilterChainMatch::prefixRanges, destination.getAddress());
        c = byServerName(c, serverName);
        c = byExact(c, m -> m.transportProtocol().isEmpty() ? List.of() : List.of(m.transportProtocol()), transportProtocol);
        c = byAlpn(c, alpn);
        c = byPrefix(c, FilterChainMatch::directSourcePrefixRanges, directSource.getAddress());
        c = bySourceType(c, source.getAddress(), destination.getAddress());
        c = byPrefix(c, FilterChainMatch::sourcePrefixRanges, source.getAddress());
        c = byExact(c, FilterChainMatch::sourcePorts, source.getPort());
        return c.isEmpty() ? Optional.empty() : Optional.of(c.get(0));
    }

    private <V> List<C> byExact(List<C> in, Function<FilterChainMatch, List<V>> values, V actual) {
        List<C> exact = new ArrayList<>();
        List<C> unset = new ArrayList<>();
        for (C chain : in) {
            List<V> v = values.apply(matchOf.apply(chain));
            if (v.isEmpty()) {
                unset.add(chain);
            } else if (v.contains(actual)) {
                exact.add(chain);
            }
        }
        return exact.isEmpty() ? unset : exact;
    }

    private List<C> byPrefix(List<C> in, Function<FilterChainMatch, List<CidrRange>> ranges, InetAddress address) {
        List<C> best = new ArrayList<>();
        List<C> unset = new ArrayList<>();
        int bestLength = -1;
        InetAddress a = Addresses.unmapped(address);
        for (C chain : in) {
            List<CidrRange> r = ranges.apply(matchOf.apply(chain));
            if (r.isEmpty()) {
                unset.add(chain);
                continue;
            }
            int length = -1;
            for (CidrRange range : r) {
                if (range.contains(a)) {
                    length = Math.max(length, range.prefixLength());
                }
            }
            if (length > bestLength) {
                best.clear();
                bestLength = length;
            }
            if (length >= 0 && length == bestLength) {
                best.add(chain);
            }
        }
        return best.isEmpty() ? unset : best;
    }

    private List<C> byServerName(List<C> in, String serverName) {
        List<C> best = new ArrayList<>();
        List<C> unset = new ArrayList<>();
        int bestScore = -1;
        for (C chain : in) {
            List<String> names = matchOf.apply(chain).serverNames();
            if (names.isEmpty()) {
                unset.add(chain);
                continue;
            }
            int score = -1;
            for (String n : names) {
                score = Math.max(score, serverNameScore(n, serverName));
            }
            if (score > bestScore) {
                best.clear();
                bestScore = score;
            }
            if (score >= 0 && score == bestScore) {
                best.add(chain);
            }
        }
        return best.isEmpty() ? unset : best;
    }

    /** Exact beats any wildcard; a longer wildcard suffix beats a shorter one; -1 is no match. */
    static int serverNameScore(String pattern, String serverName) {
        if (serverName == null || serverName.isEmpty()) {
            return -1;
        }
        String p = pattern.toLowerCase(java.util.Locale.ROOT);
        String s = serverName.toLowerCase(java.util.Locale.ROOT);
        if (p.equals(s)) {
            return Integer.MAX_VALUE;
        }
        if (p.startsWith("*.") && s.endsWith(p.substring(1)) && s.length() > p.length() - 1) {
            return p.length();
        }
        return -1;
    }

    private List<C> byAlpn(List<C> in, List<String> alpn) {
        List<C> exact = new ArrayList<>();
        List<C> unset = new ArrayList<>();
        for (C chain : in) {
            List<String> wanted = matchOf.apply(chain).applicationProtocols();
            if (wanted.isEmpty()) {
                unset.add(chain);
            } else if (wanted.stream().anyMatch(alpn::contains)) {
                exact.add(chain);
            }
        }
        return exact.isEmpty() ? unset : exact;
    }

    private List<C> bySourceType(List<C> in, InetAddress source, InetAddress destination) {
        boolean local = source.isLoopbackAddress() || Addresses.unmapped(source).equals(Addresses.unmapped(destination));
        List<C> exact = new ArrayList<>();
        List<C> unset = new ArrayList<>();
        for (C chain : in) {
            SourceType t = matchOf.apply(chain).sourceType();
            if (t == SourceType.ANY) {
                unset.add(chain);
            } else if ((t == SourceType.SAME_IP_OR_LOOPBACK) == local) {
                exact.add(chain);
            }
        }
        return exact.isEmpty() ? unset : exact;
    }
}
