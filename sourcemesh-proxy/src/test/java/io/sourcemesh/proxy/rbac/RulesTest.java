package io.sourcemesh.proxy.rbac;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.proxy.address.CidrRange;
import io.sourcemesh.proxy.matcher.HeaderMatch;
import io.sourcemesh.proxy.matcher.Re2;
import io.sourcemesh.proxy.matcher.StringMatch;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The engine, kind by kind (ported from Envoy's {@code test/extensions/filters/common/rbac/matchers_test.cc}
 * and {@code engine_impl_test.cc} cases: AllowedAllowlist, DeniedDenylist, LogIfMatched, the header,
 * IP, port and path matchers).
 */
class RulesTest {
    private static final Principal ANYONE = new Principal.Any();
    private static final Permission ANYTHING = new Permission.Any();

    private static Rules rules(Rules.Action action, Map<String, Policy> policies) {
        return new Rules(action, new TreeMap<>(policies));
    }

    private static boolean permits(Permission p, RbacRequest r) {
        return p.matches(r);
    }

    private static HeaderMatch header(String name, StringMatch m) {
        return new HeaderMatch(name, Optional.of(m), true, false, false);
    }

    private static StringMatch exact(String v) {
        return StringMatch.of(StringMatch.Kind.EXACT, v, false);
    }

    @Test
    void allowAllowsOnlyWhatMatchesAndNamesThePolicy() {
        Rules r = rules(Rules.Action.ALLOW, Map.of("get-only", new Policy(
                List.of(new Permission.Header(header(":method", exact("GET")))), List.of(ANYONE))));
        Decision get = r.evaluate(TestRequest.http("/", Map.of(":method", "GET")));
        assertTrue(get.allowed());
        assertEquals(Optional.of("get-only"), get.policy());
        Decision post = r.evaluate(TestRequest.http("/", Map.of(":method", "POST")));
        assertFalse(post.allowed());
        assertEquals("none", post.policyOrNone());
    }

    @Test
    void denyDeniesOnlyWhatMatches() {
        Rules r = rules(Rules.Action.DENY, Map.of("no-admin", new Policy(
                List.of(new Permission.UrlPath(StringMatch.of(StringMatch.Kind.PREFIX, "/admin", false))), List.of(ANYONE))));
        assertFalse(r.evaluate(TestRequest.http("/admin/x", Map.of())).allowed());
        assertEquals("no-admin", r.evaluate(TestRequest.http("/admin/x", Map.of())).policyOrNone());
        assertTrue(r.evaluate(TestRequest.http("/public", Map.of())).allowed());
    }

    @Test
    void emptyPolicyMapsFollowTheAction() {
        assertFalse(rules(Rules.Action.ALLOW, Map.of()).evaluate(TestRequest.http("/", Map.of())).allowed());
        assertTrue(rules(Rules.Action.DENY, Map.of()).evaluate(TestRequest.http("/", Map.of())).allowed());
    }

    @Test
    void logNeverDeniesButReportsTheMatch() {
        Rules r = rules(Rules.Action.LOG, Map.of("all", new Policy(List.of(ANYTHING), List.of(ANYONE))));
        Decision d = r.evaluate(TestRequest.http("/", Map.of()));
        assertTrue(d.allowed());
        assertEquals(Optional.of("all"), d.policy());
    }

    @Test
    void policiesAreTriedInSortedNameOrder() {
        Policy any = new Policy(List.of(ANYTHING), List.of(ANYONE));
        Rules r = rules(Rules.Action.DENY, Map.of("zeta", any, "alpha", any, "Mid", any));
        // std::map order is byte order: upper case before lower case
        assertEquals("Mid", r.evaluate(TestRequest.http("/", Map.of())).policyOrNone());
    }

    @Test
    void aPolicyNeedsOnePermissionAndOnePrincipal() {
        Policy p = new Policy(List.of(new Permission.DestinationPort(8080), new Permission.DestinationPort(9090)),
                List.of(new Principal.RemoteIp(CidrRange.of("192.168.0.0", 16)), new Principal.RemoteIp(CidrRange.of("10.0.0.0", 8))));
        assertTrue(p.matches(TestRequest.http("/", Map.of())));
        Policy wrongPrincipal = new Policy(p.permissions(), List.of(new Principal.RemoteIp(CidrRange.of("192.168.0.0", 16))));
        assertFalse(wrongPrincipal.matches(TestRequest.http("/", Map.of())));
    }

    @Test
    void andOrNot() {
        RbacRequest r = TestRequest.http("/a", Map.of("x", "1"));
        Permission yes = new Permission.Header(header("x", exact("1")));
        Permission no = new Permission.Header(header("x", exact("2")));
        assertTrue(new Permission.And(List.of(yes, ANYTHING)).matches(r));
        assertFalse(new Permission.And(List.of(yes, no)).matches(r));
        assertTrue(new Permission.Or(List.of(no, yes)).matches(r));
        assertFalse(new Permission.Or(List.of(no, no)).matches(r));
        assertTrue(new Permission.Not(no).matches(r));
        Principal p = new Principal.DirectRemoteIp(CidrRange.of("10.0.0.1", 32));
        Principal q = new Principal.DirectRemoteIp(CidrRange.of("10.0.0.2", 32));
        assertTrue(new Principal.And(List.of(p, ANYONE)).matches(r));
        assertFalse(new Principal.And(List.of(p, q)).matches(r));
        assertTrue(new Principal.Or(List.of(q, p)).matches(r));
        assertTrue(new Principal.Not(q).matches(r));
        assertFalse(new Principal.Not(p).matches(r));
    }

    @Test
    void threeAddressesThreePrincipals() {
        // direct peer 10.0.0.1 (a front proxy), PROXY protocol source 172.16.0.5, XFF client 203.0.113.7
        RbacRequest r = TestRequest.http("/", Map.of()).withAddresses("10.0.0.1", "172.16.0.5", "203.0.113.7");
        assertTrue(new Principal.DirectRemoteIp(CidrRange.of("10.0.0.0", 8)).matches(r));
        assertFalse(new Principal.DirectRemoteIp(CidrRange.of("203.0.113.0", 24)).matches(r));
        assertTrue(new Principal.SourceIp(CidrRange.of("172.16.0.0", 12)).matches(r));
        assertFalse(new Principal.SourceIp(CidrRange.of("203.0.113.0", 24)).matches(r), "source_ip ignores XFF");
        assertTrue(new Principal.RemoteIp(CidrRange.of("203.0.113.7", 32)).matches(r));
        assertFalse(new Principal.RemoteIp(CidrRange.of("10.0.0.0", 8)).matches(r));
    }

    /**
     * Envoy's CidrRange compares an address only with a range of its own family, and an IPv4-mapped
     * IPv6 address (an XFF entry "::ffff:6.6.6.6" stays IPv6 there) is IPv6: it is in ::ffff:6.6.6.0/120,
     * not in 6.6.6.0/24; the IPv4 peer 6.6.6.6 is the other way round.
     */
    @Test
    void ipv4MappedAddressesAreIpv6InRanges() throws Exception {
        byte[] bytes = new byte[16];
        bytes[10] = (byte) 0xff;
        bytes[11] = (byte) 0xff;
        bytes[12] = bytes[13] = bytes[14] = 6;
        java.net.InetAddress mappedRange = java.net.Inet6Address.getByAddress(null, bytes, -1);
        bytes[15] = 6;
        java.net.InetAddress mapped = java.net.Inet6Address.getByAddress(null, bytes, -1);
        java.net.InetAddress v4 = CidrRange.literal("6.6.6.6");
        CidrRange v6Range = new CidrRange(mappedRange, 120);
        assertTrue(v6Range.contains(mapped));
        assertFalse(v6Range.contains(v4));
        assertFalse(CidrRange.of("6.6.6.0", 24).contains(mapped));
        assertTrue(CidrRange.of("6.6.6.0", 24).contains(v4));
        assertTrue(new CidrRange(mapped, 128).contains(mapped));
        assertFalse(new CidrRange(mapped, 128).contains(v4));
    }

    @Test
    void destinationIpPortRangeAndServerName() {
        RbacRequest r = TestRequest.tcp("10.0.0.1", "10.0.0.1", "10.0.0.9", 8443, "api.example.com");
        assertTrue(permits(new Permission.DestinationIp(CidrRange.of("10.0.0.9", 32)), r));
        assertFalse(permits(new Permission.DestinationIp(CidrRange.of("10.0.1.0", 24)), r));
        assertTrue(permits(new Permission.DestinationPort(8443), r));
        assertFalse(permits(new Permission.DestinationPort(443), r));
        assertTrue(permits(new Permission.DestinationPortRange(8000, 9000), r));
        assertFalse(permits(new Permission.DestinationPortRange(8000, 8443), r), "end is exclusive");
        assertTrue(permits(new Permission.DestinationPortRange(8443, 8444), r), "start is inclusive");
        assertTrue(permits(new Permission.RequestedServerName(StringMatch.of(StringMatch.Kind.SUFFIX, ".example.com", false)), r));
        assertTrue(permits(new Permission.RequestedServerName(StringMatch.of(StringMatch.Kind.EXACT, "API.example.com", true)), r));
        assertFalse(permits(new Permission.RequestedServerName(StringMatch.of(StringMatch.Kind.EXACT, "API.example.com", false)), r));
        assertFalse(permits(new Permission.UrlPath(exact("/")), r), "a TCP connection has no path");
        assertTrue(new Principal.Header(new HeaderMatch("x", Optional.empty(), false, false, false)).matches(r), "absent header");
    }

    @Test
    void stringMatchKinds() {
        assertTrue(exact("/a").matches("/a"));
        assertFalse(exact("/a").matches("/A"));
        assertTrue(StringMatch.of(StringMatch.Kind.EXACT, "/a", true).matches("/A"));
        assertTrue(StringMatch.of(StringMatch.Kind.PREFIX, "/Api", true).matches("/api/v1"));
        assertTrue(StringMatch.of(StringMatch.Kind.SUFFIX, ".JSON", true).matches("/x.json"));
        assertTrue(StringMatch.of(StringMatch.Kind.CONTAINS, "adm", false).matches("/x/admin"));
        assertFalse(StringMatch.of(StringMatch.Kind.CONTAINS, "ADM", false).matches("/x/admin"));
        assertTrue(StringMatch.regex(Re2.compile("/v[0-9]+/.*")).matches("/v2/x"));
        assertFalse(StringMatch.regex(Re2.compile("/v[0-9]+")).matches("/v2/x"), "regex matches the whole value");
    }

    /** A request's text as the codec gives it: one char per byte, here the UTF-8 bytes of {@code s}. */
    private static String wire(String s) {
        return new String(s.getBytes(java.nio.charset.StandardCharsets.UTF_8), java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    @Test
    void stringMatchComparesUtf8BytesAndFoldsOnlyAscii() {
        // Envoy compares the configured string's UTF-8 bytes with the request's bytes
        assertTrue(exact("josé").matches(wire("josé")));
        assertTrue(StringMatch.of(StringMatch.Kind.PREFIX, "/café", false).matches(wire("/café/menu")));
        assertTrue(StringMatch.of(StringMatch.Kind.SUFFIX, "ün", false).matches(wire("grün")));
        assertTrue(StringMatch.of(StringMatch.Kind.CONTAINS, "€", false).matches(wire("5€ each")));
        assertTrue(StringMatch.of(StringMatch.Kind.EXACT, "JOSÉ", true).matches(wire("josÉ")), "ASCII letters fold");
        assertFalse(StringMatch.of(StringMatch.Kind.EXACT, "JOSÉ", true).matches(wire("josé")), "É/é differ in a non-ASCII byte");
        // a raw byte 0xE0 is not the UTF-8 of "À", whatever Latin-1 case rules say
        assertFalse(StringMatch.of(StringMatch.Kind.EXACT, "À", true).matches("\u00e0"));
        assertFalse(StringMatch.of(StringMatch.Kind.CONTAINS, "À", true).matches("x\u00e0"));
        // RE2 reads the bytes as UTF-8: '.' is one character, a class holds characters
        assertTrue(StringMatch.regex(Re2.compile("caf.")).matches(wire("café")));
        assertTrue(StringMatch.regex(Re2.compile("gr[üu]n")).matches(wire("grün")));
        assertFalse(StringMatch.regex(Re2.compile("caf..")).matches(wire("café")));
    }

    /**
     * RE2's '.' stops only at '\n' (Java's also at '\r', U+0085, U+2028, U+2029) and its (?i) folds
     * Unicode letters (Java's only ASCII ones unless asked).
     */
    @Test
    void regexDotAndCaseFoldingAsRe2() {
        assertTrue(StringMatch.regex(Re2.compile("a.b")).matches(wire("a\u0085b")));
        assertTrue(StringMatch.regex(Re2.compile("/api/.*")).matches(wire("/api/x\u2028y")));
        assertTrue(StringMatch.regex(Re2.compile("a.b")).matches("a\rb"));
        assertFalse(StringMatch.regex(Re2.compile("a.b")).matches("a\nb"), "'\\n' is RE2's one line end");
        assertTrue(StringMatch.regex(Re2.compile("(?i)josé")).matches(wire("JOSÉ")));
    }

    @Test
    void urlPathIgnoresTheQueryButHeaderPathDoesNot() {
        RbacRequest r = TestRequest.http("/status/200?secret=1", Map.of());
        assertTrue(new Permission.UrlPath(exact("/status/200")).matches(r));
        assertTrue(new Principal.UrlPath(exact("/status/200")).matches(r));
        assertFalse(new Permission.Header(header(":path", exact("/status/200"))).matches(r));
        assertTrue(new Permission.Header(header(":path", exact("/status/200?secret=1"))).matches(r));
    }

    @Test
    void headerMatcherAbsenceAndInversionAsEnvoy() {
        RbacRequest with = TestRequest.http("/", Map.of("x-user", "alice"));
        RbacRequest without = TestRequest.http("/", Map.of());
        HeaderMatch isAlice = header("x-user", exact("alice"));
        HeaderMatch notAlice = new HeaderMatch("x-user", Optional.of(exact("alice")), true, true, false);
        assertTrue(isAlice.matches(with.header("x-user")));
        assertFalse(notAlice.matches(with.header("x-user")));
        assertFalse(isAlice.matches(without.header("x-user")));
        assertFalse(notAlice.matches(without.header("x-user")), "an absent header fails a value match even inverted");
        HeaderMatch emptyOk = new HeaderMatch("x-user", Optional.of(exact("")), true, false, true);
        assertTrue(emptyOk.matches(without.header("x-user")), "treat_missing_header_as_empty");
        HeaderMatch present = new HeaderMatch("x-user", Optional.empty(), true, false, false);
        assertTrue(present.matches(with.header("x-user")));
        assertFalse(present.matches(without.header("x-user")));
        HeaderMatch presentInverted = new HeaderMatch("x-user", Optional.empty(), true, true, false);
        assertTrue(presentInverted.matches(without.header("x-user")));
        HeaderMatch presentFalse = new HeaderMatch("x-user", Optional.empty(), false, false, false);
        assertTrue(presentFalse.matches(without.header("x-user")), "present_match: false matches an absent header");
        assertFalse(presentFalse.matches(with.header("x-user")));
        HeaderMatch prefix = header("x-user", StringMatch.of(StringMatch.Kind.PREFIX, "ali", false));
        HeaderMatch suffix = header("x-user", StringMatch.of(StringMatch.Kind.SUFFIX, "ice", false));
        HeaderMatch contains = header("x-user", StringMatch.of(StringMatch.Kind.CONTAINS, "lic", false));
        HeaderMatch regex = header("x-user", StringMatch.regex(Re2.compile("a.*e")));
        for (HeaderMatch h : List.of(prefix, suffix, contains, regex)) {
            assertTrue(h.matches(with.header("x-user")), h.toString());
            assertTrue(new Principal.Header(h).matches(with));
        }
    }

    @Test
    void responseDetailSanitizesWhitespace() {
        // Envoy's ResponseDetail test in test/extensions/filters/common/rbac/utility_test.cc
        assertEquals("rbac_access_denied_matched_policy[abdfxy]", RbacEngine.responseDetail(new Decision(false, Optional.of("abdfxy"))));
        assertEquals("rbac_access_denied_matched_policy[ab_df__xy]", RbacEngine.responseDetail(new Decision(false, Optional.of("ab df  xy"))));
        assertEquals("rbac_access_denied_matched_policy[a______y]",
                RbacEngine.responseDetail(new Decision(false, Optional.of("a \t\f\u000B\n\ry"))));
        assertEquals("rbac_access_denied_matched_policy[none]", RbacEngine.responseDetail(new Decision(false, Optional.empty())));
    }

    @Test
    void statNamesFollowEnvoysPrefixJoin() {
        var stats = new io.sourcemesh.proxy.stats.Stats();
        RbacConfig cfg = new RbacConfig(Optional.of(rules(Rules.Action.ALLOW, Map.of())),
                Optional.of(rules(Rules.Action.DENY, Map.of())), "", "");
        RbacEngine e = RbacEngine.of(cfg, stats, "http.ingress.");
        e.shadow(TestRequest.http("/", Map.of()));
        e.enforce(TestRequest.http("/", Map.of()));
        assertEquals(1L, stats.counters().get("http.ingress.rbac.denied"));
        assertEquals(1L, stats.counters().get("http.ingress.rbac.shadow_allowed"));
        assertEquals(0L, stats.counters().get("http.ingress.rbac.allowed"));
        var prefixed = new io.sourcemesh.proxy.stats.Stats();
        // Envoy's network filter test (rbac_filter_test.cc, AllowedWithOneTimeEnforcement): tcp.rbac.prefix_.shadow_allowed
        RbacEngine.of(new RbacConfig(Optional.empty(), Optional.empty(), "", "prefix_"), prefixed, "tcp.");
        assertTrue(prefixed.counters().containsKey("tcp.rbac.allowed"), prefixed.counters().toString());
        assertTrue(prefixed.counters().containsKey("tcp.rbac.prefix_.shadow_allowed"), prefixed.counters().toString());
        var both = new io.sourcemesh.proxy.stats.Stats();
        RbacEngine.of(new RbacConfig(Optional.empty(), Optional.empty(), "rules", "shadow"), both, "http.in.");
        assertTrue(both.counters().containsKey("http.in.rbac.rules.denied"), both.counters().toString());
        assertTrue(both.counters().containsKey("http.in.rbac.rules.shadow.shadow_denied"), both.counters().toString());
    }

    /** Envoy's AuthenticatedMatcher: TLS the proxy terminated; a principal_name tried on URI SANs, DNS SANs, then the subject. */
    @Test
    void authenticatedNeedsTlsAndMatchesTheCertificatesNamesInEnvoysOrder() {
        TestRequest plain = TestRequest.http("/", Map.of());
        Principal anyTls = new Principal.Authenticated(java.util.Optional.empty());
        assertFalse(anyTls.matches(plain), "no TLS, no authenticated principal");
        assertTrue(anyTls.matches(plain.overTls()), "TLS without a client certificate is still authenticated to Envoy");
        Principal sleep = new Principal.Authenticated(java.util.Optional.of(
                StringMatch.of(StringMatch.Kind.EXACT, "spiffe://cluster.local/ns/default/sa/sleep", false)));
        assertTrue(sleep.matches(plain.overTls("spiffe://cluster.local/ns/default/sa/sleep", "sleep.default.svc", "CN=sleep")));
        assertFalse(sleep.matches(plain.overTls("spiffe://cluster.local/ns/default/sa/other", "CN=sleep")));
        assertFalse(sleep.matches(plain), "the name without TLS");
        Principal subject = new Principal.Authenticated(java.util.Optional.of(StringMatch.of(StringMatch.Kind.EXACT, "CN=sleep", false)));
        assertTrue(subject.matches(plain.overTls("spiffe://x", "CN=sleep")), "the subject is the last name tried");
        Principal empty = new Principal.Authenticated(java.util.Optional.of(StringMatch.of(StringMatch.Kind.EXACT, "", false)));
        assertTrue(empty.matches(plain.overTls()), "no certificate: the subject Envoy matches is empty");
    }
}
