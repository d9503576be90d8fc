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
    /** Which criteria any chain names: a criterion no chain names keeps every chain, so its step is skipped. */
    private final boolean destinationPort, prefixRanges, serverNames, transportProtocol, applicationProtocols,
            directSourcePrefixRanges, sourceType, sourcePrefixRanges, sourcePorts;
    /**
     * The answer when no chain names any criterion (Istio's and most listeners' one chain without a match):
     * the first chain, decided once per config version, so a connection's selection allocates nothing.
     */
    private final Optional<C> unconditional;

    public FilterChainSelector(List<C> chains, Function<C, FilterChainMatch> matchOf) {
        this.chains = List.copyOf(chains);
        this.matchOf = matchOf;
        List<FilterChainMatch> m = this.chains.stream().map(matchOf).toList();
        destinationPort = m.stream().anyMatch(x -> x.destinationPort().isPresent());
        prefixRanges = m.stream().anyMatch(x -> !x.prefixRanges().isEmpty());
        serverNames = m.stream().anyMatch(x -> !x.serverNames().isEmpty());
        transportProtocol = m.stream().anyMatch(x -> !x.transportProtocol().isEmpty());
        applicationProtocols = m.stream().anyMatch(x -> !x.applicationProtocols().isEmpty());
        directSourcePrefixRanges = m.stream().anyMatch(x -> !x.directSourcePrefixRanges().isEmpty());
        sourceType = m.stream().anyMatch(x -> x.sourceType() != SourceType.ANY);
        sourcePrefixRanges = m.stream().anyMatch(x -> !x.sourcePrefixRanges().isEmpty());
        sourcePorts = m.stream().anyMatch(x -> !x.sourcePorts().isEmpty());
        boolean anyCriterion = destinationPort || prefixRanges || serverNames || transportProtocol || applicationProtocols
                || directSourcePrefixRanges || sourceType || sourcePrefixRanges || sourcePorts;
        unconditional = anyCriterion || this.chains.isEmpty() ? null : Optional.of(this.chains.get(0));
    }

    public Optional<C> select(ConnectionContext connection) {
        if (unconditional != null) {
            return unconditional;
        }
        return select(connection.localAddress(), connection.directRemoteAddress(), connection.remoteAddress(),
                connection.serverName(), connection.transportProtocol(), connection.applicationProtocols());
    }

    public Optional<C> select(InetSocketAddress destination, InetSocketAddress directSource, InetSocketAddress source,
            String serverName, String transportProtocol, List<String> alpn) {
        if (unconditional != null) {
            return unconditional;
        }
        List<C> c = chains;
        if (destinationPort) {
            c = byExact(c, m -> m.destinationPort().isPresent() ? List.of(m.destinationPort().getAsInt()) : List.of(),
                    destination.getPort());
        }
        if (prefixRanges) {
            c = byPrefix(c, FilterChainMatch::prefixRanges, destination.getAddress());
        }
        if (serverNames) {
            c = byServerName(c, serverName);
        }
        if (this.transportProtocol) {
            c = byExact(c, m -> m.transportProtocol().isEmpty() ? List.of() : List.of(m.transportProtocol()), transportProtocol);
        }
        if (applicationProtocols) {
            c = byAlpn(c, alpn);
        }
        if (directSourcePrefixRanges) {
            c = byPrefix(c, FilterChainMatch::directSourcePrefixRanges, directSource.getAddress());
        }
        if (sourceType) {
            c = bySourceType(c, source.getAddress(), destination.getAddress());
        }
        if (sourcePrefixRanges) {
            c = byPrefix(c, FilterChainMatch::sourcePrefixRanges, source.getAddress());
        }
        if (sourcePorts) {
            c = byExact(c, FilterChainMatch::sourcePorts, source.getPort());
        }
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
