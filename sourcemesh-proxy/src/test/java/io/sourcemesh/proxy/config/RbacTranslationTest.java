package io.sourcemesh.proxy.config;

import static io.sourcemesh.proxy.config.Bootstraps.HCM;
import static io.sourcemesh.proxy.config.Bootstraps.hcm;
import static io.sourcemesh.proxy.config.Bootstraps.loadHcm;
import static io.sourcemesh.proxy.config.Bootstraps.rejects;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.sourcemesh.proxy.rbac.Permission;
import io.sourcemesh.proxy.rbac.Principal;
import io.sourcemesh.proxy.rbac.RbacConfig;
import io.sourcemesh.proxy.rbac.Rules;
import java.util.List;
import org.junit.jupiter.api.Test;

/** envoy.filters.http.rbac from YAML: what is translated, and what is refused by its path. */
class RbacTranslationTest {
    private static final String RBAC_TYPE = "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC";
    private static final String F = HCM + ".http_filters[0].typed_config";

    /** An HCM whose first HTTP filter is RBAC with {@code body} as its typed_config fields. */
    static String rbac(String body) {
        return hcm("http_filters:\n- name: envoy.filters.http.rbac\n  typed_config:\n    \"@type\": " + RBAC_TYPE + "\n"
                + body.indent(4) + "- name: envoy.filters.http.router\n");
    }

    static String policy(String permission, String principal) {
        return "rules:\n  action: ALLOW\n  policies:\n    p:\n      permissions: [" + permission + "]\n      principals: ["
                + principal + "]\n";
    }

    private static RbacConfig load(String yaml) {
        HttpConnectionManagerConfig h = loadHcm(yaml);
        assertEquals(2, h.httpFilters().size());
        return ((HttpFilterConfig.Rbac) h.httpFilters().get(0)).rbac();
    }

    @Test
    void translatesEveryKind() {
        RbacConfig c = load(rbac("""
                rules_stat_prefix: r_
                shadow_rules_stat_prefix: s_
                rules:
                  action: DENY
                  policies:
                    b:
                      permissions:
                      - and_rules: {rules: [{destination_port: 80}, {destination_port_range: {start: 80, end: 90}}]}
                      - or_rules: {rules: [{destination_ip: {address_prefix: 10.0.0.0, prefix_len: 8}}, {requested_server_name: {exact: a}}]}
                      - not_rule: {url_path: {path: {safe_regex: {regex: "/v[0-9]+"}}}}
                      - header: {name: X-Up, present_match: true}
                      principals:
                      - and_ids: {ids: [{direct_remote_ip: {address_prefix: 127.0.0.1}}, {source_ip: {address_prefix: "::1", prefix_len: 128}}]}
                      - or_ids: {ids: [{remote_ip: {address_prefix: 127.0.0.1, prefix_len: 32}}, {any: true}]}
                      - not_id: {header: {name: x, string_match: {prefix: a, ignore_case: true}}}
                      - url_path: {path: {exact: /a}}
                    a:
                      permissions: [{any: true}]
                      principals: [{any: true}]
                shadow_rules: {action: LOG}
                """));
        Rules rules = c.rules().orElseThrow();
        assertEquals(Rules.Action.DENY, rules.action());
        assertEquals(List.of("a", "b"), List.copyOf(rules.policies().keySet()), "sorted by name");
        var b = rules.policies().get("b");
        assertInstanceOf(Permission.And.class, b.permissions().get(0));
        assertInstanceOf(Permission.Not.class, b.permissions().get(2));
        assertEquals("x-up", ((Permission.Header) b.permissions().get(3)).header().name(), "header names are lower case");
        assertInstanceOf(Principal.Not.class, b.principals().get(2));
        assertEquals(Rules.Action.LOG, c.shadowRules().orElseThrow().action());
        assertEquals("r_", c.rulesStatPrefix());
        assertEquals("s_", c.shadowRulesStatPrefix());
    }

    @Test
    void authenticatedIsTheClientCertificatesPrincipal() {
        io.sourcemesh.proxy.rbac.Policy p = load(rbac(policy("{any: true}", "{authenticated: {principal_name: {exact: spiffe://x}}}"))).rules().orElseThrow()
                .policies().get("p");
        assertEquals(new Principal.Authenticated(java.util.Optional.of(
                io.sourcemesh.proxy.matcher.StringMatch.of(io.sourcemesh.proxy.matcher.StringMatch.Kind.EXACT, "spiffe://x", false))),
                p.principals().get(0));
        io.sourcemesh.proxy.rbac.Policy any = load(rbac(policy("{any: true}", "{and_ids: {ids: [{any: true}, {authenticated: {}}]}}"))).rules().orElseThrow()
                .policies().get("p");
        Principal.And and = (Principal.And) any.principals().get(0);
        assertEquals(new Principal.Authenticated(java.util.Optional.empty()), and.ids().get(1));
    }

    @Test
    void istiosRequestPrincipalIsAMetadataPrincipalOnTheJwtPayload() {
        RbacConfig c = load(rbac(policy("{any: true}", """
                {metadata: {filter: envoy.filters.http.jwt_authn, path: [{key: payload}, {key: groups}],
                  value: {or_match: {value_matchers: [{list_match: {one_of: {string_match: {exact: a}}}}, {string_match: {exact: a}}]}},
                  invert: true}}""")));
        Principal.Metadata m = assertInstanceOf(Principal.Metadata.class, c.rules().orElseThrow().policies().get("p").principals().get(0));
        assertEquals("envoy.filters.http.jwt_authn", m.match().filter());
        assertEquals(List.of("payload", "groups"), m.match().path());
        assertEquals(true, m.match().invert());
        assertInstanceOf(io.sourcemesh.proxy.rbac.MetadataMatch.OrValue.class, m.match().value());
    }

    @Test
    void refusesWhatItCannotEvaluateByPath() {
        String p = F + ".rules.policies.p";
        rejects(rbac(policy("{metadata: {filter: f, path: [{key: k}], value: {present_match: true}}}", "{any: true}")),
                p + ".permissions[0].metadata: field is not supported");
        rejects(rbac(policy("{any: true}", "{metadata: {filter: istio_authn, path: [{key: k}], value: {present_match: true}}}")),
                p + ".principals[0].metadata.filter: \"istio_authn\" is not supported: only envoy.filters.http.jwt_authn's"
                        + " dynamic metadata is set by this proxy");
        String jwt = "{metadata: {filter: envoy.filters.http.jwt_authn, path: [{key: payload}], value: VALUE}}";
        rejects(rbac(policy("{any: true}", jwt.replace("VALUE", "{double_match: {exact: 1}}"))),
                p + ".principals[0].metadata.value.double_match: field is not supported");
        rejects(rbac(policy("{any: true}", jwt.replace("VALUE", "{list_match: {}}"))),
                p + ".principals[0].metadata.value.list_match.one_of: is required");
        rejects(rbac(policy("{any: true}", jwt.replace("VALUE", "{or_match: {value_matchers: [{present_match: true}]}}"))),
                p + ".principals[0].metadata.value.or_match.value_matchers: at least 2 value matchers are required");
        rejects(rbac(policy("{any: true}", jwt.replace("VALUE", "{string_match: {exact: a}}").replace("[{key: payload}]", "[]"))),
                p + ".principals[0].metadata.path: at least one path segment is required");
        rejects(rbac(policy("{any: true}", "{filter_state: {key: k, string_match: {exact: v}}}")),
                p + ".principals[0].filter_state: field is not supported");
        rejects(rbac(policy("{any: false}", "{any: true}")), p + ".permissions[0].any: must be true");
        rejects(rbac(policy("{url_path: {path: {safe_regex: {regex: \"/a\"}, ignore_case: true}}}", "{any: true}")),
                p + ".permissions[0].url_path.path.ignore_case: has no effect for safe_regex");
        rejects(rbac(policy("{url_path: {path: {prefix: \"\"}}}", "{any: true}")),
                p + ".permissions[0].url_path.path.prefix: must not be empty");
        rejects(rbac(policy("{url_path: {path: {safe_regex: {regex: \"(a)\\\\1\"}}}}", "{any: true}")),
                p + ".permissions[0].url_path.path.safe_regex.regex: (a)\\1 is not a valid RE2 regex: invalid escape sequence: `\\1`");
        rejects(rbac("rules:\n  action: ALLOW\n  policies:\n    p:\n      permissions: [{any: true}]\n"),
                p + ".principals: at least one principal is required");
        rejects(rbac(policy("{any: true}", "{any: true}") + "  audit_logging_options: {audit_condition: ON_DENY}\n"),
                F + ".rules.audit_logging_options: field is not supported");
        rejects(rbac("matcher: {}\n"), F + ".matcher: field is not supported");
        rejects(rbac(policy("{any: true}", "{any: true}")
                + "      condition: {id: 1}\n"), p + ".condition: field is not supported");
        rejects(hcm("http_filters:\n- name: envoy.filters.http.rbac\n  typed_config: {\"@type\": " + RBAC_TYPE + "}\n"),
                HCM + ".http_filters[0]: envoy.filters.http.router is required as the last HTTP filter");
    }

    /** Envoy's HeaderMatcher: an empty exact_match matches any value of a present header, as a presence check would. */
    @Test
    void emptyExactMatchIsAnyValue() {
        RbacConfig c = load(rbac(policy("{header: {name: x, exact_match: \"\"}}", "{any: true}")));
        var header = ((Permission.Header) c.rules().orElseThrow().policies().get("p").permissions().get(0)).header();
        assertEquals(true, header.matches(java.util.Optional.of("1")));
        assertEquals(true, header.matches(java.util.Optional.of("")));
        assertEquals(false, header.matches(java.util.Optional.empty()), "an absent header is not a value");
        var inverted = ((Permission.Header) load(rbac(policy("{header: {name: x, exact_match: \"\", invert_match: true}}",
                "{any: true}"))).rules().orElseThrow().policies().get("p").permissions().get(0)).header();
        assertEquals(false, inverted.matches(java.util.Optional.of("1")));
        var missingAsEmpty = ((Permission.Header) load(rbac(policy(
                "{header: {name: x, exact_match: \"\", treat_missing_header_as_empty: true}}", "{any: true}")))
                .rules().orElseThrow().policies().get("p").permissions().get(0)).header();
        assertEquals(true, missingAsEmpty.matches(java.util.Optional.empty()));
    }

    /** range_match is Envoy's HeaderUtility's, as in routes: the value as an int64 in [start, end). */
    @Test
    void rangeMatchIsTaken() {
        RbacConfig c = load(rbac(policy("{header: {name: x, range_match: {start: 1, end: 3}}}", "{any: true}")));
        var header = ((Permission.Header) c.rules().orElseThrow().policies().get("p").permissions().get(0)).header();
        assertEquals(true, header.matches(java.util.Optional.of("2")));
        assertEquals(false, header.matches(java.util.Optional.of("3")));
        assertEquals(false, header.matches(java.util.Optional.of("two")));
    }

    /** Envoy's proto validation: the deprecated prefix, suffix and contains header matchers need a character (min_len 1). */
    @Test
    void emptyDeprecatedHeaderMatchersAreRefused() {
        String p = F + ".rules.policies.p.permissions[0].header";
        for (String kind : List.of("prefix_match", "suffix_match", "contains_match")) {
            rejects(rbac(policy("{header: {name: x, " + kind + ": \"\"}}", "{any: true}")), p + "." + kind + ": must not be empty");
        }
    }

    /** Envoy's PortRangeMatcher: "range start cannot be greater or equal than range end" — an empty range is refused. */
    @Test
    void anEmptyPortRangeIsRefused() {
        rejects(rbac(policy("{destination_port_range: {start: 80, end: 80}}", "{any: true}")),
                F + ".rules.policies.p.permissions[0].destination_port_range: [80, 80) is not a port range");
        load(rbac(policy("{destination_port_range: {start: 80, end: 81}}", "{any: true}")));
    }

    /** Envoy keeps an IPv4-mapped prefix IPv6, so a short prefix_len is an IPv6 prefix, not an IPv4 range. */
    @Test
    void anIpv4MappedPrefixStaysIpv6() {
        var range = ((Principal.RemoteIp) load(rbac(policy("{any: true}", "{remote_ip: {address_prefix: \"::ffff:6.6.6.6\", prefix_len: 32}}")))
                .rules().orElseThrow().policies().get("p").principals().get(0)).range();
        assertInstanceOf(java.net.Inet6Address.class, range.address());
        assertEquals(32, range.prefixLength());
        assertEquals(false, range.contains(io.sourcemesh.proxy.address.CidrRange.literal("6.6.6.6")));
    }

    /** Envoy's HeaderMatcher name validation (HTTP_HEADER_NAME, strict: false) refuses \r, \n and NUL. */
    @Test
    void aHeaderNameWithALineBreakOrNulIsRefused() {
        for (String bad : List.of("x\\ny", "x\\ry", "x\\0y")) {
            rejects(rbac(policy("{header: {name: \"" + bad + "\", present_match: true}}", "{any: true}")),
                    F + ".rules.policies.p.permissions[0].header.name: must not contain CR, LF or NUL");
        }
        load(rbac(policy("{header: {name: \"x y\", present_match: true}}", "{any: true}")));
    }

    /** Envoy's CidrRange clamps an IPv4 prefix_len above 32 to 32 (truncateIpAddressAndLength); the proto allows up to 128. */
    @Test
    void anIpv4PrefixLongerThan32IsAHostRange() {
        var range = ((Principal.RemoteIp) load(rbac(policy("{any: true}", "{remote_ip: {address_prefix: 10.0.0.1, prefix_len: 64}}")))
                .rules().orElseThrow().policies().get("p").principals().get(0)).range();
        assertEquals(io.sourcemesh.proxy.address.CidrRange.parse("10.0.0.1/32"), range);
        rejects(rbac(policy("{any: true}", "{remote_ip: {address_prefix: 10.0.0.1, prefix_len: 129}}")),
                F + ".rules.policies.p.principals[0].remote_ip.prefix_len: 129 is out of range (at most 128)");
    }

    /** Per-route RBAC (RBACPerRoute) is not implemented: refused where it is written, never ignored. */
    @Test
    void perRouteConfigIsRefused() {
        ConfigException e = org.junit.jupiter.api.Assertions.assertThrows(ConfigException.class, () -> Bootstraps.load(Bootstraps.route("""
                - match: {prefix: /}
                  route: {cluster: backend}
                  typed_per_filter_config:
                    envoy.filters.http.rbac:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBACPerRoute
                """)));
        String expected = HCM + ".route_config.virtual_hosts[0].routes[0].typed_per_filter_config[envoy.filters.http.rbac]: "
                + "type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBACPerRoute is not supported";
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().startsWith(expected), e.getMessage());
    }
}
