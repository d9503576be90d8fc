package io.sourcemesh.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.RawSocket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Route matching as Envoy's: header matchers through HeaderUtility::matchHeaders (the one RBAC uses),
 * query parameters through ConfigUtility::QueryParameterMatcher, paths through a StringMatcher of the
 * path without its query. Each route answers its own name, the last ("fallback") anything.
 */
class RouteMatchEndToEndTest {
    private Proxy proxy;

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
    }

    /** {@code routes}: YAML route entries before the catch-all "fallback". */
    private void start(String routes) {
        String yaml = """
                static_resources:
                  listeners:
                  - name: http
                    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
                    filter_chains:
                    - filters:
                      - name: envoy.filters.network.http_connection_manager
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                          stat_prefix: http
                          http_filters:
                          - name: envoy.filters.http.router
                            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                          route_config:
                            virtual_hosts:
                            - name: all
                              domains: ["*"]
                              routes:
                """ + (routes + route("fallback", "{prefix: /}")).indent(14);
        proxy = Proxy.start(BootstrapLoader.loadText(yaml), 1);
    }

    /** The route a request with this target and extra header lines (sent as UTF-8 bytes) chose. */
    private String routeOf(String target, String... headerLines) throws Exception {
        StringBuilder head = new StringBuilder("GET " + target + " HTTP/1.1\r\nHost: x\r\n");
        for (String line : headerLines) {
            head.append(line).append("\r\n");
        }
        head.append("Connection: close\r\n\r\n");
        try (RawSocket s = RawSocket.connect(proxy.listenerAddress("http").getPort())) {
            String reply = s.send(head.toString().getBytes(StandardCharsets.UTF_8)).readUntilClose(10_000).text();
            return reply.substring(reply.indexOf("\r\n\r\n") + 4);
        }
    }

    private static String route(String name, String match) {
        return "- match: " + match + "\n  direct_response: {status: 200, body: {inline_string: " + name + "}}\n";
    }

    /** Envoy's exact header matcher with an empty value matches any value of a present header. */
    @Test
    void anEmptyExactMatchIsAnyValueOfAPresentHeader() throws Exception {
        start(route("tenant", "{prefix: /, headers: [{name: x-tenant, exact_match: \"\"}]}"));
        assertEquals("tenant", routeOf("/", "X-Tenant: acme"));
        assertEquals("tenant", routeOf("/", "X-Tenant: "));
        assertEquals("fallback", routeOf("/"));
    }

    /** An absent header fails a value matcher whether inverted or not; only presence checks invert on absence. */
    @Test
    void anInvertedValueMatcherNeedsThePresentHeader() throws Exception {
        start(route("not-beta", "{prefix: /, headers: [{name: x-channel, string_match: {exact: beta}, invert_match: true}]}")
                + route("no-debug", "{prefix: /, headers: [{name: x-debug, present_match: true, invert_match: true}]}"));
        assertEquals("not-beta", routeOf("/", "X-Channel: stable", "X-Debug: 1"));
        assertEquals("fallback", routeOf("/", "X-Channel: beta", "X-Debug: 1"));
        assertEquals("fallback", routeOf("/", "X-Debug: 1"), "absent: the inverted value matcher fails");
        assertEquals("no-debug", routeOf("/"), "absent: the inverted presence check holds");
    }

    @Test
    void treatMissingHeaderAsEmptyAndIgnoreCase() throws Exception {
        start(route("empty-or-missing", "{prefix: /, headers: [{name: x-a, string_match: {exact: \"\"}, "
                        + "treat_missing_header_as_empty: true}]}")
                + route("user", "{prefix: /, headers: [{name: x-user, string_match: {exact: \"JOSÉ\", ignore_case: true}}]}"));
        assertEquals("empty-or-missing", routeOf("/"));
        assertEquals("empty-or-missing", routeOf("/", "X-A: "));
        assertEquals("user", routeOf("/", "X-A: 1", "X-User: josÉ"), "the UTF-8 bytes, ASCII letters folded");
        assertEquals("fallback", routeOf("/", "X-A: 1", "X-User: josé"), "É and é differ in a non-ASCII byte");
    }

    /** Header values are bytes: the configured string's UTF-8 matches them, a regex reads them as RE2 does. */
    @Test
    void headerValuesAreComparedAsUtf8BytesAndRegexesAsRe2() throws Exception {
        start(route("cafe", "{prefix: /, headers: [{name: x-shop, string_match: {exact: \"café\"}}]}")
                + route("dot", "{prefix: /, headers: [{name: x-team, safe_regex_match: {regex: \"caf.\"}}]}"));
        assertEquals("cafe", routeOf("/", "X-Shop: café"));
        assertEquals("dot", routeOf("/", "X-Team: café"), "RE2's '.' is one UTF-8 character");
        assertEquals("dot", routeOf("/", "X-Team: caf\u0085"), "RE2's '.' is any character but a newline");
        assertEquals("fallback", routeOf("/", "X-Team: cafe!"));
    }

    /** range_match: the value read as absl's SimpleAtoi reads an int64 (a sign, decimal digits), in [start, end). */
    @Test
    void aRangeMatchReadsTheValueAsAnInt64() throws Exception {
        start(route("range", "{prefix: /, headers: [{name: x-n, range_match: {start: -10, end: 10}}]}")
                + route("inverted", "{prefix: /, headers: [{name: x-m, range_match: {start: 0, end: 1}, invert_match: true}]}"));
        assertEquals("range", routeOf("/", "X-N: 9"));
        assertEquals("range", routeOf("/", "X-N: -10"));
        assertEquals("range", routeOf("/", "X-N: +3"));
        assertEquals("fallback", routeOf("/", "X-N: 10"), "the end is excluded");
        assertEquals("fallback", routeOf("/", "X-N: 3.0"));
        assertEquals("fallback", routeOf("/", "X-N: 0x3"));
        assertEquals("fallback", routeOf("/", "X-N: 99999999999999999999"), "an int64 overflow is no number");
        assertEquals("fallback", routeOf("/", "X-N: 1", "X-N: 2"), "\"1,2\" is no number");
        assertEquals("inverted", routeOf("/", "X-M: 1"));
        assertEquals("fallback", routeOf("/", "X-M: 0"));
        assertEquals("fallback", routeOf("/"), "absent: an inverted range fails too");
    }

    /** Multiple values of a header are matched joined with ",". */
    @Test
    void repeatedHeadersAreJoinedWithACommaBeforeMatching() throws Exception {
        start(route("both", "{prefix: /, headers: [{name: x-v, string_match: {exact: \"a,b\"}}]}"));
        assertEquals("both", routeOf("/", "X-V: a", "X-V: b"));
        assertEquals("fallback", routeOf("/", "X-V: a"));
    }

    @Test
    void queryParameterStringMatchersTakeIgnoreCase() throws Exception {
        start(route("v2", "{prefix: /, query_parameters: [{name: v, string_match: {exact: Beta, ignore_case: true}}]}")
                + route("debug", "{prefix: /, query_parameters: [{name: debug, present_match: true}]}"));
        assertEquals("v2", routeOf("/p?v=BETA"));
        assertEquals("fallback", routeOf("/p?v=betas"));
        assertEquals("debug", routeOf("/p?debug"), "a parameter without '=' is present with the empty value");
        assertEquals("fallback", routeOf("/p?debugger=1"));
    }

    /**
     * present_match: false matches a request without the parameter, as Envoy has since 1.34
     * (enable_new_query_param_present_match_behavior, on by default); it used to be a presence check too.
     */
    @Test
    void queryParameterPresentMatchFalseIsAbsence() throws Exception {
        start(route("no-debug", "{prefix: /, query_parameters: [{name: debug, present_match: false}]}"));
        assertEquals("no-debug", routeOf("/p"));
        assertEquals("no-debug", routeOf("/p?x=1&debugger"));
        assertEquals("fallback", routeOf("/p?debug"));
        assertEquals("fallback", routeOf("/p?x=1&debug=0"));
    }

    /**
     * case_sensitive: false folds ASCII letters only (absl's StartsWithIgnoreCase, EqualsIgnoreCase): a
     * configured 'ſ' (U+017F) or Kelvin sign is not 's' or 'k', though Java's case-insensitive compare says so.
     */
    @Test
    void caseInsensitivePathsFoldAsciiOnly() throws Exception {
        start(route("prefix", "{prefix: \"/ſecret\", case_sensitive: false}")
                + route("path", "{path: \"/\u212Aey\", case_sensitive: false}")
                + route("ascii", "{prefix: \"/API\", case_sensitive: false}"));
        assertEquals("fallback", routeOf("/secret"));
        assertEquals("fallback", routeOf("/SECRET"));
        assertEquals("fallback", routeOf("/key"));
        assertEquals("ascii", routeOf("/api/x?y=1"));
    }

    /** A path regex is RE2's over the path without the query: (?i) folds Unicode letters, so 'ſ' matches 's'. */
    @Test
    void aPathRegexIsRe2OverThePathWithoutTheQuery() throws Exception {
        start(route("regex", "{safe_regex: {regex: \"/(?i)ſecret/[0-9]+\"}}"));
        assertEquals("regex", routeOf("/secret/12"));
        assertEquals("regex", routeOf("/SECRET/12?x=1"), "the query is not part of the matched path");
        assertEquals("fallback", routeOf("/secret/12x"));
    }

    /**
     * A path regex runs in time linear in the path, as RE2 runs it in Envoy: with a backtracking engine this one takes
     * about 2^n steps for n a's that end without the b (an hour's event loop for 40), and every connection on that loop
     * would wait. Here the request is answered at once, and so is the next one.
     */
    @Test
    void aPathRegexCannotHoldTheEventLoop() throws Exception {
        start(route("nested", "{safe_regex: {regex: \"/(a+)+b\"}}"));
        assertEquals("fallback", routeOf("/" + "a".repeat(64) + "c"));
        assertEquals("nested", routeOf("/aaab"));
    }

    /** The class syntax is RE2's: [[:digit:]] is a POSIX class and && a literal pair, not java.util.regex's union and intersection. */
    @Test
    void aRegexClassIsReadAsRe2ReadsIt() throws Exception {
        start(route("digits", "{safe_regex: {regex: \"/v[[:digit:]]+\"}}")
                + route("amp", "{prefix: /, headers: [{name: x-q, safe_regex_match: {regex: \"[a-c&&]+\"}}]}"));
        assertEquals("digits", routeOf("/v12"));
        assertEquals("fallback", routeOf("/v:dig"), "java.util.regex would read [[:digit:]] as the set of ':digt'");
        assertEquals("amp", routeOf("/", "X-Q: a&&b"), "'&' is a member of the class, not an intersection");
    }
}
