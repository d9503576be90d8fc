package io.sourcemesh.proxy.http.forwarded;

import static io.sourcemesh.proxy.http.forwarded.Requests.fromXff;
import static io.sourcemesh.proxy.http.forwarded.Requests.headers;
import static io.sourcemesh.proxy.http.forwarded.Requests.mutator;
import static io.sourcemesh.proxy.http.forwarded.Requests.peer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.codec.http.HttpHeaders;
import io.sourcemesh.proxy.address.CidrRange;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * The xff original_ip_detection extension with xff_trusted_cidrs (xff.proto, xff.cc): an untrusted peer's XFF
 * is ignored; a trusted peer's last entry is the client, or with recurse the rightmost untrusted entry
 * (all trusted: the leftmost). The hops count is not used once cidrs are configured.
 */
class RequestHeaderMutatorTrustedCidrsTest {

    private static final List<CidrRange> CDN = List.of(CidrRange.parse("192.0.2.0/24"), CidrRange.parse("198.51.100.0/24"));

    @ParameterizedTest(name = "recurse={0} peer={1} xff=''{2}'' -> {3}")
    @CsvSource(delimiter = '|', nullValues = "-", textBlock = """
            false | 203.0.113.50 | 203.0.113.1, 198.51.100.1          | peer
            true  | 203.0.113.50 | 203.0.113.1, 198.51.100.1          | peer
            false | 192.0.2.5    | -                                  | peer
            true  | 192.0.2.5    | -                                  | peer
            false | 192.0.2.5    | 203.0.113.1, 198.51.100.1          | 198.51.100.1
            true  | 192.0.2.5    | 203.0.113.1, 198.51.100.1          | 203.0.113.1
            true  | 192.0.2.5    | 203.0.113.1, 203.0.113.2, 198.51.100.1, 192.0.2.9 | 203.0.113.2
            true  | 192.0.2.5    | 198.51.100.7, 192.0.2.8            | 198.51.100.7
            true  | 192.0.2.5    | 192.0.2.8                          | 192.0.2.8
            true  | 192.0.2.5    | 203.0.113.1, garbage, 198.51.100.1 | peer
            true  | 192.0.2.5    | garbage, 203.0.113.1               | 203.0.113.1
            false | 192.0.2.5    | 203.0.113.1, garbage               | peer
            """)
    void trustedClientAddress(boolean recurse, String peer, String forwardedFor, String expected) {
        HttpHeaders headers = forwardedFor == null ? headers() : headers("x-forwarded-for", forwardedFor);
        Outcome outcome = mutator(ForwardedForConfig.defaults().withXffTrustedCidrs(CDN, recurse)).mutate(headers, peer(peer), false);

        assertEquals(expected.equals("peer") ? peer(peer) : fromXff(expected), outcome.trustedClientAddress());
        // Transparent: XFF passes untouched.
        assertEquals(forwardedFor, headers.get("x-forwarded-for"));
        assertFalse(outcome.edgeRequest());
    }

    @Test
    void recurseGivesUpOnMoreThanTwentyEntries() {
        // Envoy's xff_test XFFHasTooManyEntries: 21 untrusted entries, no address detected.
        StringBuilder xff = new StringBuilder();
        for (int i = 1; i <= 21; i++) {
            xff.append(i == 1 ? "" : ", ").append("10.").append(i).append('.').append(i).append('.').append(i);
        }
        ForwardedForConfig config = ForwardedForConfig.defaults().withXffTrustedCidrs(CDN, true);
        Outcome tooMany = mutator(config).mutate(headers("x-forwarded-for", xff.toString()), peer("192.0.2.11"), false);
        assertEquals(peer("192.0.2.11"), tooMany.trustedClientAddress());

        String twenty = xff.substring(xff.indexOf(",") + 2);
        Outcome limit = mutator(config).mutate(headers("x-forwarded-for", twenty), peer("192.0.2.11"), false);
        assertEquals(fromXff("10.21.21.21"), limit.trustedClientAddress());
    }

    @Test
    void recurseStopsAtAnEmptyEntry() {
        // Envoy's xff_test EmptyXFFEntry.
        HttpHeaders headers = headers("x-forwarded-for", "192.0.2.4,, 198.51.100.1");
        Outcome outcome = mutator(ForwardedForConfig.defaults().withXffTrustedCidrs(CDN, true)).mutate(headers, peer("192.0.2.11"), false);
        assertEquals(peer("192.0.2.11"), outcome.trustedClientAddress());
    }

    @Test
    void envoyXffTestRecurseCases() {
        // Envoy's xff_test Recurse and RecurseAllAddressesTrusted.
        ForwardedForConfig config = ForwardedForConfig.defaults().withXffTrustedCidrs(CDN, true);
        assertEquals(fromXff("2.2.2.2"), mutator(config)
                .mutate(headers("x-forwarded-for", "1.2.3.4,2.2.2.2,192.0.2.5, 198.51.100.1"), peer("192.0.2.11"), false)
                .trustedClientAddress());
        assertEquals(fromXff("192.0.2.4"), mutator(config)
                .mutate(headers("x-forwarded-for", "192.0.2.4,192.0.2.5, 198.51.100.1"), peer("192.0.2.11"), false)
                .trustedClientAddress());
    }

    @Test
    void hopsCountIsNotUsedWithTrustedCidrs() {
        ForwardedForConfig config = ForwardedForConfig.defaults().withXffNumTrustedHops(1).withXffTrustedCidrs(CDN, false);
        Outcome outcome = mutator(config).mutate(headers("x-forwarded-for", "203.0.113.1, 203.0.113.2"), peer("192.0.2.5"), false);
        assertEquals(fromXff("203.0.113.2"), outcome.trustedClientAddress());
    }

    @Test
    void emptyCidrListBehavesLikeZeroHops() {
        ForwardedForConfig config = ForwardedForConfig.defaults().withXffNumTrustedHops(1).withXffTrustedCidrs(List.of(), true);
        Outcome outcome = mutator(config).mutate(headers("x-forwarded-for", "203.0.113.1, 203.0.113.2"), peer("203.0.113.50"), false);
        assertEquals(fromXff("203.0.113.2"), outcome.trustedClientAddress());
    }

    @Test
    void singleUntrustedInternalEntryIsInternal() {
        HttpHeaders headers = headers("x-forwarded-for", "10.1.1.1");
        Outcome outcome = mutator(ForwardedForConfig.defaults().withXffTrustedCidrs(CDN, true)).mutate(headers, peer("192.0.2.5"), false);
        assertTrue(outcome.internal());
        assertEquals("true", headers.get("x-envoy-internal"));
    }

    @Test
    void singleTrustedInternalEntryIsNotInternalWithRecurse() {
        // All entries trusted: the first one is returned without allowing internal checks.
        List<CidrRange> cidrs = List.of(CidrRange.parse("10.0.0.0/8"));
        HttpHeaders headers = headers("x-forwarded-for", "10.1.1.1");
        Outcome outcome = mutator(ForwardedForConfig.defaults().withXffTrustedCidrs(cidrs, true)).mutate(headers, peer("10.0.0.2"), false);
        assertEquals(fromXff("10.1.1.1"), outcome.trustedClientAddress());
        assertFalse(outcome.internal());
    }

    @Test
    void trustedPeerWithoutXffIsNeverInternal() {
        List<CidrRange> cidrs = List.of(CidrRange.parse("10.0.0.0/8"));
        HttpHeaders headers = headers();
        Outcome outcome = mutator(ForwardedForConfig.defaults().withXffTrustedCidrs(cidrs, false)).mutate(headers, peer("10.0.0.2"), false);
        assertEquals(peer("10.0.0.2"), outcome.trustedClientAddress());
        assertFalse(outcome.internal());
    }

    @Test
    void untrustedPeerIsExternalEvenWithSingleInternalEntry() {
        HttpHeaders headers = headers("x-forwarded-for", "10.1.1.1");
        Outcome outcome = mutator(ForwardedForConfig.defaults().withXffTrustedCidrs(CDN, false)).mutate(headers, peer("203.0.113.50"), false);
        assertEquals(peer("203.0.113.50"), outcome.trustedClientAddress());
        assertFalse(outcome.internal());
    }

    @Test
    void ipv6TrustedCidrsWithRecurse() {
        List<CidrRange> cidrs = List.of(CidrRange.parse("2001:db8::/32"));
        HttpHeaders headers = headers("x-forwarded-for", "2606:4700::1, 2001:db8::9, 2001:db8:ffff::2");
        Outcome outcome = mutator(ForwardedForConfig.defaults().withXffTrustedCidrs(cidrs, true)).mutate(headers, peer("2001:db8::1"), false);
        assertEquals(fromXff("2606:4700::1"), outcome.trustedClientAddress());
    }

    @Test
    void ipv4CidrsNeverMatchIpv6Peers() {
        HttpHeaders headers = headers("x-forwarded-for", "203.0.113.1");
        Outcome outcome = mutator(ForwardedForConfig.defaults().withXffTrustedCidrs(List.of(CidrRange.parse("0.0.0.0/0")), false))
                .mutate(headers, peer("2001:db8::1"), false);
        assertEquals(peer("2001:db8::1"), outcome.trustedClientAddress());
    }
}
