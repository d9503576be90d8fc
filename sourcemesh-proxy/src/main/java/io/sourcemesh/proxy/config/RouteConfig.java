package io.sourcemesh.proxy.config;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * An inline route configuration: virtual hosts selected by Host, routes tried in order.
 * {@code ignorePortInHostMatching} strips any port from Host before choosing the virtual host.
 */
public record RouteConfig(String name, List<VirtualHost> virtualHosts, boolean ignorePortInHostMatching) {

    public RouteConfig {
        virtualHosts = List.copyOf(virtualHosts);
    }

    public RouteConfig(String name, List<VirtualHost> virtualHosts) {
        this(name, virtualHosts, false);
    }

    /**
     * {@code domains} may hold exact names, {@code *}, {@code *.suffix}, {@code prefix*}, with optional :port.
     * {@code includeRequestAttemptCount} adds x-envoy-attempt-count to upstream requests.
     */
    public record VirtualHost(String name, List<String> domains, List<Route> routes, boolean includeRequestAttemptCount) {
        public VirtualHost {
            domains = List.copyOf(domains);
            routes = List.copyOf(routes);
        }

        public VirtualHost(String name, List<String> domains, List<Route> routes) {
            this(name, domains, routes, false);
        }
    }

    public record Route(String name, RouteMatch match, RouteAction action) {}

    /** Exactly one of prefix, path, regex is set; header matchers all must match. */
    public record RouteMatch(
            Optional<String> prefix,
            Optional<String> path,
            Optional<Pattern> regex,
            boolean caseSensitive,
            List<HeaderMatcher> headers) {
        public RouteMatch {
            headers = List.copyOf(headers);
        }
    }

    /**
     * Envoy's HeaderMatcher: one of exact/prefix/suffix/contains/regex/present, optionally inverted.
     * {@code kind} names which, {@code value} is its operand (unused for PRESENT).
     */
    public record HeaderMatcher(String name, Kind kind, String value, Optional<Pattern> regex, boolean invert) {
        public enum Kind { EXACT, PREFIX, SUFFIX, CONTAINS, REGEX, PRESENT }
    }

    /** What a matched route does. */
    public sealed interface RouteAction {}

    public record Forward(
            Optional<String> cluster,
            List<WeightedCluster> weightedClusters,
            Optional<Duration> timeout,
            Optional<String> prefixRewrite,
            Optional<String> hostRewriteLiteral,
            List<HashPolicy> hashPolicies) implements RouteAction {
        public Forward {
            weightedClusters = List.copyOf(weightedClusters);
            hashPolicies = List.copyOf(hashPolicies);
        }
    }

    public record DirectResponse(int status, Optional<String> body) implements RouteAction {}

    public record Redirect(Optional<String> host, Optional<String> path, int responseCode, boolean httpsRedirect)
            implements RouteAction {}

    /** Ring-hash input: the source IP ({@code connection_properties.source_ip}) or a header. */
    public record HashPolicy(Optional<String> header, boolean sourceIp, boolean terminal) {}
}
