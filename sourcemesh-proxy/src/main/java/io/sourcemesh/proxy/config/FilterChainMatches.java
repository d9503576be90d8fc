package io.sourcemesh.proxy.config;

import static io.sourcemesh.proxy.config.Protos.at;
import static io.sourcemesh.proxy.config.Protos.only;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/** {@code filter_chain_match} translation and Envoy's rule that no two chains match the same thing. */
final class FilterChainMatches {

    private FilterChainMatches() {}

    static FilterChainMatch match(io.envoyproxy.envoy.config.listener.v3.FilterChainMatch m, String path) {
        only(m, path, "destination_port", "prefix_ranges", "server_names", "transport_protocol", "application_protocols",
                "direct_source_prefix_ranges", "source_type", "source_prefix_ranges", "source_ports");
        OptionalInt port = m.hasDestinationPort()
                ? port(m.getDestinationPort(), at(path, "destination_port"))
                : OptionalInt.empty();
        for (int i = 0; i < m.getSourcePortsCount(); i++) {
            if (m.getSourcePorts(i) > 65535) {
                throw new ConfigException(at(path, "source_ports", i), m.getSourcePorts(i) + " is not a port");
            }
        }
        for (int i = 0; i < m.getServerNamesCount(); i++) {
            String name = m.getServerNames(i);
            // Envoy's rule: only a leading "*." wildcard, as in "*.example.com".
            if (name.indexOf('*') >= 0 && !(name.startsWith("*.") && name.indexOf('*', 1) < 0)) {
                throw new ConfigException(at(path, "server_names", i), "partial wildcards are not supported in \"server_names\": " + name);
            }
        }
        FilterChainMatch.SourceType sourceType = switch (m.getSourceType()) {
            case ANY -> FilterChainMatch.SourceType.ANY;
            case SAME_IP_OR_LOOPBACK -> FilterChainMatch.SourceType.SAME_IP_OR_LOOPBACK;
            case EXTERNAL -> FilterChainMatch.SourceType.EXTERNAL;
            default -> throw new ConfigException(at(path, "source_type"), m.getSourceType() + " is not supported");
        };
        return new FilterChainMatch(port,
                Protos.cidrs(m.getPrefixRangesList(), path, "prefix_ranges"),
                List.copyOf(m.getServerNamesList()),
                m.getTransportProtocol(),
                List.copyOf(m.getApplicationProtocolsList()),
                Protos.cidrs(m.getDirectSourcePrefixRangesList(), path, "direct_source_prefix_ranges"),
                sourceType,
                Protos.cidrs(m.getSourcePrefixRangesList(), path, "source_prefix_ranges"),
                List.copyOf(m.getSourcePortsList()));
    }

    /**
     * Envoy refuses a listener in which one combination of match values leads to two chains
     * ("multiple filter chains with the same matching rules are defined"). Each chain is expanded
     * into its combinations, an empty list standing for "any".
     */
    static void rejectDuplicates(List<FilterChainConfig> chains, String listenerPath) {
        Map<List<Object>, Integer> seen = new HashMap<>();
        for (int i = 0; i < chains.size(); i++) {
            FilterChainMatch m = chains.get(i).match();
            List<List<Object>> axes = List.of(
                    List.of(m.destinationPort().isPresent() ? (Object) m.destinationPort().getAsInt() : "*"),
                    orAny(m.prefixRanges()),
                    orAny(m.serverNames()),
                    List.of(m.transportProtocol()),
                    orAny(m.applicationProtocols()),
                    orAny(m.directSourcePrefixRanges()),
                    List.of(m.sourceType()),
                    orAny(m.sourcePrefixRanges()),
                    orAny(m.sourcePorts()));
            for (List<Object> combination : product(axes)) {
                Integer previous = seen.putIfAbsent(combination, i);
                if (previous != null && previous != i) {
                    throw new ConfigException(at(listenerPath, "filter_chains", i),
                            "multiple filter chains with the same matching rules are defined (filter_chains["
                                    + previous + "] matches the same connections)");
                }
            }
        }
    }

    private static List<Object> orAny(List<?> values) {
        return values.isEmpty() ? List.of("*") : List.copyOf(values);
    }

    private static List<List<Object>> product(List<List<Object>> axes) {
        List<List<Object>> out = new ArrayList<>();
        out.add(List.of());
        for (List<Object> axis : axes) {
            List<List<Object>> next = new ArrayList<>();
            for (List<Object> prefix : out) {
                for (Object value : axis) {
                    List<Object> combination = new ArrayList<>(prefix);
                    combination.add(value);
                    next.add(combination);
                }
            }
            out = next;
        }
        return out;
    }

    private static OptionalInt port(com.google.protobuf.UInt32Value value, String path) {
        if (value.getValue() > 65535) {
            throw new ConfigException(path, value.getValue() + " is not a port");
        }
        return OptionalInt.of(value.getValue());
    }
}
