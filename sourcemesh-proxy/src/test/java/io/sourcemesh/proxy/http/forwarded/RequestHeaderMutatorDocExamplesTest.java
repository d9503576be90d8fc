package io.sourcemesh.proxy.http.forwarded;

import static io.sourcemesh.proxy.http.forwarded.Requests.fromXff;
import static io.sourcemesh.proxy.http.forwarded.Requests.headers;
import static io.sourcemesh.proxy.http.forwarded.Requests.mutator;
import static io.sourcemesh.proxy.http.forwarded.Requests.peer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.codec.http.HttpHeaders;
import io.sourcemesh.proxy.address.CidrRange;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every example of Envoy's HTTP header manipulation page, section x-forwarded-for
 * (envoyproxy/envoy docs/root/configuration/http/http_conn_man/headers.rst), one test each.
 *
 * <p>Where the page and Envoy's code (source/common/http/conn_manager_utility.cc,
 * source/common/http/utility.cc, source/extensions/http/original_ip_detection/xff/xff.cc) disagree, the
 * test follows the code and says so:
 * <ul>
 *   <li>XFF is appended with "," and no space (HeaderMapImpl::appendToHeader), where the page prints ", ".</li>
 *   <li>x-envoy-internal is never set to "false": it is removed, and only ever set to "true".</li>
 *   <li>With use_remote_address=false nothing is appended to XFF and x-envoy-external-address is not set,
 *       although examples 7 and 8 say otherwise.</li>
 *   <li>Example 7's result needs recurse=false, example 8's needs recurse=true (the page predates the
 *       recurse field, xff.proto documents both behaviours).</li>
 * </ul>
 */
class RequestHeaderMutatorDocExamplesTest {

    private static final ForwardedForConfig DEFAULTS = ForwardedForConfig.defaults();

    // "Some examples of XFF are:
    //  1. x-forwarded-for: 50.0.0.1 (single client)
    //  2. x-forwarded-for: 50.0.0.1, 40.0.0.1 (external proxy hop)
    //  3. x-forwarded-for: 50.0.0.1, 10.0.0.1 (internal proxy hop)"
    // Read by a transparent (use_remote_address=false) Envoy: the rightmost entry is the trusted client.

    @Test
    void xffExampleSingleClient() {
        HttpHeaders headers = headers("x-forwarded-for", "50.0.0.1");
        Outcome outcome = mutator(DEFAULTS).mutate(headers, peer("10.0.0.2"), false);
        assertEquals(fromXff("50.0.0.1"), outcome.trustedClientAddress());
        assertFalse(outcome.internal());
        assertEquals("50.0.0.1", headers.get("x-forwarded-for"));
    }

    @Test
    void xffExampleExternalProxyHop() {
        HttpHeaders headers = headers("x-forwarded-for", "50.0.0.1, 40.0.0.1");
        Outcome outcome = mutator(DEFAULTS).mutate(headers, peer("10.0.0.2"), false);
        assertEquals(fromXff("40.0.0.1"), outcome.trustedClientAddress());
        assertFalse(outcome.internal());
    }

    @Test
    void xffExampleInternalProxyHop() {
        HttpHeaders headers = headers("x-forwarded-for", "50.0.0.1, 10.0.0.1");
        Outcome outcome = mutator(DEFAULTS).mutate(headers, peer("10.0.0.2"), false);
        assertEquals(fromXff("10.0.0.1"), outcome.trustedClientAddress());
        // Internal only when XFF holds a single internal address.
        assertFalse(outcome.internal());
        assertNull(headers.get("x-envoy-internal"));
    }

    /*
     * Example 1: Envoy as edge proxy, without a trusted proxy in front of it
     *   Settings: use_remote_address = true, xff_num_trusted_hops = 0
     *   Request details: Downstream IP address = 192.0.2.5, XFF = "203.0.113.128, 203.0.113.10, 203.0.113.1"
     *   Result: Trusted client address = 192.0.2.5 (XFF is ignored)
     *           X-Envoy-External-Address is set to 192.0.2.5
     *           XFF is changed to "203.0.113.128, 203.0.113.10, 203.0.113.1, 192.0.2.5"
     *           X-Envoy-Internal is removed (if it was present in the incoming request)
     */
    @Test
    void example1EdgeProxyWithoutTrustedProxy() {
        HttpHeaders headers = headers("x-forwarded-for", "203.0.113.128, 203.0.113.10, 203.0.113.1", "x-envoy-internal", "true");
        Outcome outcome = mutator(DEFAULTS.withUseRemoteAddress(true)).mutate(headers, peer("192.0.2.5"), false);

        assertEquals(peer("192.0.2.5"), outcome.trustedClientAddress());
        assertEquals("192.0.2.5", headers.get("x-envoy-external-address"));
        assertEquals("203.0.113.128, 203.0.113.10, 203.0.113.1,192.0.2.5", headers.get("x-forwarded-for"));
        assertFalse(headers.contains("x-envoy-internal"));
        assertTrue(outcome.edgeRequest());
    }

    /*
     * Example 2: Envoy as internal proxy, with the Envoy edge proxy from Example 1 in front of it
     *   Settings: use_remote_address = false, xff_num_trusted_hops = 0
     *   Request details: Downstream IP address = 10.11.12.13 (address of the Envoy edge proxy)
     *                    XFF = "203.0.113.128, 203.0.113.10, 203.0.113.1, 192.0.2.5"
     *   Result: Trusted client address = 192.0.2.5 (last address in XFF is trusted)
     *           X-Envoy-External-Address is not modified
     *           X-Envoy-Internal is removed (if it was present in the incoming request)
     */
    @Test
    void example2InternalProxyBehindExample1() {
        String xff = "203.0.113.128, 203.0.113.10, 203.0.113.1, 192.0.2.5";
        HttpHeaders headers = headers("x-forwarded-for", xff, "x-envoy-external-address", "192.0.2.5", "x-envoy-internal", "true");
        Outcome outcome = mutator(DEFAULTS).mutate(headers, peer("10.11.12.13"), false);

        assertEquals(fromXff("192.0.2.5"), outcome.trustedClientAddress());
        assertEquals("192.0.2.5", headers.get("x-envoy-external-address"));
        assertFalse(headers.contains("x-envoy-internal"));
        assertEquals(xff, headers.get("x-forwarded-for"));
        assertFalse(outcome.edgeRequest());
    }

    /*
     * Example 3: Envoy as edge proxy, with two trusted external proxies in front of it
     *   Settings: use_remote_address = true, xff_num_trusted_hops = 2
     *   Request details: Downstream IP address = 192.0.2.5, XFF = "203.0.113.128, 203.0.113.10, 203.0.113.1"
     *   Result: Trusted client address = 203.0.113.10 (2nd to last address in XFF is trusted)
     *           X-Envoy-External-Address is set to 203.0.113.10
     *           XFF is changed to "203.0.113.128, 203.0.113.10, 203.0.113.1, 192.0.2.5"
     *           X-Envoy-Internal is removed (if it was present in the incoming request)
     */
    @Test
    void example3EdgeProxyWithTwoTrustedProxies() {
        HttpHeaders headers = headers("x-forwarded-for", "203.0.113.128, 203.0.113.10, 203.0.113.1", "x-envoy-internal", "true");
        Outcome outcome = mutator(DEFAULTS.withUseRemoteAddress(true).withXffNumTrustedHops(2))
                .mutate(headers, peer("192.0.2.5"), false);

        assertEquals(fromXff("203.0.113.10"), outcome.trustedClientAddress());
        assertEquals("203.0.113.10", headers.get("x-envoy-external-address"));
        assertEquals("203.0.113.128, 203.0.113.10, 203.0.113.1,192.0.2.5", headers.get("x-forwarded-for"));
        assertFalse(headers.contains("x-envoy-internal"));
    }

    /*
     * Example 4: Envoy as internal proxy, with the edge proxy from Example 3 in front of it
     *   Settings: use_remote_address = false, xff_num_trusted_hops = 2
     *   Request details: Downstream IP address = 10.11.12.13 (address of the Envoy edge proxy)
     *                    XFF = "203.0.113.128, 203.0.113.10, 203.0.113.1, 192.0.2.5"
     *   Result: Trusted client address = 203.0.113.10
     *           X-Envoy-External-Address is not modified
     *           X-Envoy-Internal is removed (if it was present in the incoming request)
     */
    @Test
    void example4InternalProxyBehindExample3() {
        String xff = "203.0.113.128, 203.0.113.10, 203.0.113.1, 192.0.2.5";
        HttpHeaders headers = headers("x-forwarded-for", xff, "x-envoy-external-address", "203.0.113.10", "x-envoy-internal", "true");
        Outcome outcome = mutator(DEFAULTS.withXffNumTrustedHops(2)).mutate(headers, peer("10.11.12.13"), false);

        assertEquals(fromXff("203.0.113.10"), outcome.trustedClientAddress());
        assertEquals("203.0.113.10", headers.get("x-envoy-external-address"));
        assertFalse(headers.contains("x-envoy-internal"));
        assertEquals(xff, headers.get("x-forwarded-for"));
    }

    /*
     * Example 5: Envoy as an internal proxy, receiving a request from an internal client
     *   Settings: use_remote_address = false, xff_num_trusted_hops = 0
     *   Request details: Downstream IP address = 10.20.30.40 (address of the internal client), XFF is not present
     *   Result: Trusted client address = 10.20.30.40
     *           X-Envoy-External-Address remains unset
     *           X-Envoy-Internal is set to "false"
     * Envoy's code never writes "false": without XFF a transparent Envoy cannot call the request internal,
     * so x-envoy-internal is removed (conn_manager_utility.cc, "HUGE WARNING" comment, rule 3).
     */
    @Test
    void example5InternalClientWithoutXff() {
        HttpHeaders headers = headers("x-envoy-internal", "true");
        Outcome outcome = mutator(DEFAULTS).mutate(headers, peer("10.20.30.40"), false);

        assertEquals(peer("10.20.30.40"), outcome.trustedClientAddress());
        assertFalse(headers.contains("x-envoy-external-address"));
        assertFalse(headers.contains("x-envoy-internal"));
        assertFalse(outcome.internal());
    }

    /*
     * Example 6: The internal Envoy from Example 5, receiving a request proxied by another Envoy
     *   Settings: use_remote_address = false, xff_num_trusted_hops = 0
     *   Request details: Downstream IP address = 10.20.30.50 (address of the Envoy instance proxying to this one)
     *                    XFF = "10.20.30.40"
     *   Result: Trusted client address = 10.20.30.40
     *           X-Envoy-External-Address remains unset
     *           X-Envoy-Internal is set to "true"
     */
    @Test
    void example6InternalClientThroughAnotherEnvoy() {
        HttpHeaders headers = headers("x-forwarded-for", "10.20.30.40");
        Outcome outcome = mutator(DEFAULTS).mutate(headers, peer("10.20.30.50"), false);

        assertEquals(fromXff("10.20.30.40"), outcome.trustedClientAddress());
        assertFalse(headers.contains("x-envoy-external-address"));
        assertEquals("true", headers.get("x-envoy-internal"));
        assertTrue(outcome.internal());
    }

    /*
     * Example 7: Envoy as edge proxy, with one trusted CIDR
     *   Settings: use_remote_address = false, xff_trusted_cidrs = 192.0.2.0/24
     *   Request details: Downstream IP address = 192.0.2.5, XFF = "203.0.113.128, 203.0.113.10, 192.0.2.1"
     *   Result: Trusted client address = 192.0.2.1
     *           X-Envoy-External-Address is set to 192.0.2.1
     *           XFF is changed to "203.0.113.128, 203.0.113.10, 192.0.2.1, 192.0.2.5"
     *           X-Envoy-Internal is removed (if it was present in the incoming request)
     * The trusted client holds with recurse=false (last XFF entry). With use_remote_address=false Envoy's code
     * neither appends to XFF nor sets x-envoy-external-address (both happen only under use_remote_address).
     */
    @Test
    void example7OneTrustedCidr() {
        String xff = "203.0.113.128, 203.0.113.10, 192.0.2.1";
        HttpHeaders headers = headers("x-forwarded-for", xff, "x-envoy-internal", "true");
        Outcome outcome = mutator(DEFAULTS.withXffTrustedCidrs(List.of(CidrRange.parse("192.0.2.0/24")), false))
                .mutate(headers, peer("192.0.2.5"), false);

        assertEquals(fromXff("192.0.2.1"), outcome.trustedClientAddress());
        assertFalse(headers.contains("x-envoy-internal"));
        assertEquals(xff, headers.get("x-forwarded-for"));
        assertFalse(headers.contains("x-envoy-external-address"));
    }

    /*
     * Example 8: Envoy as edge proxy, with two trusted CIDRs
     *   Settings: use_remote_address = false, xff_trusted_cidrs = 192.0.2.0/24, 198.51.100.0/24
     *   Request details: Downstream IP address = 192.0.2.5, XFF = "203.0.113.128, 203.0.113.10, 198.51.100.1"
     *   Result: Trusted client address = 203.0.113.10
     *           X-Envoy-External-Address is set to 203.0.113.10
     *           XFF is changed to "203.0.113.128, 203.0.113.10, 198.51.100.1, 192.0.2.5"
     *           X-Envoy-Internal is removed (if it was present in the incoming request)
     * The trusted client holds with recurse=true (skip trusted entries from the right).
     */
    @Test
    void example8TwoTrustedCidrsWithRecurse() {
        String xff = "203.0.113.128, 203.0.113.10, 198.51.100.1";
        HttpHeaders headers = headers("x-forwarded-for", xff, "x-envoy-internal", "true");
        List<CidrRange> cidrs = List.of(CidrRange.parse("192.0.2.0/24"), CidrRange.parse("198.51.100.0/24"));
        Outcome outcome = mutator(DEFAULTS.withXffTrustedCidrs(cidrs, true)).mutate(headers, peer("192.0.2.5"), false);

        assertEquals(fromXff("203.0.113.10"), outcome.trustedClientAddress());
        assertFalse(headers.contains("x-envoy-internal"));
        assertEquals(xff, headers.get("x-forwarded-for"));
        assertFalse(headers.contains("x-envoy-external-address"));
    }

    /** Example 8's request without recurse: xff.proto says "Otherwise the last address in x-forwarded-for is used". */
    @Test
    void example8WithoutRecurseTakesLastEntry() {
        HttpHeaders headers = headers("x-forwarded-for", "203.0.113.128, 203.0.113.10, 198.51.100.1");
        List<CidrRange> cidrs = List.of(CidrRange.parse("192.0.2.0/24"), CidrRange.parse("198.51.100.0/24"));
        Outcome outcome = mutator(DEFAULTS.withXffTrustedCidrs(cidrs, false)).mutate(headers, peer("192.0.2.5"), false);

        assertEquals(fromXff("198.51.100.1"), outcome.trustedClientAddress());
    }

    /** Example 7's request with recurse: 192.0.2.1 is itself trusted, so the walk goes on to 203.0.113.10. */
    @Test
    void example7WithRecurseSkipsTrustedEntry() {
        HttpHeaders headers = headers("x-forwarded-for", "203.0.113.128, 203.0.113.10, 192.0.2.1");
        Outcome outcome = mutator(DEFAULTS.withXffTrustedCidrs(List.of(CidrRange.parse("192.0.2.0/24")), true))
                .mutate(headers, peer("192.0.2.5"), false);

        assertEquals(fromXff("203.0.113.10"), outcome.trustedClientAddress());
    }
}
