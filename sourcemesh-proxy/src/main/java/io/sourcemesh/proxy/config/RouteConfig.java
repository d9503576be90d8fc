package io.sourcemesh.proxy.config;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * An inline route configuration: virtual hosts selected by Host, routes tried in order.
 * {@code ignorePortInHostMatching} strips any port from Host before choosing the virtual host;
 * {@code internalOnlyHeaders} (lower case) are removed from requests that are not internal.
 */
public record RouteConfig(String name, List<VirtualHost> virtualHosts, boolean ignorePortInHostMatching,
        List<String> internalOnlyHeaders) {

    public RouteConfig {
        virtualHosts = List.copyOf(virtualHosts);
        internalOnlyHeaders = List.copyOf(internalOnlyHeaders);
    }

    public RouteConfig(String name, List<VirtualHost> virtualHosts, boolean ignorePortInHostMatching) {
        this(name, virtualHosts, ignorePortInHostMatching, List.of());
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
            List<HashPolicy> hashPolicies,
            Optional<RetryPolicy> retryPolicy) implements RouteAction {
        public Forward {
            weightedClusters = List.copyOf(weightedClusters);
            hashPolicies = List.copyOf(hashPolicies);
        }

        public Forward(Optional<String> cluster, List<WeightedCluster> weightedClusters, Optional<Duration> timeout,
                Optional<String> prefixRewrite, Optional<String> hostRewriteLiteral, List<HashPolicy> hashPolicies) {
            this(cluster, weightedClusters, timeout, prefixRewrite, hostRewriteLiteral, hashPolicies, Optional.empty());
        }
    }

    /**
     * Envoy's route retry_policy: which failures are retried ({@code retry_on}: connect-failure,
     * reset, 5xx, gateway-error, retriable-status-codes) and how many more attempts are made.
     * Requests whose body has started to flow upstream are not retried (it is not buffered).
     */
    public record RetryPolicy(java.util.Set<String> retryOn, int numRetries, java.util.Set<Integer> retriableStatusCodes) {
        public RetryPolicy {
            retryOn = java.util.Set.copyOf(retryOn);
            retriableStatusCodes = java.util.Set.copyOf(retriableStatusCodes);
        }

        public boolean onConnectFailure() {
            return retryOn.contains("connect-failure") || retryOn.contains("5xx") || retryOn.contains("gateway-error");
        }

        public boolean onReset() {
            return retryOn.contains("reset") || retryOn.contains("5xx");
        }

        public boolean onStatus(int code) {
            return (retryOn.contains("5xx") && code >= 500)
                    || (retryOn.contains("gateway-error") && (code == 502 || code == 503 || code == 504))
                    || (retryOn.contains("retriable-status-codes") && retriableStatusCodes.contains(code));
        }
    }

    public record DirectResponse(int status, Optional<String> body) implements RouteAction {}

    public record Redirect(Optional<String> host, Optional<String> path, int responseCode, boolean httpsRedirect)
            implements RouteAction {}

    /** Ring-hash input: the source IP ({@code connection_properties.source_ip}) or a header. */
    public record HashPolicy(Optional<String> header, boolean sourceIp, boolean terminal) {}
}
