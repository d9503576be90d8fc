package io.sourcemesh.proxy.config;

import io.sourcemesh.proxy.matcher.HeaderMatch;
import io.sourcemesh.proxy.matcher.StringMatch;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

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
    public record VirtualHost(String name, List<String> domains, List<Route> routes, boolean includeRequestAttemptCount,
            HeaderMutations headers, RequireTls requireTls) {
        public VirtualHost {
            domains = List.copyOf(domains);
            routes = List.copyOf(routes);
        }

        public VirtualHost(String name, List<String> domains, List<Route> routes, boolean includeRequestAttemptCount) {
            this(name, domains, routes, includeRequestAttemptCount, HeaderMutations.NONE, RequireTls.NONE);
        }

        public VirtualHost(String name, List<String> domains, List<Route> routes) {
            this(name, domains, routes, false);
        }
    }

    /** Envoy's virtual host require_tls: a request that did not come over TLS is redirected (301) to https. */
    public enum RequireTls { NONE, EXTERNAL_ONLY, ALL }

    /**
     * {@code headers}: the route's request/response header mutations, applied before the virtual host's.
     * {@code typedPerFilterConfig}: per-filter config by HTTP filter name (e.g. a {@link FaultConfig}
     * under {@code envoy.filters.http.fault}), read by that filter for requests on this route.
     */
    public record Route(String name, RouteMatch match, RouteAction action, HeaderMutations headers,
            java.util.Map<String, Object> typedPerFilterConfig) {
        public Route {
            typedPerFilterConfig = java.util.Map.copyOf(typedPerFilterConfig);
        }

        public Route(String name, RouteMatch match, RouteAction action, HeaderMutations headers) {
            this(name, match, action, headers, java.util.Map.of());
        }

        public Route(String name, RouteMatch match, RouteAction action) {
            this(name, match, action, HeaderMutations.NONE);
        }
    }

    /**
     * {@code path}: Envoy's prefix, path or safe_regex as the StringMatcher it becomes (prefix and path
     * fold ASCII case when case_sensitive is false), matched against the path without its query; the
     * header and query parameter matchers all must match too.
     */
    public record RouteMatch(StringMatch path, List<HeaderMatch> headers, List<QueryParameterMatcher> queryParameters) {
        public RouteMatch {
            headers = List.copyOf(headers);
            queryParameters = List.copyOf(queryParameters);
        }

        /** A case-sensitive prefix and nothing else. */
        public static RouteMatch ofPrefix(String prefix) {
            return new RouteMatch(StringMatch.of(StringMatch.Kind.PREFIX, prefix, false), List.of(), List.of());
        }

        /** The prefix a prefix_rewrite replaces, when the route matches by prefix. */
        public Optional<String> prefix() {
            return path.kind() == StringMatch.Kind.PREFIX ? Optional.of(path.value()) : Optional.empty();
        }
    }

    /**
     * Envoy's QueryParameterMatcher: the first value of parameter {@code name} (undecoded, as Envoy's
     * parseQueryString keeps it) matched by {@code value}; without one, whether the parameter is there
     * is {@code present} (present_match: false asks for its absence). A parameter named without
     * {@code =} has the value "".
     */
    public record QueryParameterMatcher(String name, Optional<StringMatch> value, boolean present) {
        public QueryParameterMatcher(String name, Optional<StringMatch> value) {
            this(name, value, true);
        }

        /** {@code firstValue}: null when the request has no such parameter. */
        public boolean matches(String firstValue) {
            if (value.isEmpty()) {
                return (firstValue != null) == present;
            }
            return firstValue != null && value.get().matches(firstValue);
        }
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
            Optional<RetryPolicy> retryPolicy,
            List<MirrorPolicy> mirrors,
            Optional<RegexRewrite> regexRewrite) implements RouteAction {
        public Forward {
            weightedClusters = List.copyOf(weightedClusters);
            hashPolicies = List.copyOf(hashPolicies);
            mirrors = List.copyOf(mirrors);
        }

        public Forward(Optional<String> cluster, List<WeightedCluster> weightedClusters, Optional<Duration> timeout,
                Optional<String> prefixRewrite, Optional<String> hostRewriteLiteral, List<HashPolicy> hashPolicies,
                Optional<RetryPolicy> retryPolicy, List<MirrorPolicy> mirrors) {
            this(cluster, weightedClusters, timeout, prefixRewrite, hostRewriteLiteral, hashPolicies, retryPolicy, mirrors,
                    Optional.empty());
        }

        public Forward(Optional<String> cluster, List<WeightedCluster> weightedClusters, Optional<Duration> timeout,
                Optional<String> prefixRewrite, Optional<String> hostRewriteLiteral, List<HashPolicy> hashPolicies,
                Optional<RetryPolicy> retryPolicy) {
            this(cluster, weightedClusters, timeout, prefixRewrite, hostRewriteLiteral, hashPolicies, retryPolicy, List.of());
        }

        public Forward(Optional<String> cluster, List<WeightedCluster> weightedClusters, Optional<Duration> timeout,
                Optional<String> prefixRewrite, Optional<String> hostRewriteLiteral, List<HashPolicy> hashPolicies) {
            this(cluster, weightedClusters, timeout, prefixRewrite, hostRewriteLiteral, hashPolicies, Optional.empty());
        }
    }

    /**
     * Envoy's route regex_rewrite: the path, without its query and fragment (Envoy's removeQueryAndFragment), has every
     * match of {@code pattern} replaced by {@code substitution} (RE2::GlobalReplace); the query and fragment follow as
     * they came.
     */
    public record RegexRewrite(io.sourcemesh.proxy.matcher.Re2 pattern, String substitution) {
        /** The request target after the rewrite. */
        public String apply(String uri) {
            int q = uri.indexOf('?');
            int f = uri.indexOf('#');
            int cut = q < 0 ? f : f < 0 ? q : Math.min(q, f);
            String path = cut < 0 ? uri : uri.substring(0, cut);
            String rest = cut < 0 ? "" : uri.substring(cut);
            return pattern.replaceAll(path, substitution) + rest;
        }
    }

    /**
     * Envoy's route retry_policy: which failures are retried ({@code retry_on}: connect-failure,
     * reset, 5xx, gateway-error, retriable-status-codes), how many more attempts are made, and each
     * attempt's per_try_timeout ({@link Duration#ZERO}: none, as Envoy's 0).
     * Requests whose body has started to flow upstream are not retried (it is not buffered).
     */
    /**
     * A route's retry_policy. {@code backOffBaseMillis}/{@code backOffMaxMillis} bound the jittered exponential wait
     * before each retry: retry_back_off's, else Envoy's 25 ms base (runtime upstream.base_retry_backoff_ms) and ten
     * times the base as the most (RetryStateImpl). {@code previousPrioritiesUpdateFrequency}: retry_priority
     * envoy.retry_priorities.previous_priorities' update_frequency (every that many attempts, the priorities tried so far
     * leave the priority load), 0 without a retry_priority.
     */
    public record RetryPolicy(java.util.Set<String> retryOn, int numRetries, java.util.Set<Integer> retriableStatusCodes,
            boolean previousHosts, int hostSelectionMaxAttempts, Duration perTryTimeout, long backOffBaseMillis,
            long backOffMaxMillis, int previousPrioritiesUpdateFrequency) {
        /** Envoy's default retry back-off base interval (upstream.base_retry_backoff_ms). */
        public static final long DEFAULT_BACK_OFF_BASE_MILLIS = 25;

        public RetryPolicy {
            retryOn = java.util.Set.copyOf(retryOn);
            retriableStatusCodes = java.util.Set.copyOf(retriableStatusCodes);
            java.util.Objects.requireNonNull(perTryTimeout);
            if (backOffBaseMillis < 1 || backOffMaxMillis < backOffBaseMillis) {
                throw new IllegalArgumentException("back-off " + backOffBaseMillis + ".." + backOffMaxMillis + " ms");
            }
            if (previousPrioritiesUpdateFrequency < 0) {
                throw new IllegalArgumentException("update_frequency " + previousPrioritiesUpdateFrequency);
            }
        }

        /** Without a retry_priority. */
        public RetryPolicy(java.util.Set<String> retryOn, int numRetries, java.util.Set<Integer> retriableStatusCodes,
                boolean previousHosts, int hostSelectionMaxAttempts, Duration perTryTimeout, long backOffBaseMillis,
                long backOffMaxMillis) {
            this(retryOn, numRetries, retriableStatusCodes, previousHosts, hostSelectionMaxAttempts, perTryTimeout,
                    backOffBaseMillis, backOffMaxMillis, 0);
        }

        /** This policy with retry_priority previous_priorities of {@code updateFrequency} (tests). */
        public RetryPolicy withPreviousPriorities(int updateFrequency) {
            return new RetryPolicy(retryOn, numRetries, retriableStatusCodes, previousHosts, hostSelectionMaxAttempts, perTryTimeout,
                    backOffBaseMillis, backOffMaxMillis, updateFrequency);
        }

        /** With Envoy's default back-off (25 ms base, 250 ms the most). */
        public RetryPolicy(java.util.Set<String> retryOn, int numRetries, java.util.Set<Integer> retriableStatusCodes,
                boolean previousHosts, int hostSelectionMaxAttempts, Duration perTryTimeout) {
            this(retryOn, numRetries, retriableStatusCodes, previousHosts, hostSelectionMaxAttempts, perTryTimeout,
                    DEFAULT_BACK_OFF_BASE_MILLIS, 10 * DEFAULT_BACK_OFF_BASE_MILLIS);
        }

        public RetryPolicy(java.util.Set<String> retryOn, int numRetries, java.util.Set<Integer> retriableStatusCodes,
                boolean previousHosts, int hostSelectionMaxAttempts) {
            this(retryOn, numRetries, retriableStatusCodes, previousHosts, hostSelectionMaxAttempts, Duration.ZERO);
        }

        public RetryPolicy(java.util.Set<String> retryOn, int numRetries, java.util.Set<Integer> retriableStatusCodes) {
            this(retryOn, numRetries, retriableStatusCodes, false, 1);
        }

        /** gRPC status in the response headers: unavailable (14), cancelled (1), as Envoy's grpc retry_on. */
        public boolean onGrpcStatus(String grpcStatus) {
            return ("14".equals(grpcStatus) && retryOn.contains("unavailable"))
                    || ("1".equals(grpcStatus) && retryOn.contains("cancelled"));
        }

        public boolean onConnectFailure() {
            return retryOn.contains("connect-failure") || retryOn.contains("5xx") || retryOn.contains("gateway-error");
        }

        /** An upstream reset (termination, protocol error): Envoy's wouldRetryFromReset takes 5xx, gateway-error and reset. */
        public boolean onReset() {
            return retryOn.contains("reset") || retryOn.contains("5xx") || retryOn.contains("gateway-error");
        }

        /** A stream the upstream refused unprocessed: refused-stream, or any reset policy (Envoy's wouldRetryFromReset). */
        public boolean onRefusedStream() {
            return retryOn.contains("refused-stream") || onReset();
        }

        public boolean onStatus(int code) {
            return (retryOn.contains("5xx") && code >= 500)
                    || (retryOn.contains("gateway-error") && (code == 502 || code == 503 || code == 504))
                    || (retryOn.contains("retriable-status-codes") && retriableStatusCodes.contains(code));
        }
    }

    public record DirectResponse(int status, Optional<String> body) implements RouteAction {}

    /** {@code scheme} is scheme_redirect (https_redirect sets "https"); {@code port} 0 keeps the request's. */
    public record Redirect(Optional<String> host, Optional<String> path, int responseCode, boolean httpsRedirect,
            Optional<String> scheme, int port, Optional<String> prefixRewrite) implements RouteAction {
        public Redirect(Optional<String> host, Optional<String> path, int responseCode, boolean httpsRedirect) {
            this(host, path, responseCode, httpsRedirect, Optional.empty(), 0, Optional.empty());
        }
    }

    /** request_mirror_policies: a copy of the request goes to {@code cluster} for this share of requests. */
    public record MirrorPolicy(String cluster, Fraction fraction) {}

    /** Envoy's FractionalPercent: numerator out of 100, 10 000 or 1 000 000. */
    public record Fraction(long numerator, long denominator) {
        public static final Fraction ALL = new Fraction(100, 100);

        public boolean sample() {
            return numerator >= denominator
                    || (numerator > 0 && java.util.concurrent.ThreadLocalRandom.current().nextLong(denominator) < numerator);
        }
    }

    /**
     * Ring-hash input, one of: the source IP ({@code connection_properties.source_ip}), a header, a cookie
     * ({@link HashCookie}) or the first value of a query parameter ({@code query_parameter}).
     */
    public record HashPolicy(Optional<String> header, boolean sourceIp, boolean terminal, Optional<HashCookie> cookie,
            Optional<String> queryParameter) {
        public HashPolicy(Optional<String> header, boolean sourceIp, boolean terminal) {
            this(header, sourceIp, terminal, Optional.empty(), Optional.empty());
        }

        public static HashPolicy ofCookie(HashCookie cookie, boolean terminal) {
            return new HashPolicy(Optional.empty(), false, terminal, Optional.of(cookie), Optional.empty());
        }

        public static HashPolicy ofQueryParameter(String name, boolean terminal) {
            return new HashPolicy(Optional.empty(), false, terminal, Optional.empty(), Optional.of(name));
        }
    }

    /**
     * hash_policy.cookie, as Envoy's CookieHashMethod (source/common/http/hash_policy.cc): the cookie's value is the key;
     * when the request has none and a ttl is set ({@code ttlSeconds} present), the router makes one up and sends it
     * back in a Set-Cookie with this path and these attributes (a ttl of 0: a session cookie, no Max-Age).
     */
    public record HashCookie(String name, String path, java.util.OptionalLong ttlSeconds, List<CookieAttribute> attributes) {
        public HashCookie {
            attributes = List.copyOf(attributes);
        }
    }

    /** A Set-Cookie attribute of a generated hash cookie: {@code name=value}, or {@code name} alone when value is empty. */
    public record CookieAttribute(String name, String value) {}
}
