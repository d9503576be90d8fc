package io.sourcemesh.proxy.http.forwarded;

import static io.sourcemesh.proxy.http.forwarded.Requests.*;
import static org.junit.jupiter.api.Assertions.*;

import io.netty.handler.codec.http.HttpHeaders;
import io.sourcemesh.proxy.address.CidrRange;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Cases ported from Envoy's test/common/http/conn_manager_utility_test.cc and
 * test/extensions/http/original_ip_detection/xff/xff_test.cc; each names its source test.
 */
class RequestHeaderMutatorEnvoyCasesTest {
    private static final ForwardedForConfig EDGE = ForwardedForConfig.defaults().withUseRemoteAddress(true);

    /** ConnectionManagerUtilityTest.ExternalAddressExternalRequestUseRemote: route internal_only_headers go too. */
    @Test
    void internalOnlyHeadersAreRemovedFromExternalRequests() {
        HttpHeaders headers = headers("custom_header", "foo", "x-envoy-retry-on", "foo", "x-envoy-ip-tags", "bar",
                "x-envoy-original-path", "/admin");
        Outcome o = mutator(EDGE.withInternalOnlyHeaders(List.of("Custom_Header"))).mutate(headers, peer("50.0.0.1"), false);
        assertFalse(o.internal());
        assertEquals("50.0.0.1", headers.get("x-envoy-external-address"));
        assertFalse(headers.contains("custom_header"));
        assertFalse(headers.contains("x-envoy-retry-on"));
        assertFalse(headers.contains("x-envoy-ip-tags"));
        assertFalse(headers.contains("x-envoy-original-path"), "Envoy's sanitize_original_path fix (1.26)");
    }

    /** ConnectionManagerUtilityTest.ExternalAddressInternalRequestUseRemote: an internal request keeps them. */
    @Test
    void internalRequestsKeepInternalOnlyHeaders() {
        HttpHeaders headers = headers("custom_header", "foo", "x-envoy-original-path", "/a");
        Outcome o = mutator(EDGE.withInternalOnlyHeaders(List.of("custom_header"))).mutate(headers, peer("10.0.0.1"), false);
        assertTrue(o.internal());
        assertEquals("foo", headers.get("custom_header"));
        assertEquals("/a", headers.get("x-envoy-original-path"));
    }

    /** ConnectionManagerUtilityTest.UseLocalAddressWhenLocalHostRemoteAddress and UseRemoteAddressWhenNotLocalHostRemoteAddress. */
    @Test
    void exactlyTheLoopbackHostIsReplacedByTheLocalAddress() {
        ForwardedForConfig config = EDGE.withLocalAddress(InetAddress.ofLiteral("10.1.2.3"));
        HttpHeaders local = headers();
        mutator(config).mutate(local, peer("127.0.0.1"), false);
        assertEquals("10.1.2.3", local.get("x-forwarded-for"));
        HttpHeaders other = headers();
        mutator(config).mutate(other, peer("127.0.0.2"), false);
        assertEquals("127.0.0.2", other.get("x-forwarded-for"), "Envoy's isLoopbackAddress is 127.0.0.1 only");
    }

    /**
     * An IPv4-mapped entry stays IPv6 in Envoy (parseInternetAddressNoThrow keeps v6; addressAsString is
     * inet_ntop's "::ffff:6.6.6.6"); Java would fold it to 6.6.6.6. No single Envoy test: derived from
     * Utility::getLastAddressFromXFF and Ipv6Instance::addressAsString.
     */
    @Test
    void ipv4MappedEntriesKeepEnvoysForm() {
        HttpHeaders headers = headers("x-forwarded-for", "::ffff:6.6.6.6");
        Outcome o = mutator(EDGE.withXffNumTrustedHops(1)).mutate(headers, peer("10.0.0.2"), false);
        assertInstanceOf(Inet6Address.class, o.trustedClientAddress().getAddress());
        assertEquals("::ffff:6.6.6.6", headers.get("x-envoy-external-address"));
        assertEquals("::ffff:6.6.6.6,10.0.0.2", headers.get("x-forwarded-for"));
    }

    /** xff_test.cc, the Recurse case: walk right to left past every trusted entry. */
    @Test
    void trustedCidrRecursionWalksRightToLeft() {
        ForwardedForConfig config = ForwardedForConfig.defaults()
                .withXffTrustedCidrs(List.of(CidrRange.parse("192.0.2.0/24"), CidrRange.parse("198.51.100.0/24")), true);
        Outcome o = mutator(config).mutate(headers("x-forwarded-for", "1.2.3.4, 5.6.7.8, 198.51.100.1, 192.0.2.5"),
                peer("192.0.2.10"), false);
        assertEquals(fromXff("5.6.7.8"), o.trustedClientAddress());
    }

    /** XffTest EmptyXFFEntry with hops: an empty entry is no address, so the peer is the client. */
    @Test
    void emptyEntryWithTrustedHopsFallsBackToThePeer() {
        Outcome o = mutator(ForwardedForConfig.defaults().withXffNumTrustedHops(1))
                .mutate(headers("x-forwarded-for", "1.2.3.4, ,5.6.7.8"), peer("10.0.0.3"), false);
        assertEquals(peer("10.0.0.3"), o.trustedClientAddress());
    }

    /** XffTest XFFHasTooManyEntries: 21 entries with recursion give no address, the peer is used. */
    @Test
    void moreThanTwentyEntriesGiveNoAddress() {
        StringBuilder xff = new StringBuilder();
        for (int i = 1; i <= 21; i++) {
            xff.append(i == 1 ? "" : ",").append("1.1.1.").append(String.valueOf(i));
        }
        ForwardedForConfig config = ForwardedForConfig.defaults()
                .withXffTrustedCidrs(List.of(CidrRange.parse("10.0.0.0/8")), true);
        Outcome o = mutator(config).mutate(headers("x-forwarded-for", xff.toString()), peer("10.0.0.4"), false);
        assertEquals(peer("10.0.0.4"), o.trustedClientAddress());
        String twenty = xff.substring(xff.indexOf(",") + 1);
        Outcome ok = mutator(config).mutate(headers("x-forwarded-for", twenty), peer("10.0.0.4"), false);
        assertEquals(fromXff("1.1.1.21"), ok.trustedClientAddress());
    }
}
