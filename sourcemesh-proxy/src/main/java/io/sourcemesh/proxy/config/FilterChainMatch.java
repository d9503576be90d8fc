package io.sourcemesh.proxy.config;

import io.sourcemesh.proxy.address.CidrRange;
import java.util.List;
import java.util.OptionalInt;

/**
 * Envoy's {@code filter_chain_match}. Empty lists and absent values match anything. Selection
 * among chains follows Envoy's order of precedence (destination port, destination IP, server
 * name, transport protocol, application protocols, direct source IP, source type, source IP,
 * source port), most specific first at each step.
 */
public record FilterChainMatch(
        OptionalInt destinationPort,
        List<CidrRange> prefixRanges,
        List<String> serverNames,
        String transportProtocol,
        List<String> applicationProtocols,
        List<CidrRange> directSourcePrefixRanges,
        SourceType sourceType,
        List<CidrRange> sourcePrefixRanges,
        List<Integer> sourcePorts) {

    public enum SourceType { ANY, SAME_IP_OR_LOOPBACK, EXTERNAL }

    public FilterChainMatch {
        prefixRanges = List.copyOf(prefixRanges);
        serverNames = List.copyOf(serverNames);
        transportProtocol = transportProtocol == null ? "" : transportProtocol;
        applicationProtocols = List.copyOf(applicationProtocols);
        directSourcePrefixRanges = List.copyOf(directSourcePrefixRanges);
        sourcePrefixRanges = List.copyOf(sourcePrefixRanges);
        sourcePorts = List.copyOf(sourcePorts);
    }

    public static FilterChainMatch any() {
        return new FilterChainMatch(OptionalInt.empty(), List.of(), List.of(), "", List.of(), List.of(),
                SourceType.ANY, List.of(), List.of());
    }
}
