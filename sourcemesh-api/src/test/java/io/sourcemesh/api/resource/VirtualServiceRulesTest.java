package io.sourcemesh.api.resource;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Istio's validateSniHost (pkg/config/validation/validation.go): a tls route's sniHosts within the VirtualService's hosts;
 * its validateCORSPolicy: origins, methods, header names, maxAge; and its validateHTTPRetry.
 */
class VirtualServiceRulesTest {
    private static final ObjectMapper YAML = new YAMLMapper();

    private static List<String> errors(String hosts, String sniHosts) throws Exception {
        String doc = """
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: by-sni, namespace: default}
                spec:
                  hosts: %s
                  gateways: [tls-gw]
                  tls:
                  - match: [{port: 443, sniHosts: %s}]
                    route: [{destination: {host: httpbin}}]
                """.formatted(hosts, sniHosts);
        return Validator.validate(YAML.readTree(doc)).stream().map(FieldError::message).toList();
    }

    @Test
    void sniHostsTheHostsCoverAreAccepted() throws Exception {
        assertEquals(List.of(), errors("[a.example.com, b.example.com]", "[a.example.com, b.example.com]"));
        assertEquals(List.of(), errors("['*.example.com']", "[a.example.com, '*.a.example.com', '*.example.com']"));
        assertEquals(List.of(), errors("['*']", "[a.example.com, '*']"));
        assertEquals(List.of(), errors("[a.example.com]", "[10.0.0.1]"), "an IP: Istio only warns, against the SNI spec");
    }

    @Test
    void anSniHostOutsideTheHostsIsRefusedWithIstiosMessage() throws Exception {
        assertEquals(List.of("spec.tls[0].match[0].sniHosts[1]: Invalid value: \"c.example.com\": SNI host \"c.example.com\" is "
                + "not a compatible subset of any of the virtual service hosts: [a.example.com, b.example.com]"),
                errors("[a.example.com, b.example.com]", "[a.example.com, c.example.com]"));
        assertEquals(List.of("spec.tls[0].match[0].sniHosts[0]: Invalid value: \"*.example.com\": SNI host \"*.example.com\" is "
                + "not a compatible subset of any of the virtual service hosts: [a.example.com]"),
                errors("[a.example.com]", "['*.example.com']"), "a wildcard is wider than the one host");
        assertEquals(1, errors("['*.a.example.com']", "['*.example.com']").size());
        assertEquals(1, errors("[a.example.com]", "['*']").size());
    }

    @Test
    void anIpSniHostIsWarnedAboutAtApplyInIstiosWords() throws Exception {
        JsonNode vs = YAML.readTree("""
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: by-sni, namespace: default}
                spec:
                  hosts: [a.example.com]
                  gateways: [tls-gw]
                  tls:
                  - match: [{port: 443, sniHosts: [a.example.com, 10.0.0.1, '2001:db8::1']}]
                    route: [{destination: {host: httpbin}}]
                """);
        assertEquals(List.of(
                "spec.tls[0].match[0].sniHosts[1]: using an IP address (\"10.0.0.1\") goes against SNI spec and most clients "
                        + "do not support this",
                "spec.tls[0].match[0].sniHosts[2]: using an IP address (\"2001:db8::1\") goes against SNI spec and most clients "
                        + "do not support this"),
                io.sourcemesh.api.support.SupportCheck.check(vs).warned());
    }

    private static List<String> corsErrors(String corsPolicy) throws Exception {
        String doc = """
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: web, namespace: default}
                spec:
                  hosts: [web]
                  http:
                  - route: [{destination: {host: web}}]
                    corsPolicy: %s
                """.formatted(corsPolicy);
        return Validator.validate(YAML.readTree(doc)).stream().map(FieldError::message).toList();
    }

    @Test
    void aCorsPolicyIstioAcceptsIsAccepted() throws Exception {
        assertEquals(List.of(), corsErrors("{allowOrigins: [{exact: 'https://a.example'}, {prefix: 'https://b.'}, {regex: '.*'}], "
                + "allowMethods: [GET, POST, '*'], allowHeaders: [content-type, '*'], exposeHeaders: [x-trace], maxAge: 24h, "
                + "allowCredentials: true, unmatchedPreflights: IGNORE}"));
        assertEquals(List.of(), corsErrors("{maxAge: 1s}"));
    }

    @Test
    void aCorsPolicyIstioRefusesIsRefusedInItsWords() throws Exception {
        String at = "spec.http[0].corsPolicy";
        assertEquals(List.of(at + ".allowOrigins[1]: Invalid value: \"\": '' is not a valid match type for CORS allow origins"),
                corsErrors("{allowOrigins: [{exact: 'https://a.example'}, {prefix: ''}]}"));
        assertEquals(List.of(at + ".allowMethods[1]: Invalid value: \"get\": \"get\" is not a supported HTTP method",
                at + ".allowMethods[2]: Invalid value: \"PURGE\": \"PURGE\" is not a supported HTTP method"),
                corsErrors("{allowMethods: [GET, get, PURGE]}"), "Go's method names, case and all");
        assertEquals(List.of(at + ".allowHeaders[0]: Invalid value: \"x a\": header name x a is not a valid header name",
                at + ".exposeHeaders[0]: Invalid value: \"\": header name cannot be empty"),
                corsErrors("{allowHeaders: ['x a'], exposeHeaders: ['']}"));
        assertEquals(List.of(at + ".maxAge: Invalid value: \"1.5s\": max_age duration is accurate only to seconds precision"),
                corsErrors("{maxAge: 1.5s}"));
        assertEquals(List.of(at + ".maxAge: Invalid value: \"0s\": duration must be greater than 1ms"), corsErrors("{maxAge: 0s}"));
        assertEquals(List.of(at + ".maxAge: Invalid value: \"500us\": duration must be greater than 1ms",
                at + ".maxAge: Invalid value: \"500us\": max_age duration is accurate only to seconds precision"),
                corsErrors("{maxAge: 500us}"));
        assertEquals(List.of(at + ".maxAge: Invalid value: \"soon\": not a duration (such as 2s, 0.5s or 250ms)"),
                corsErrors("{maxAge: soon}"));
    }

    private static List<String> retryErrors(String retries) throws Exception {
        String doc = """
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: r, namespace: default}
                spec:
                  hosts: [httpbin]
                  http:
                  - route: [{destination: {host: httpbin}}]
                    retries: %s
                """.formatted(retries);
        return Validator.validate(YAML.readTree(doc)).stream().map(FieldError::message).toList();
    }

    /** Istio's validateHTTPRetry, perTryTimeout by pkg/config/validation/agent's ValidateDuration. */
    @Test
    void perTryTimeoutsOfWholeMillisecondsFromOneAreAccepted() throws Exception {
        for (String ok : List.of("2s", "0.5s", "1ms", "250ms", "1m", "0.001s")) {
            assertEquals(List.of(), retryErrors("{attempts: 2, perTryTimeout: " + ok + "}"), ok);
        }
        assertEquals(List.of(), retryErrors("{attempts: 0}"), "attempts 0 alone turns retries off");
    }

    @Test
    void aPerTryTimeoutUnderOneMillisecondOrFinerIsRefusedWithIstiosMessage() throws Exception {
        String at = "spec.http[0].retries.perTryTimeout: Invalid value: ";
        assertEquals(List.of(at + "\"0.5ms\": duration must be greater than 1ms"), retryErrors("{attempts: 2, perTryTimeout: 0.5ms}"));
        assertEquals(List.of(at + "\"0s\": duration must be greater than 1ms"), retryErrors("{attempts: 2, perTryTimeout: 0s}"));
        assertEquals(List.of(at + "\"1500us\": only durations to ms precision are supported"),
                retryErrors("{attempts: 2, perTryTimeout: 1500us}"));
        assertEquals(List.of(at + "\"soon\": not a duration (such as 2s, 0.5s or 250ms)"), retryErrors("{attempts: 2, perTryTimeout: soon}"));
    }

    @Test
    void retriesConfiguredWithAttemptsZeroOrNegativeAreRefused() throws Exception {
        assertEquals(List.of("spec.http[0].retries: Invalid value: http retry policy configured when attempts are set to 0 (disabled)"),
                retryErrors("{perTryTimeout: 2s}"), "no attempts: 0, so the perTryTimeout would go unused");
        assertEquals(List.of("spec.http[0].retries: Invalid value: http retry policy configured when attempts are set to 0 (disabled)"),
                retryErrors("{attempts: 0, retryOn: 5xx}"));
        assertEquals(List.of("spec.http[0].retries.attempts: Invalid value: attempts cannot be negative"),
                retryErrors("{attempts: -1}"));
    }

    private static List<String> httpErrors(String spec) throws Exception {
        return Validator.validate(YAML.readTree("""
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: routes, namespace: default}
                spec:
                %s""".formatted(spec.indent(2)))).stream().map(FieldError::message).toList();
    }

    /** Istio's validateHTTPRewrite and validateURIRegexRewrite, in its words; the match is RE2 as Go's regexp. */
    @Test
    void uriRegexRewriteAsIstioValidatesIt() throws Exception {
        String route = "hosts: [a]\nhttp:\n- route: [{destination: {host: a}}]\n  rewrite: ";
        assertEquals(List.of(), httpErrors(route + "{uriRegexRewrite: {match: '^/v1/(.*)', rewrite: '/v2/\\1'}}"));
        assertEquals(List.of("spec.http[0].rewrite: Invalid value: rewrite may only contain one of URI or UriRegexRewrite"),
                httpErrors(route + "{uri: /x, uriRegexRewrite: {match: a, rewrite: b}}"));
        assertEquals(List.of("spec.http[0].rewrite.uriRegexRewrite: Invalid value: UriRegexRewrite has errors\nUriRegexRewrite "
                + "requires both Rewrite and Match fields to be specified"), httpErrors(route + "{uriRegexRewrite: {match: a}}"));
        assertEquals(List.of("spec.http[0].rewrite: Invalid value: rewrite must specify at least one of URI, UriRegexRewrite, or "
                + "authority. Only one of URI or UriRegexRewrite may be specified"), httpErrors(route + "{}"));
        List<String> bad = httpErrors(route + "{uriRegexRewrite: {match: '(a', rewrite: b}}");
        assertEquals(1, bad.size(), bad.toString());
        assertEquals(true, bad.get(0).startsWith("spec.http[0].rewrite.uriRegexRewrite.match: Invalid value: \"(a\": "), bad.get(0));
    }

    @Test
    void aRewriteNamingAGroupTheMatchLacksIsWarned() throws Exception {
        JsonNode vs = YAML.readTree("""
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: routes, namespace: default}
                spec:
                  hosts: [a]
                  http:
                  - route: [{destination: {host: a}}]
                    rewrite: {uriRegexRewrite: {match: '^/v1/(.*)', rewrite: '/v2/\\2'}}
                """);
        assertEquals(List.of("spec.http[0].rewrite.uriRegexRewrite.rewrite: \\2 names a group the match has not; the path is "
                + "left as it came (Envoy's RE2 GlobalReplace replaces nothing)"), VirtualServiceRules.warnings(vs));
    }

    /** Istio's delegate rules (ValidateVirtualService, validateHTTPRouteConflict), in its words. */
    @Test
    void delegatesAsIstioValidatesThem() throws Exception {
        assertEquals(List.of(), httpErrors("hosts: [a]\nhttp:\n- match: [{uri: {prefix: /a}}]\n  delegate: {name: d, namespace: x}"));
        assertEquals(List.of(), httpErrors("http:\n- route: [{destination: {host: a}}]"), "no hosts: a delegate");
        assertEquals(List.of("spec.gateways: Invalid value: delegate virtual service must have no gateways specified",
                "spec.tcp: Invalid value: delegate virtual service must have no tcp route specified"),
                httpErrors("gateways: [gw]\ntcp:\n- route: [{destination: {host: a}}]"));
        assertEquals(List.of("spec.http[0].delegate: Invalid value: delegate HTTP route cannot contain delegate"),
                httpErrors("http:\n- delegate: {name: d}"));
        assertEquals(List.of("spec.http[0].route: Invalid value: root HTTP route r must not specify route"),
                httpErrors("hosts: [a]\nhttp:\n- name: r\n  delegate: {name: d}\n  route: [{destination: {host: a}}]"));
        assertEquals(List.of("spec.http[0].redirect: Invalid value: root HTTP route  must not specify redirect"),
                httpErrors("hosts: [a]\nhttp:\n- delegate: {name: d}\n  redirect: {uri: /x}"));
    }
}
