package io.sourcemesh.proxy.config;

import static io.sourcemesh.proxy.config.Bootstraps.HCM;
import static io.sourcemesh.proxy.config.Bootstraps.hcm;
import static io.sourcemesh.proxy.config.Bootstraps.loadHcm;
import static io.sourcemesh.proxy.config.Bootstraps.loadRoute;
import static io.sourcemesh.proxy.config.Bootstraps.rejects;
import static io.sourcemesh.proxy.config.Bootstraps.route;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.proxy.matcher.HeaderMatch;
import io.sourcemesh.proxy.matcher.StringMatch;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RouteTranslationTest {

    static final String ROUTE0 = HCM + ".route_config.virtual_hosts[0].routes[0]";

    @Test
    void virtualHostsAndPrefixRoute() {
        RouteConfig rc = loadHcm(hcm("""
                route_config:
                  name: local
                  virtual_hosts:
                  - name: a
                    domains: [a.example.com, "*.b.example.com"]
                    routes:
                    - name: r
                      match: {prefix: /api}
                      route: {cluster: backend}
                  - name: all
                    domains: ["*"]
                    routes: [{match: {prefix: /}, route: {cluster: backend}}]
                """)).routeConfig();
        assertEquals("local", rc.name());
        assertEquals(List.of("a.example.com", "*.b.example.com"), rc.virtualHosts().get(0).domains());
        RouteConfig.Route r = rc.virtualHosts().get(0).routes().get(0);
        assertEquals("r", r.name());
        assertEquals(RouteConfig.RouteMatch.ofPrefix("/api"), r.match());
        assertEquals(new RouteConfig.Forward(Optional.of("backend"), List.of(), Optional.of(Duration.ofSeconds(15)), Optional.empty(),
                Optional.empty(), List.of()), r.action());
    }

    @Test
    void pathAndRegexMatches() {
        RouteConfig.RouteMatch path = loadRoute(route("- match: {path: /ip, case_sensitive: false}\n  route: {cluster: backend}\n")).match();
        assertEquals(StringMatch.of(StringMatch.Kind.EXACT, "/ip", true), path.path());
        assertEquals(Optional.empty(), path.prefix());
        RouteConfig.RouteMatch regex = loadRoute(route(
                "- match: {safe_regex: {google_re2: {}, regex: \"/status/(?P<code>[0-9]+)\"}}\n  route: {cluster: backend}\n")).match();
        assertTrue(regex.path().matches("/status/418"));
        assertFalse(regex.path().matches("/status/x"));
    }

    @Test
    void headerMatchers() {
        List<HeaderMatch> h = loadRoute(route("""
                - match:
                    prefix: /
                    headers:
                    - {name: a, exact_match: x}
                    - {name: b, prefix_match: p}
                    - {name: c, suffix_match: s, invert_match: true}
                    - {name: d, contains_match: c}
                    - {name: e, safe_regex_match: {regex: "v[0-9]"}}
                    - {name: f, present_match: true}
                    - {name: g, present_match: false}
                    - {name: h, string_match: {exact: y, ignore_case: true}}
                    - {name: i, string_match: {safe_regex: {regex: "^z$"}}}
                    - {name: J}
                    - {name: k, exact_match: "", treat_missing_header_as_empty: true}
                  route: {cluster: backend}
                """)).match().headers();
        assertEquals(11, h.size());
        assertEquals(new HeaderMatch("a", Optional.of(StringMatch.of(StringMatch.Kind.EXACT, "x", false)), true, false, false), h.get(0));
        assertEquals(StringMatch.Kind.PREFIX, h.get(1).match().orElseThrow().kind());
        assertEquals(new HeaderMatch("c", Optional.of(StringMatch.of(StringMatch.Kind.SUFFIX, "s", false)), true, true, false), h.get(2));
        assertEquals(StringMatch.Kind.CONTAINS, h.get(3).match().orElseThrow().kind());
        assertTrue(h.get(4).matches("v1"));
        assertEquals(new HeaderMatch("f", Optional.empty(), true, false, false), h.get(5));
        assertEquals(new HeaderMatch("g", Optional.empty(), false, false, false), h.get(6), "present_match: false means absent");
        assertEquals(StringMatch.of(StringMatch.Kind.EXACT, "y", true), h.get(7).match().orElseThrow());
        assertEquals(StringMatch.Kind.REGEX, h.get(8).match().orElseThrow().kind());
        assertEquals(new HeaderMatch("j", Optional.empty(), true, false, false), h.get(9), "no specifier: presence, as in Envoy");
        assertTrue(h.get(10).matches(Optional.empty()), "a missing header read as empty");
    }

    /** Envoy's proto validation: the deprecated and the StringMatcher prefix/suffix/contains need a character. */
    @Test
    void emptyRouteStringMatchersAreRefused() {
        rejects(route("- match: {prefix: /, headers: [{name: a, prefix_match: \"\"}]}\n  route: {cluster: backend}\n"),
                ROUTE0 + ".match.headers[0].prefix_match: must not be empty");
        rejects(route("- match: {prefix: /, headers: [{name: a, string_match: {suffix: \"\"}}]}\n  route: {cluster: backend}\n"),
                ROUTE0 + ".match.headers[0].string_match.suffix: must not be empty");
        rejects(route("- match: {prefix: /, query_parameters: [{name: a, string_match: {contains: \"\"}}]}\n"
                + "  route: {cluster: backend}\n"), ROUTE0 + ".match.query_parameters[0].string_match.contains: must not be empty");
        rejects(route("- match: {prefix: /, headers: [{name: \"a\\nb\"}]}\n  route: {cluster: backend}\n"),
                ROUTE0 + ".match.headers[0].name: must not contain CR, LF or NUL");
        // Envoy's StringMatcherImpl: "ignore_case has no effect for safe_regex" refuses the config.
        rejects(route("- match: {prefix: /, headers: [{name: a, string_match: {safe_regex: {regex: x}, ignore_case: true}}]}\n"
                + "  route: {cluster: backend}\n"), ROUTE0 + ".match.headers[0].string_match.ignore_case: has no effect for safe_regex");
    }

    @Test
    void queryParameterMatchers() {
        java.util.List<RouteConfig.QueryParameterMatcher> q = loadRoute(route("""
                - match:
                    prefix: /
                    query_parameters:
                    - {name: a, string_match: {exact: x, ignore_case: true}}
                    - {name: b, string_match: {safe_regex: {regex: "[0-9]+"}}}
                    - {name: c, present_match: true}
                    - {name: d}
                    - {name: e, present_match: false}
                  route: {cluster: backend}
                """)).match().queryParameters();
        assertEquals(new RouteConfig.QueryParameterMatcher("a", Optional.of(StringMatch.of(StringMatch.Kind.EXACT, "x", true))), q.get(0));
        assertEquals(StringMatch.Kind.REGEX, q.get(1).value().orElseThrow().kind());
        assertEquals(new RouteConfig.QueryParameterMatcher("c", Optional.empty()), q.get(2));
        assertEquals(new RouteConfig.QueryParameterMatcher("d", Optional.empty()), q.get(3), "no specifier: presence, as in Envoy");
        assertEquals(new RouteConfig.QueryParameterMatcher("e", Optional.empty(), false), q.get(4), "present_match: false is absence");
        rejects(route("- match: {prefix: /, query_parameters: [{string_match: {exact: x}}]}\n  route: {cluster: backend}\n"),
                ROUTE0 + ".match.query_parameters[0].name: is required");
    }

    @Test
    void forwardActionFields() {
        RouteConfig.Forward f = assertInstanceOf(RouteConfig.Forward.class, loadRoute(route("""
                - match: {prefix: /}
                  route:
                    weighted_clusters: {clusters: [{name: backend, weight: 90}, {name: backend, weight: 10}]}
                    timeout: 0s
                    prefix_rewrite: /v2/
                    host_rewrite_literal: upstream.local
                    hash_policy:
                    - {header: {header_name: x-user}}
                    - {connection_properties: {source_ip: true}, terminal: true}
                """)).action());
        assertEquals(Optional.empty(), f.cluster());
        assertEquals(List.of(new WeightedCluster("backend", 90), new WeightedCluster("backend", 10)), f.weightedClusters());
        assertEquals(Optional.empty(), f.timeout(), "0s disables the route timeout");
        assertEquals(Optional.of("/v2/"), f.prefixRewrite());
        assertEquals(Optional.of("upstream.local"), f.hostRewriteLiteral());
        assertEquals(List.of(new RouteConfig.HashPolicy(Optional.of("x-user"), false, false),
                new RouteConfig.HashPolicy(Optional.empty(), true, true)), f.hashPolicies());
    }

    /** regex_rewrite: RE2 as the route's other regexes; one beside prefix_rewrite is refused as Envoy's RouteEntryImplBase. */
    @Test
    void regexRewrite() {
        RouteConfig.Forward f = assertInstanceOf(RouteConfig.Forward.class, loadRoute(route("""
                - match: {prefix: /}
                  route:
                    cluster: backend
                    regex_rewrite: {pattern: {regex: "^/service/([^/]+)(/.*)$"}, substitution: "\\\\2/instance/\\\\1"}
                """)).action());
        assertEquals(Optional.empty(), f.prefixRewrite());
        assertEquals("/v1/instance/foo?q=/service/x", f.regexRewrite().orElseThrow().apply("/service/foo/v1?q=/service/x"));
        rejects(route("- match: {prefix: /}\n  route: {cluster: backend, prefix_rewrite: /a, regex_rewrite: {pattern: {regex: a}, "
                + "substitution: b}}\n"),
                ROUTE0 + ".route.regex_rewrite: Specify only one of prefix_rewrite, regex_rewrite or path_rewrite_policy");
        rejects(route("- match: {prefix: /}\n  route: {cluster: backend, regex_rewrite: {pattern: {regex: \"/a\\\\Z\"}, "
                + "substitution: b}}\n"),
                ROUTE0 + ".route.regex_rewrite.pattern.regex: /a\\Z is not a valid RE2 regex: invalid escape sequence: `\\Z`");
        rejects(route("- match: {prefix: /}\n  route: {cluster: backend, regex_rewrite: {substitution: b}}\n"),
                ROUTE0 + ".route.regex_rewrite.pattern: is required");
    }

    /** hash_policy cookie and query_parameter (route_components.proto; Envoy's HashPolicyImpl reads the ttl in seconds). */
    @Test
    void cookieAndQueryParameterHashPolicies() {
        RouteConfig.Forward f = assertInstanceOf(RouteConfig.Forward.class, loadRoute(route("""
                - match: {prefix: /}
                  route:
                    cluster: backend
                    hash_policy:
                    - cookie: {name: session, ttl: 3600.5s, path: /app, attributes: [{name: SameSite, value: Lax}, {name: Secure}]}
                    - {cookie: {name: plain}, terminal: true}
                    - cookie: {name: brief, ttl: 0.2s}
                    - query_parameter: {name: user}
                """)).action());
        assertEquals(List.of(
                RouteConfig.HashPolicy.ofCookie(new RouteConfig.HashCookie("session", "/app", java.util.OptionalLong.of(3600),
                        List.of(new RouteConfig.CookieAttribute("SameSite", "Lax"), new RouteConfig.CookieAttribute("Secure", ""))),
                        false),
                RouteConfig.HashPolicy.ofCookie(new RouteConfig.HashCookie("plain", "", java.util.OptionalLong.empty(), List.of()),
                        true),
                RouteConfig.HashPolicy.ofCookie(new RouteConfig.HashCookie("brief", "", java.util.OptionalLong.of(0), List.of()),
                        false),
                RouteConfig.HashPolicy.ofQueryParameter("user", false)), f.hashPolicies());
    }

    @Test
    void hashPoliciesWithoutANameOrWeDoNotImplementAreRefused() {
        rejects(route("- match: {prefix: /}\n  route: {cluster: backend, hash_policy: [{cookie: {ttl: 1s}}]}\n"),
                ROUTE0 + ".route.hash_policy[0].cookie.name: is required");
        rejects(route("- match: {prefix: /}\n  route: {cluster: backend, hash_policy: [{cookie: {name: a, attributes: [{value: v}]}}]}\n"),
                ROUTE0 + ".route.hash_policy[0].cookie.attributes[0].name: is required");
        rejects(route("- match: {prefix: /}\n  route: {cluster: backend, hash_policy: [{query_parameter: {}}]}\n"),
                ROUTE0 + ".route.hash_policy[0].query_parameter.name: is required");
        rejects(route("- match: {prefix: /}\n  route: {cluster: backend, hash_policy: [{filter_state: {key: k}}]}\n"),
                ROUTE0 + ".route.hash_policy[0].filter_state: field is not supported");
    }

    @Test
    void directResponseAndRedirect() {
        assertEquals(new RouteConfig.DirectResponse(403, Optional.of("denied\n")), loadRoute(route(
                "- match: {prefix: /}\n  direct_response: {status: 403, body: {inline_string: \"denied\\n\"}}\n")).action());
        assertEquals(new RouteConfig.DirectResponse(204, Optional.empty()), loadRoute(route(
                "- match: {prefix: /}\n  direct_response: {status: 204}\n")).action());
        assertEquals(new RouteConfig.Redirect(Optional.of("example.com"), Optional.of("/new"), 308, true), loadRoute(route(
                "- match: {prefix: /}\n  redirect: {host_redirect: example.com, path_redirect: /new, response_code: PERMANENT_REDIRECT, https_redirect: true}\n"))
                .action());
        assertEquals(new RouteConfig.Redirect(Optional.empty(), Optional.empty(), 301, false), loadRoute(route(
                "- match: {prefix: /}\n  redirect: {}\n")).action());
    }

    @Test
    void unknownClustersAreRejectedUnlessValidationIsOff() {
        rejects(route("- match: {prefix: /}\n  route: {cluster: nowhere}\n"), ROUTE0 + ".route.cluster: unknown cluster 'nowhere'");
        rejects(route("- match: {prefix: /}\n  route: {weighted_clusters: {clusters: [{name: backend, weight: 1}, {name: gone, weight: 1}]}}\n"),
                ROUTE0 + ".route.weighted_clusters.clusters[1].name: unknown weighted cluster 'gone'");
        RouteConfig.Route r = loadRoute(hcm("""
                route_config:
                  validate_clusters: false
                  virtual_hosts: [{name: a, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: later}}]}]
                """));
        assertEquals(Optional.of("later"), ((RouteConfig.Forward) r.action()).cluster());
    }

    @Test
    void retryPolicy() {
        RouteConfig.Forward f = (RouteConfig.Forward) loadRoute(route("- match: {prefix: /}\n  route: {cluster: backend, retry_policy: "
                + "{retry_on: \"connect-failure,retriable-status-codes\", num_retries: 3, retriable_status_codes: [503]}}\n")).action();
        RouteConfig.RetryPolicy p = f.retryPolicy().orElseThrow();
        assertEquals(3, p.numRetries());
        assertTrue(p.onConnectFailure());
        assertTrue(p.onStatus(503));
        assertFalse(p.onStatus(500));
        assertFalse(p.onReset());
        assertEquals(Duration.ZERO, p.perTryTimeout(), "unset: no per-try timeout");
    }

    /** per_try_timeout as Envoy's RetryPolicyImpl reads it (PROTOBUF_GET_MS_OR_DEFAULT): whole milliseconds, 0 none. */
    @Test
    void perTryTimeoutIsTakenInWholeMilliseconds() {
        assertEquals(Duration.ofMillis(250), perTryTimeout("0.25s"));
        assertEquals(Duration.ofMillis(1), perTryTimeout("0.0019s"), "truncated to the millisecond");
        assertEquals(Duration.ZERO, perTryTimeout("0.0005s"), "under a millisecond: none, as Envoy's 0");
        assertEquals(Duration.ZERO, perTryTimeout("0s"));
        rejects(route("- match: {prefix: /}\n  route: {cluster: backend, retry_policy: {retry_on: reset, per_try_timeout: -1s}}\n"),
                ROUTE0 + ".route.retry_policy.per_try_timeout: must not be negative");
    }

    /**
     * retry_back_off as Envoy's RetryPolicyImpl reads it: whole milliseconds, under one is one; max_interval 10 times
     * the base when unset and never under it; without the field, the router's 25 ms default. rate_limited_retry_back_off
     * stays refused by name.
     */
    @Test
    void retryBackOffIsReadAsEnvoyReadsIt() {
        RouteConfig.RetryPolicy unset = retryPolicy("retry_on: reset");
        assertEquals(25, unset.backOffBaseMillis(), "Envoy's default base interval");
        assertEquals(250, unset.backOffMaxMillis(), "ten times it");
        RouteConfig.RetryPolicy base = retryPolicy("retry_on: reset, retry_back_off: {base_interval: 0.1s}");
        assertEquals(100, base.backOffBaseMillis());
        assertEquals(1000, base.backOffMaxMillis(), "unset max: ten times the base");
        RouteConfig.RetryPolicy both = retryPolicy("retry_on: reset, retry_back_off: {base_interval: 0.0004s, max_interval: 0.0002s}");
        assertEquals(1, both.backOffBaseMillis(), "under a millisecond is one");
        assertEquals(1, both.backOffMaxMillis(), "so is the max, and equal is allowed");
        assertEquals(2000, retryPolicy("retry_on: reset, retry_back_off: {base_interval: 1s, max_interval: 2s}").backOffMaxMillis());
        String at = ROUTE0 + ".route.retry_policy.retry_back_off";
        rejects(route("- match: {prefix: /}\n  route: {cluster: backend, retry_policy: {retry_on: reset, retry_back_off: "
                + "{base_interval: 1s, max_interval: 0.5s}}}\n"),
                at + ".max_interval: retry_policy.max_interval must greater than or equal to the base_interval");
        rejects(route("- match: {prefix: /}\n  route: {cluster: backend, retry_policy: {retry_on: reset, retry_back_off: "
                + "{max_interval: 1s}}}\n"), at + ".base_interval: is required");
        rejects(route("- match: {prefix: /}\n  route: {cluster: backend, retry_policy: {retry_on: reset, retry_back_off: "
                + "{base_interval: 0s}}}\n"), at + ".base_interval: must be greater than 0s");
        rejects(route("- match: {prefix: /}\n  route: {cluster: backend, retry_policy: {retry_on: reset, "
                + "rate_limited_retry_back_off: {reset_headers: [{name: Retry-After}]}}}\n"),
                ROUTE0 + ".route.retry_policy.rate_limited_retry_back_off: field is not supported");
    }

    private RouteConfig.RetryPolicy retryPolicy(String policy) {
        RouteConfig.Forward f = (RouteConfig.Forward) loadRoute(route("- match: {prefix: /}\n  route: {cluster: backend, retry_policy: "
                + "{" + policy + "}}\n")).action();
        return f.retryPolicy().orElseThrow();
    }

    private Duration perTryTimeout(String value) {
        RouteConfig.Forward f = (RouteConfig.Forward) loadRoute(route("- match: {prefix: /}\n  route: {cluster: backend, retry_policy: "
                + "{retry_on: reset, per_try_timeout: " + value + "}}\n")).action();
        return f.retryPolicy().orElseThrow().perTryTimeout();
    }

    @Test
    void istiosDefaultRetryPolicy() {
        RouteConfig.Forward f = (RouteConfig.Forward) loadRoute(route("""
                - match: {prefix: /}
                  route:
                    cluster: backend
                    retry_policy:
                      retry_on: connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes
                      num_retries: 2
                      retry_host_predicate:
                      - name: envoy.retry_host_predicates.previous_hosts
                        typed_config: {"@type": type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate}
                      host_selection_retry_max_attempts: 5
                      retriable_status_codes: [503]
                """)).action();
        RouteConfig.RetryPolicy p = f.retryPolicy().orElseThrow();
        assertTrue(p.previousHosts());
        assertEquals(5, p.hostSelectionMaxAttempts());
        assertTrue(p.onGrpcStatus("14"), "unavailable");
        assertTrue(p.onGrpcStatus("1"), "cancelled");
        assertFalse(p.onGrpcStatus("4"));
        assertTrue(p.onStatus(503));
    }

    /** Istio's retryRemoteLocalities: retry_priority previous_priorities with update_frequency 2. */
    @Test
    void previousPrioritiesRetryPriority() {
        RouteConfig.Forward f = (RouteConfig.Forward) loadRoute(route("""
                - match: {prefix: /}
                  route:
                    cluster: backend
                    retry_policy:
                      retry_on: 5xx
                      retry_priority:
                        name: envoy.retry_priorities.previous_priorities
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig
                          update_frequency: 2
                """)).action();
        assertEquals(2, f.retryPolicy().orElseThrow().previousPrioritiesUpdateFrequency());
        RouteConfig.Forward none = (RouteConfig.Forward) loadRoute(route("- match: {prefix: /}\n  route: {cluster: backend, retry_policy: "
                + "{retry_on: 5xx}}\n")).action();
        assertEquals(0, none.retryPolicy().orElseThrow().previousPrioritiesUpdateFrequency());
        String at = ROUTE0 + ".route.retry_policy.retry_priority";
        rejects(route("- match: {prefix: /}\n  route: {cluster: backend, retry_policy: {retry_priority: "
                + "{name: envoy.retry_priorities.other_priority}}}\n"),
                at + ".name: envoy.retry_priorities.other_priority is not supported");
        // Envoy's validation: update_frequency gt 0, so an absent typed_config (an empty config) is refused too
        rejects(route("- match: {prefix: /}\n  route: {cluster: backend, retry_policy: {retry_priority: "
                + "{name: envoy.retry_priorities.previous_priorities}}}\n"),
                at + ".typed_config.update_frequency: must be greater than 0 (is 0)");
        rejects(route("- match: {prefix: /}\n  route: {cluster: backend, retry_policy: {retry_priority: "
                + "{name: envoy.retry_priorities.previous_priorities, typed_config: {\"@type\": "
                + "type.googleapis.com/envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig, update_frequency: -1}}}}\n"),
                at + ".typed_config.update_frequency: must be greater than 0 (is -1)");
        rejects(route("- match: {prefix: /}\n  route: {cluster: backend, retry_policy: {retry_priority: "
                + "{name: envoy.retry_priorities.previous_priorities, typed_config: {\"@type\": "
                + "type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate}}}}\n"),
                at + ".typed_config: type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate is not a retry priority");
    }

    @Test
    void headerMutationsAndMirrors() {
        RouteConfig.Route r = loadRoute(route("""
                - match: {prefix: /}
                  route:
                    cluster: backend
                    request_mirror_policies:
                    - cluster: backend
                      runtime_fraction: {default_value: {numerator: 500000, denominator: MILLION}}
                      trace_sampled: false
                  request_headers_to_add:
                  - header: {key: X-A, value: "1"}
                    append: false
                  request_headers_to_remove: [x-b]
                """));
        assertEquals(List.of(new HeaderMutations.HeaderValue("x-a", "1", HeaderMutations.Action.OVERWRITE_IF_EXISTS_OR_ADD, false)),
                r.headers().requestToAdd());
        assertEquals(List.of("x-b"), r.headers().requestToRemove());
        assertEquals(List.of(new RouteConfig.MirrorPolicy("backend", new RouteConfig.Fraction(500000, 1000000))),
                ((RouteConfig.Forward) r.action()).mirrors());
    }

    @Test
    void headerMutationRejections() {
        rejects(route("- match: {prefix: /}\n  route: {cluster: backend}\n  request_headers_to_add: [{header: {key: x, value: \"%START_TIME%\"}}]\n"),
                ROUTE0 + ".request_headers_to_add[0].header.value: %START_TIME%: format specifiers in header values are not supported"
                        + " (literal values only)");
        rejects(route("- match: {prefix: /}\n  route: {cluster: backend}\n  request_headers_to_add: [{header: {key: \":path\", value: a}}]\n"),
                ROUTE0 + ".request_headers_to_add[0].header.key: ':-prefixed' or 'host' headers may not be modified");
        rejects(route("- match: {prefix: /}\n  route: {cluster: backend}\n  request_headers_to_add: [{header: {key: x, value: a}, append: true,"
                + " append_action: ADD_IF_ABSENT}]\n"),
                ROUTE0 + ".request_headers_to_add[0]: Both append and append_action are set and it's not allowed");
        rejects(route("- match: {prefix: /}\n  route: {cluster: backend}\n  response_headers_to_remove: [host]\n"),
                ROUTE0 + ".response_headers_to_remove[0]: ':-prefixed' or 'host' headers may not be removed");
        rejects(route("- match: {prefix: /}\n  route: {cluster: backend, retry_policy: {retry_host_predicate: [{name: envoy.retry_host_predicates.omit_canary_hosts}]}}\n"),
                ROUTE0 + ".route.retry_policy.retry_host_predicate[0].name: envoy.retry_host_predicates.omit_canary_hosts is not supported");
        rejects(route("- match: {prefix: /}\n  route: {cluster: backend, request_mirror_policies: [{cluster: nowhere}]}\n"),
                ROUTE0 + ".route.request_mirror_policies[0].cluster: unknown mirror cluster 'nowhere'");
    }

    @Test
    void rejections() {
        rejects(route("- match: {prefix: /}\n  route: {cluster: backend, retry_policy: {retry_on: \"connect-failure,deadline-exceeded\"}}\n"),
                ROUTE0 + ".route.retry_policy.retry_on: deadline-exceeded is not supported (supported: 5xx, cancelled, connect-failure,"
                        + " gateway-error, refused-stream, reset, retriable-status-codes, unavailable)");
        rejects(route("- match: {prefix: /}\n  route: {cluster: backend, retry_policy: {retry_on: reset, per_try_idle_timeout: 1s}}\n"),
                ROUTE0 + ".route.retry_policy.per_try_idle_timeout: field is not supported");
        rejects(route("- match: {prefix: /, grpc: {}}\n  route: {cluster: backend}\n"),
                ROUTE0 + ".match.grpc: field is not supported");
        rejects(route("- match: {path_separated_prefix: /a}\n  route: {cluster: backend}\n"),
                ROUTE0 + ".match.path_separated_prefix: field is not supported");
        rejects(route("- match: {safe_regex: {regex: \"(a\"}}\n  route: {cluster: backend}\n"),
                ROUTE0 + ".match.safe_regex.regex: (a is not a valid RE2 regex: missing closing ): `(a`");
        rejects(route("- match: {safe_regex: {regex: \"(a)\\\\1\"}}\n  route: {cluster: backend}\n"),
                ROUTE0 + ".match.safe_regex.regex: (a)\\1 is not a valid RE2 regex: invalid escape sequence: `\\1`");
        rejects(route("- match: {safe_regex: {regex: \"a(?=b)\"}}\n  route: {cluster: backend}\n"),
                ROUTE0 + ".match.safe_regex.regex: a(?=b) is not a valid RE2 regex: invalid or unsupported Perl syntax: `(?=`");
        // java.util.regex compiles each of these (\Z, a possessive *+, a comment-mode flag), with a meaning RE2 has not
        rejects(route("- match: {safe_regex: {regex: \"/a\\\\Z\"}}\n  route: {cluster: backend}\n"),
                ROUTE0 + ".match.safe_regex.regex: /a\\Z is not a valid RE2 regex: invalid escape sequence: `\\Z`");
        rejects(route("- match: {safe_regex: {regex: \"/a*+\"}}\n  route: {cluster: backend}\n"),
                ROUTE0 + ".match.safe_regex.regex: /a*+ is not a valid RE2 regex: invalid nested repetition operator: `*+`");
        rejects(route("- match: {safe_regex: {regex: \"(?x)/a\"}}\n  route: {cluster: backend}\n"),
                ROUTE0 + ".match.safe_regex.regex: (?x)/a is not a valid RE2 regex: invalid or unsupported Perl syntax: `(?x`");
        // RE2 refuses 10,000 nested copies (RE2/J alone would take it), and \C, which RE2 has and SourceMesh not
        rejects(route("- match: {safe_regex: {regex: \"(a{100}){100}\"}}\n  route: {cluster: backend}\n"),
                ROUTE0 + ".match.safe_regex.regex: (a{100}){100} is not a valid RE2 regex: bad repetition operator: `{100}`");
        rejects(route("- match: {safe_regex: {regex: \"/\\\\C\"}}\n  route: {cluster: backend}\n"),
                ROUTE0 + ".match.safe_regex.regex: /\\C is not a valid RE2 regex: \\C (any one byte) is RE2 syntax that SourceMesh does not implement");
        rejects(route("- match: {prefix: /}\n  direct_response: {status: 99}\n"), ROUTE0 + ".direct_response.status: 99 is not in [200, 600)");
        rejects(route("- match: {prefix: /}\n  direct_response: {status: 200, body: {inline_string: " + "x".repeat(4097) + "}}\n"),
                ROUTE0 + ".direct_response.body: response body size is 4097 bytes; maximum is 4096");
        rejects(hcm("route_config: {virtual_hosts: [{domains: [x]}]}\n"), HCM + ".route_config.virtual_hosts[0].name: is required");
        rejects(route("- match: {prefix: /}\n  redirect: {strip_query: true}\n"), ROUTE0 + ".redirect.strip_query: field is not supported");
        rejects(route("- match: {prefix: /}\n"), ROUTE0 + ": one of route, redirect, direct_response is required");
        rejects(route("- route: {cluster: backend}\n"), ROUTE0 + ".match: is required");
        rejects(route("- match: {prefix: /}\n  route: {weighted_clusters: {clusters: [{name: backend, weight: 0}]}}\n"),
                ROUTE0 + ".route.weighted_clusters: the sum of the weights must be greater than 0");
        rejects(hcm("""
                route_config:
                  virtual_hosts:
                  - {name: a, domains: [x.com]}
                  - {name: b, domains: [X.com]}
                """), HCM + ".route_config.virtual_hosts[1].domains[0]: Only unique values for domains are permitted. Duplicate entry of domain x.com");
        rejects(hcm("route_config: {request_headers_to_add: [{header: {key: a, value: b}}]}\n"),
                HCM + ".route_config.request_headers_to_add: field is not supported");
        rejects(hcm("route_config: {virtual_hosts: [{name: a, domains: [x], retry_policy: {retry_on: 5xx}}]}\n"),
                HCM + ".route_config.virtual_hosts[0].retry_policy: field is not supported");
    }

    /** RouteConfiguration.internal_only_headers: lower-cased for the mutator; a non-token name is refused by its path. */
    @Test
    void internalOnlyHeaders() {
        RouteConfig rc = loadHcm(hcm("""
                route_config:
                  internal_only_headers: [X-Internal-Secret, x-other]
                  virtual_hosts:
                  - name: all
                    domains: ["*"]
                    routes: [{match: {prefix: /}, route: {cluster: backend}}]
                """)).routeConfig();
        assertEquals(List.of("x-internal-secret", "x-other"), rc.internalOnlyHeaders());
        rejects(hcm("""
                route_config:
                  internal_only_headers: ["bad header"]
                  virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: backend}}]}]
                """), HCM + ".route_config.internal_only_headers[0]: \"bad header\" is not an HTTP header name");
    }
}
