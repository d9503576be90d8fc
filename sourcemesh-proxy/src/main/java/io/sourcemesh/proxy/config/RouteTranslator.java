package io.sourcemesh.proxy.config;

import static io.sourcemesh.proxy.config.Protos.at;
import static io.sourcemesh.proxy.config.Protos.only;

import io.envoyproxy.envoy.config.route.v3.DirectResponseAction;
import io.envoyproxy.envoy.config.route.v3.RedirectAction;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.RouteMatch;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.type.matcher.v3.RegexMatcher;
import io.sourcemesh.proxy.matcher.HeaderMatch;
import io.sourcemesh.proxy.matcher.Re2;
import io.sourcemesh.proxy.matcher.StringMatch;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * An inline {@code route_config}: virtual hosts, matches and actions.
 * <p>Over 400 lines: one walk over RouteConfiguration's fields, each refused by its path where it is read
 * (the fault filter's part is already {@link FaultTranslator}).
 */
final class RouteTranslator {

    /** Envoy's default upstream request timeout for a route. */
    static final Duration DEFAULT_ROUTE_TIMEOUT = Duration.ofSeconds(15);

    static final int MAX_DIRECT_RESPONSE_BODY = 4096;

    private RouteTranslator() {}

    /**
     * An inline route table is validated against the clusters, as Envoy does by default for a
     * static one ({@code validate_clusters} defaults to true there); {@code validate_clusters:
     * false} defers a missing cluster to a 404 at request time.
     */
    static RouteConfig routeConfig(RouteConfiguration rc, String path, Set<String> clusters) {
        only(rc, path, "name", "virtual_hosts", "validate_clusters", "ignore_port_in_host_matching", "internal_only_headers");
        List<String> internalOnly = new ArrayList<>();
        for (int i = 0; i < rc.getInternalOnlyHeadersCount(); i++) {
            String header = rc.getInternalOnlyHeaders(i);
            if (!isToken(header)) {
                throw new ConfigException(at(path, "internal_only_headers", i), "\"" + header + "\" is not an HTTP header name");
            }
            internalOnly.add(header.toLowerCase(java.util.Locale.ROOT));
        }
        boolean validate = !rc.hasValidateClusters() || rc.getValidateClusters().getValue();
        List<RouteConfig.VirtualHost> hosts = new ArrayList<>();
        Map<String, String> domains = new HashMap<>();
        for (int i = 0; i < rc.getVirtualHostsCount(); i++) {
            String vPath = at(path, "virtual_hosts", i);
            VirtualHost vh = rc.getVirtualHosts(i);
            only(vh, vPath, "name", "domains", "routes", "include_request_attempt_count", "request_headers_to_add",
                    "request_headers_to_remove", "response_headers_to_add", "response_headers_to_remove", "require_tls",
                    "typed_per_filter_config");
            if (vh.getName().isEmpty()) {
                throw new ConfigException(at(vPath, "name"), "is required");
            }
            if (vh.getDomainsCount() == 0) {
                throw new ConfigException(at(vPath, "domains"), "at least one domain is required");
            }
            for (int d = 0; d < vh.getDomainsCount(); d++) {
                String domain = vh.getDomains(d).toLowerCase(Locale.ROOT);
                String previous = domains.putIfAbsent(domain, vh.getName());
                if (previous != null) {
                    throw new ConfigException(at(vPath, "domains", d), "Only unique values for domains are permitted. Duplicate entry of domain "
                            + domain);
                }
            }
            Map<String, Object> hostFilterConfig = perFilterConfig(Protos.isSet(vh, "typed_per_filter_config")
                    ? vh.getTypedPerFilterConfigMap() : Map.of(), at(vPath, "typed_per_filter_config"));
            List<RouteConfig.Route> routes = new ArrayList<>();
            for (int r = 0; r < vh.getRoutesCount(); r++) {
                routes.add(route(vh.getRoutes(r), at(vPath, "routes", r), validate ? clusters : null, hostFilterConfig));
            }
            RouteConfig.RequireTls requireTls = switch (vh.getRequireTls()) {
                case NONE -> RouteConfig.RequireTls.NONE;
                case EXTERNAL_ONLY -> RouteConfig.RequireTls.EXTERNAL_ONLY;
                case ALL -> RouteConfig.RequireTls.ALL;
                default -> throw new ConfigException(at(vPath, "require_tls"), vh.getRequireTls() + " is not supported");
            };
            hosts.add(new RouteConfig.VirtualHost(vh.getName(), vh.getDomainsList(), routes, vh.getIncludeRequestAttemptCount(),
                    HeaderOptions.of(vh.getRequestHeadersToAddList(), vh.getRequestHeadersToRemoveList(),
                            vh.getResponseHeadersToAddList(), vh.getResponseHeadersToRemoveList(), vPath), requireTls));
        }
        return new RouteConfig(rc.getName(), hosts, rc.getIgnorePortInHostMatching(), internalOnly);
    }

    private static RouteConfig.Route route(Route route, String path, Set<String> clusters, Map<String, Object> hostFilterConfig) {
        // decorator (tracing) and metadata (read by other filters) change nothing we do with traffic.
        only(route, path, "name", "match", "route", "redirect", "direct_response", "decorator", "metadata",
                "request_headers_to_add", "request_headers_to_remove", "response_headers_to_add", "response_headers_to_remove",
                "typed_per_filter_config");
        if (!route.hasMatch()) {
            throw new ConfigException(at(path, "match"), "is required");
        }
        RouteConfig.RouteMatch match = match(route.getMatch(), at(path, "match"));
        RouteConfig.RouteAction action = switch (route.getActionCase()) {
            case ROUTE -> forward(route.getRoute(), at(path, "route"), clusters);
            case REDIRECT -> redirect(route.getRedirect(), at(path, "redirect"));
            case DIRECT_RESPONSE -> directResponse(route.getDirectResponse(), at(path, "direct_response"));
            default -> throw new ConfigException(path, "one of route, redirect, direct_response is required");
        };
        return new RouteConfig.Route(route.getName(), match, action, HeaderOptions.of(route.getRequestHeadersToAddList(),
                route.getRequestHeadersToRemoveList(), route.getResponseHeadersToAddList(),
                route.getResponseHeadersToRemoveList(), path), withHost(perFilterConfig(Protos.isSet(route, "typed_per_filter_config")
                        ? route.getTypedPerFilterConfigMap() : Map.of(), at(path, "typed_per_filter_config")), hostFilterConfig));
    }

    /**
     * The route's per-filter config with its virtual host's under it, worked out once here rather than per request:
     * a filter reads the most specific config (Envoy's mostSpecificPerFilterConfig: the route's, else the virtual
     * host's), except the CORS filter, which reads its policies field by field, the route's first
     * ({@code source/extensions/filters/http/cors/cors_filter.cc}, getAllPerFilterConfig).
     */
    private static Map<String, Object> withHost(Map<String, Object> route, Map<String, Object> host) {
        if (host.isEmpty()) {
            return route;
        }
        Map<String, Object> out = new HashMap<>(host);
        route.forEach((name, config) -> out.merge(name, config, (outer, inner) ->
                inner instanceof CorsPolicyConfig c && outer instanceof CorsPolicyConfig o ? c.over(o) : inner));
        return out;
    }

    /**
     * typed_per_filter_config: by filter name, each an extension that takes per-route config. The fault
     * filter's HTTPFault and the CORS filter's CorsPolicy are those here; anything else is refused rather than
     * silently unused.
     */
    private static Map<String, Object> perFilterConfig(Map<String, com.google.protobuf.Any> configs, String path) {
        Map<String, Object> out = new HashMap<>();
        var fault = io.envoyproxy.envoy.extensions.filters.http.fault.v3.HTTPFault.getDefaultInstance();
        var cors = io.envoyproxy.envoy.extensions.filters.http.cors.v3.CorsPolicy.getDefaultInstance();
        String faultUrl = EnvoyTypes.typeUrl(Protos.descriptor(fault));
        String corsUrl = EnvoyTypes.typeUrl(Protos.descriptor(cors));
        for (Map.Entry<String, com.google.protobuf.Any> e : new java.util.TreeMap<>(configs).entrySet()) {
            String p = path + "." + e.getKey();
            String url = e.getValue().getTypeUrl();
            if (url.equals(faultUrl)) {
                out.put(e.getKey(), FaultTranslator.fault(Protos.unpack(true, e.getValue(), fault, p), p));
            } else if (url.equals(corsUrl)) {
                out.put(e.getKey(), CorsTranslator.policy(Protos.unpack(true, e.getValue(), cors, p), p));
            } else {
                throw new ConfigException(p, url + " is not supported as per-route config (supported: " + faultUrl + ", "
                        + corsUrl + ")");
            }
        }
        return out;
    }

    private static RouteConfig.RouteMatch match(RouteMatch m, String path) {
        only(m, path, "prefix", "path", "safe_regex", "headers", "case_sensitive", "query_parameters");
        // case_sensitive applies to prefix and path only, as in Envoy; a regex says (?i) itself.
        boolean ignoreCase = m.hasCaseSensitive() && !m.getCaseSensitive().getValue();
        StringMatch pathMatch = switch (m.getPathSpecifierCase()) {
            case PREFIX -> StringMatch.of(StringMatch.Kind.PREFIX, m.getPrefix(), ignoreCase);
            case PATH -> StringMatch.of(StringMatch.Kind.EXACT, m.getPath(), ignoreCase);
            case SAFE_REGEX -> StringMatch.regex(regex(m.getSafeRegex(), at(path, "safe_regex")));
            default -> throw new ConfigException(path, "one of prefix, path, safe_regex is required");
        };
        List<HeaderMatch> headers = new ArrayList<>();
        for (int i = 0; i < m.getHeadersCount(); i++) {
            headers.add(Matchers.header(m.getHeaders(i), at(path, "headers", i)));
        }
        List<RouteConfig.QueryParameterMatcher> query = new ArrayList<>();
        for (int i = 0; i < m.getQueryParametersCount(); i++) {
            query.add(queryParameter(m.getQueryParameters(i), at(path, "query_parameters", i)));
        }
        return new RouteConfig.RouteMatch(pathMatch, headers, query);
    }

    private static RouteConfig.QueryParameterMatcher queryParameter(io.envoyproxy.envoy.config.route.v3.QueryParameterMatcher q,
            String path) {
        only(q, path, "name", "string_match", "present_match");
        if (q.getName().isEmpty()) {
            throw new ConfigException(at(path, "name"), "is required");
        }
        // No specifier is a presence check; present_match: false asks for absence, as Envoy since 1.34
        // (enable_new_query_param_present_match_behavior, on by default).
        boolean present = !q.hasPresentMatch() || q.getPresentMatch();
        return new RouteConfig.QueryParameterMatcher(q.getName(), q.hasStringMatch()
                ? Optional.of(Matchers.string(q.getStringMatch(), at(path, "string_match"))) : Optional.empty(), present);
    }

    /**
     * A {@code safe_regex} as Envoy's RE2 compiles it ({@link Re2}); one RE2 refuses is refused with
     * RE2's reason, as Envoy's NACK gives it.
     */
    static Re2 regex(RegexMatcher matcher, String path) {
        only(matcher, path, "google_re2", "regex");
        if (matcher.hasGoogleRe2()) {
            only(matcher.getGoogleRe2(), at(path, "google_re2"));
        }
        String re2 = matcher.getRegex();
        String regexPath = at(path, "regex");
        if (re2.isEmpty()) {
            throw new ConfigException(regexPath, "is required");
        }
        try {
            return Re2.compile(re2);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(regexPath, re2 + " is not a valid RE2 regex: " + e.getMessage());
        }
    }

    private static RouteConfig.Forward forward(RouteAction a, String path, Set<String> clusters) {
        only(a, path, "cluster", "weighted_clusters", "timeout", "prefix_rewrite", "regex_rewrite", "host_rewrite_literal",
                "hash_policy", "retry_policy", "request_mirror_policies");
        Optional<RouteConfig.RegexRewrite> regexRewrite = Optional.empty();
        if (a.hasRegexRewrite()) {
            String rPath = at(path, "regex_rewrite");
            if (!a.getPrefixRewrite().isEmpty()) {
                // Envoy's RouteEntryImplBase refuses the pair
                throw new ConfigException(rPath, "Specify only one of prefix_rewrite, regex_rewrite or path_rewrite_policy");
            }
            only(a.getRegexRewrite(), rPath, "pattern", "substitution");
            if (!a.getRegexRewrite().hasPattern()) {
                throw new ConfigException(at(rPath, "pattern"), "is required");
            }
            regexRewrite = Optional.of(new RouteConfig.RegexRewrite(regex(a.getRegexRewrite().getPattern(), at(rPath, "pattern")),
                    a.getRegexRewrite().getSubstitution()));
        }
        Optional<String> cluster = Optional.empty();
        List<WeightedCluster> weighted = new ArrayList<>();
        switch (a.getClusterSpecifierCase()) {
            case CLUSTER -> {
                if (a.getCluster().isEmpty()) {
                    throw new ConfigException(at(path, "cluster"), "is required");
                }
                requireCluster(a.getCluster(), clusters, at(path, "cluster"), "unknown cluster");
                cluster = Optional.of(a.getCluster());
            }
            case WEIGHTED_CLUSTERS -> {
                String wPath = at(path, "weighted_clusters");
                only(a.getWeightedClusters(), wPath, "clusters");
                var list = a.getWeightedClusters().getClustersList();
                if (list.isEmpty()) {
                    throw new ConfigException(at(wPath, "clusters"), "at least one cluster is required");
                }
                long total = 0;
                for (int i = 0; i < list.size(); i++) {
                    String cPath = at(wPath, "clusters", i);
                    only(list.get(i), cPath, "name", "weight");
                    requireCluster(list.get(i).getName(), clusters, at(cPath, "name"), "unknown weighted cluster");
                    int weight = list.get(i).hasWeight() ? list.get(i).getWeight().getValue() : 0;
                    total += weight;
                    weighted.add(new WeightedCluster(list.get(i).getName(), weight));
                }
                if (total == 0) {
                    throw new ConfigException(wPath, "the sum of the weights must be greater than 0");
                }
            }
            default -> throw new ConfigException(path, "one of cluster, weighted_clusters is required");
        }
        List<RouteConfig.HashPolicy> hashPolicies = new ArrayList<>();
        for (int i = 0; i < a.getHashPolicyCount(); i++) {
            String hPath = at(path, "hash_policy", i);
            RouteAction.HashPolicy h = a.getHashPolicy(i);
            only(h, hPath, "header", "connection_properties", "cookie", "query_parameter", "terminal");
            hashPolicies.add(switch (h.getPolicySpecifierCase()) {
                case HEADER -> {
                    only(h.getHeader(), at(hPath, "header"), "header_name");
                    if (h.getHeader().getHeaderName().isEmpty()) {
                        throw new ConfigException(at(hPath, "header.header_name"), "is required");
                    }
                    yield new RouteConfig.HashPolicy(Optional.of(h.getHeader().getHeaderName()), false, h.getTerminal());
                }
                case CONNECTION_PROPERTIES -> {
                    only(h.getConnectionProperties(), at(hPath, "connection_properties"), "source_ip");
                    yield new RouteConfig.HashPolicy(Optional.empty(), h.getConnectionProperties().getSourceIp(), h.getTerminal());
                }
                case COOKIE -> RouteConfig.HashPolicy.ofCookie(cookie(h.getCookie(), at(hPath, "cookie")), h.getTerminal());
                case QUERY_PARAMETER -> {
                    only(h.getQueryParameter(), at(hPath, "query_parameter"), "name");
                    if (h.getQueryParameter().getName().isEmpty()) {
                        throw new ConfigException(at(hPath, "query_parameter.name"), "is required");
                    }
                    yield RouteConfig.HashPolicy.ofQueryParameter(h.getQueryParameter().getName(), h.getTerminal());
                }
                default -> throw new ConfigException(hPath,
                        "one of header, connection_properties, cookie, query_parameter is required");
            });
        }
        return new RouteConfig.Forward(cluster, weighted,
                Protos.timeout(a.hasTimeout(), a.getTimeout(), DEFAULT_ROUTE_TIMEOUT),
                a.getPrefixRewrite().isEmpty() ? Optional.empty() : Optional.of(a.getPrefixRewrite()),
                a.getHostRewriteLiteral().isEmpty() ? Optional.empty() : Optional.of(a.getHostRewriteLiteral()),
                hashPolicies, a.hasRetryPolicy() ? Optional.of(retryPolicy(a.getRetryPolicy(), at(path, "retry_policy"))) : Optional.empty(),
                mirrors(a, path, clusters), regexRewrite);
    }

    /**
     * hash_policy.cookie: a name is required (route_components.proto), as is each attribute's; the ttl counts in whole
     * seconds, as Envoy's HashPolicyImpl reads it (a ttl under a second is 0: a session cookie).
     */
    private static RouteConfig.HashCookie cookie(RouteAction.HashPolicy.Cookie c, String path) {
        only(c, path, "name", "ttl", "path", "attributes");
        if (c.getName().isEmpty()) {
            throw new ConfigException(at(path, "name"), "is required");
        }
        List<RouteConfig.CookieAttribute> attributes = new ArrayList<>();
        for (int i = 0; i < c.getAttributesCount(); i++) {
            String aPath = at(path, "attributes", i);
            only(c.getAttributes(i), aPath, "name", "value");
            if (c.getAttributes(i).getName().isEmpty()) {
                throw new ConfigException(at(aPath, "name"), "is required");
            }
            attributes.add(new RouteConfig.CookieAttribute(c.getAttributes(i).getName(), c.getAttributes(i).getValue()));
        }
        return new RouteConfig.HashCookie(c.getName(), c.getPath(),
                c.hasTtl() ? java.util.OptionalLong.of(c.getTtl().getSeconds()) : java.util.OptionalLong.empty(), attributes);
    }

    private static List<RouteConfig.MirrorPolicy> mirrors(RouteAction a, String path, Set<String> clusters) {
        List<RouteConfig.MirrorPolicy> out = new ArrayList<>();
        for (int i = 0; i < a.getRequestMirrorPoliciesCount(); i++) {
            String mPath = at(path, "request_mirror_policies", i);
            RouteAction.RequestMirrorPolicy m = a.getRequestMirrorPolicies(i);
            // trace_sampled only marks the shadow's trace; we do not trace.
            only(m, mPath, "cluster", "runtime_fraction", "trace_sampled");
            if (m.getCluster().isEmpty()) {
                throw new ConfigException(at(mPath, "cluster"), "is required");
            }
            requireCluster(m.getCluster(), clusters, at(mPath, "cluster"), "unknown mirror cluster");
            RouteConfig.Fraction fraction = RouteConfig.Fraction.ALL;
            if (m.hasRuntimeFraction()) {
                String fPath = at(mPath, "runtime_fraction");
                only(m.getRuntimeFraction(), fPath, "default_value");
                fraction = fraction(m.getRuntimeFraction().getDefaultValue(), at(fPath, "default_value"));
            }
            out.add(new RouteConfig.MirrorPolicy(m.getCluster(), fraction));
        }
        return out;
    }

    static RouteConfig.Fraction fraction(io.envoyproxy.envoy.type.v3.FractionalPercent p, String path) {
        only(p, path, "numerator", "denominator");
        long denominator = switch (p.getDenominator()) {
            case HUNDRED -> 100;
            case TEN_THOUSAND -> 10_000;
            case MILLION -> 1_000_000;
            default -> throw new ConfigException(at(path, "denominator"), p.getDenominator() + " is not supported");
        };
        return new RouteConfig.Fraction(Integer.toUnsignedLong(p.getNumerator()), denominator);
    }

    static final Set<String> RETRY_ON = Set.of("connect-failure", "reset", "5xx", "gateway-error", "retriable-status-codes",
            "refused-stream", "unavailable", "cancelled");

    static final String PREVIOUS_HOSTS = "envoy.retry_host_predicates.previous_hosts";

    private static RouteConfig.RetryPolicy retryPolicy(io.envoyproxy.envoy.config.route.v3.RetryPolicy r, String path) {
        // per_try_idle_timeout, rate_limited_retry_back_off and the rest stay refused by name (only)
        only(r, path, "retry_on", "num_retries", "retriable_status_codes", "retry_host_predicate", "retry_priority",
                "host_selection_retry_max_attempts", "per_try_timeout", "retry_back_off");
        boolean previousHosts = false;
        for (int i = 0; i < r.getRetryHostPredicateCount(); i++) {
            String pPath = at(path, "retry_host_predicate", i);
            var predicate = r.getRetryHostPredicate(i);
            only(predicate, pPath, "name", "typed_config");
            if (!predicate.getName().equals(PREVIOUS_HOSTS)) {
                throw new ConfigException(at(pPath, "name"), predicate.getName() + " is not supported (supported: " + PREVIOUS_HOSTS + ")");
            }
            if (predicate.hasTypedConfig()) {
                Protos.unpack(true, predicate.getTypedConfig(),
                        io.envoyproxy.envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate.getDefaultInstance(),
                        pPath);
            }
            previousHosts = true;
        }
        int updateFrequency = r.hasRetryPriority() ? previousPriorities(r.getRetryPriority(), at(path, "retry_priority")) : 0;
        // Envoy's default is 1: the predicate's host is taken after one re-pick.
        int selectionAttempts = (int) Math.max(1, r.getHostSelectionRetryMaxAttempts());
        Set<String> on = new java.util.LinkedHashSet<>();
        for (String token : r.getRetryOn().split(",")) {
            String t = token.trim();
            if (t.isEmpty()) {
                continue;
            }
            if (!RETRY_ON.contains(t)) {
                throw new ConfigException(at(path, "retry_on"), t + " is not supported (supported: " + String.join(", ",
                        new java.util.TreeSet<>(RETRY_ON)) + ")");
            }
            on.add(t);
        }
        int retries = r.hasNumRetries() ? r.getNumRetries().getValue() : 1;
        long base = RouteConfig.RetryPolicy.DEFAULT_BACK_OFF_BASE_MILLIS;
        long max = 10 * base;
        if (r.hasRetryBackOff()) {
            String bPath = at(path, "retry_back_off");
            var b = r.getRetryBackOff();
            only(b, bPath, "base_interval", "max_interval");
            if (!b.hasBaseInterval()) {
                throw new ConfigException(at(bPath, "base_interval"), "is required");
            }
            base = backOffMillis(b.getBaseInterval(), at(bPath, "base_interval"));
            max = 10 * base;
            if (b.hasMaxInterval()) {
                max = backOffMillis(b.getMaxInterval(), at(bPath, "max_interval"));
                if (max < base) {
                    // RetryPolicyImpl's words
                    throw new ConfigException(at(bPath, "max_interval"),
                            "retry_policy.max_interval must greater than or equal to the base_interval");
                }
            }
        }
        return new RouteConfig.RetryPolicy(on, retries, Set.copyOf(r.getRetriableStatusCodesList()), previousHosts, selectionAttempts,
                perTryTimeout(r, at(path, "per_try_timeout")), base, max, updateFrequency);
    }

    /**
     * A retry_priority: the extension registry's, by its name (a typed_config of another type is refused by its type
     * URL), so envoy.retry_priorities.previous_priorities; its update_frequency, which Envoy's validation holds above 0
     * (a missing typed_config is an empty config, hence refused too).
     */
    private static int previousPriorities(io.envoyproxy.envoy.config.route.v3.RetryPolicy.RetryPriority p, String path) {
        only(p, path, "name", "typed_config");
        Protos.requireName(p.getName(), path);
        Extensions.byName(Extensions.Category.RETRY_PRIORITY, p.getName())
                .orElseThrow(() -> new ConfigException(at(path, "name"), p.getName() + " is not supported (supported: "
                        + String.join(", ", Extensions.all().stream().filter(x -> x.category() == Extensions.Category.RETRY_PRIORITY)
                                .map(Extensions.Extension::name).toList()) + ")"));
        if (p.hasTypedConfig()) {
            Extensions.require(Extensions.Category.RETRY_PRIORITY, Protos.extension(p.getName(), true, p.getTypedConfig(), path),
                    at(path, "typed_config"));
        }
        var config = Protos.unpack(p.hasTypedConfig(), p.getTypedConfig(),
                io.envoyproxy.envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig.getDefaultInstance(), path);
        String cPath = at(path, "typed_config");
        only(config, cPath, "update_frequency");
        if (config.getUpdateFrequency() <= 0) {
            throw new ConfigException(at(cPath, "update_frequency"), "must be greater than 0 (is " + config.getUpdateFrequency() + ")");
        }
        return config.getUpdateFrequency();
    }

    /**
     * A retry back-off interval in whole milliseconds, as Envoy's RetryPolicyImpl reads it: it must be above zero (the
     * proto's duration rule gt {}), and under a millisecond is one.
     */
    private static long backOffMillis(com.google.protobuf.Duration d, String path) {
        Duration value = Protos.duration(d);
        if (value.isNegative() || value.isZero()) {
            throw new ConfigException(path, "must be greater than 0s");
        }
        return Math.max(1, value.toMillis());
    }

    /**
     * per_try_timeout in whole milliseconds, as Envoy's RetryPolicyImpl reads it (PROTOBUF_GET_MS_OR_DEFAULT: unset or
     * under a millisecond is 0, no per-try timeout); a negative one Envoy's duration check refuses.
     */
    private static Duration perTryTimeout(io.envoyproxy.envoy.config.route.v3.RetryPolicy r, String path) {
        if (!r.hasPerTryTimeout()) {
            return Duration.ZERO;
        }
        Duration d = Protos.duration(r.getPerTryTimeout());
        if (d.isNegative()) {
            throw new ConfigException(path, "must not be negative");
        }
        return Duration.ofMillis(d.toMillis());
    }

    private static void requireCluster(String name, Set<String> clusters, String path, String problem) {
        if (clusters != null && !clusters.contains(name)) {
            throw new ConfigException(path, problem + " '" + name + "'");
        }
    }

    private static RouteConfig.Redirect redirect(RedirectAction r, String path) {
        only(r, path, "https_redirect", "scheme_redirect", "host_redirect", "port_redirect", "path_redirect", "prefix_rewrite",
                "response_code");
        int code = switch (r.getResponseCode()) {
            case MOVED_PERMANENTLY -> 301;
            case FOUND -> 302;
            case SEE_OTHER -> 303;
            case TEMPORARY_REDIRECT -> 307;
            case PERMANENT_REDIRECT -> 308;
            default -> throw new ConfigException(at(path, "response_code"), r.getResponseCode() + " is not supported");
        };
        return new RouteConfig.Redirect(
                r.getHostRedirect().isEmpty() ? Optional.empty() : Optional.of(r.getHostRedirect()),
                r.getPathRedirect().isEmpty() ? Optional.empty() : Optional.of(r.getPathRedirect()),
                code, r.getHttpsRedirect(),
                r.getSchemeRedirect().isEmpty() ? Optional.empty() : Optional.of(r.getSchemeRedirect().toLowerCase(Locale.ROOT)),
                r.getPortRedirect(),
                r.getPrefixRewrite().isEmpty() ? Optional.empty() : Optional.of(r.getPrefixRewrite()));
    }

    private static RouteConfig.DirectResponse directResponse(DirectResponseAction d, String path) {
        only(d, path, "status", "body");
        if (d.getStatus() < 200 || d.getStatus() > 599) {
            throw new ConfigException(at(path, "status"), d.getStatus() + " is not in [200, 600)");
        }
        Optional<String> body = d.hasBody() ? Optional.of(Protos.text(d.getBody(), at(path, "body"))) : Optional.empty();
        int size = body.map(b -> b.getBytes(StandardCharsets.UTF_8).length).orElse(0);
        if (size > MAX_DIRECT_RESPONSE_BODY) {
            // Envoy's max_direct_response_body_size_bytes default.
            throw new ConfigException(at(path, "body"), "response body size is " + size + " bytes; maximum is " + MAX_DIRECT_RESPONSE_BODY);
        }
        return new RouteConfig.DirectResponse(d.getStatus(), body);
    }


    /** RFC 9110 token: what a header name may be (no pseudo-headers, no separators, no controls). */
    private static boolean isToken(String s) {
        if (s.isEmpty()) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
            if (!ok) {
                return false;
            }
        }
        return true;
    }
}
