package io.sourcemesh.proxy.http.forwarded;

import static io.sourcemesh.proxy.http.forwarded.Requests.GENERATED_ID;
import static io.sourcemesh.proxy.http.forwarded.Requests.fromXff;
import static io.sourcemesh.proxy.http.forwarded.Requests.headers;
import static io.sourcemesh.proxy.http.forwarded.Requests.mutator;
import static io.sourcemesh.proxy.http.forwarded.Requests.peer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import io.sourcemesh.proxy.address.CidrRange;
import java.net.InetAddress;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Headers derived from the trusted client: external address, internal flag, proto, request id, sanitising. */
class RequestHeaderMutatorHeadersTest {

    private static final ForwardedForConfig TRANSPARENT = ForwardedForConfig.defaults();
    private static final ForwardedForConfig EDGE = ForwardedForConfig.defaults().withUseRemoteAddress(true);

    @Nested
    class ExternalAddress {

        @Test
        void edgeOverwritesSpoofedValueWithPeer() {
            HttpHeaders headers = headers("x-envoy-external-address", "1.2.3.4");
            Outcome outcome = mutator(EDGE).mutate(headers, peer("198.51.100.7"), false);
            assertEquals("198.51.100.7", headers.get("x-envoy-external-address"));
            assertTrue(outcome.edgeRequest());
            assertFalse(outcome.internal());
        }

        @Test
        void transparentProxyLeavesItAlone() {
            HttpHeaders headers = headers("x-envoy-external-address", "1.2.3.4", "x-forwarded-for", "198.51.100.7");
            Outcome outcome = mutator(TRANSPARENT).mutate(headers, peer("10.0.0.9"), false);
            assertEquals("1.2.3.4", headers.get("x-envoy-external-address"));
            assertFalse(outcome.edgeRequest());
        }

        @Test
        void transparentProxyNeverAddsIt() {
            HttpHeaders headers = headers("x-forwarded-for", "198.51.100.7");
            mutator(TRANSPARENT).mutate(headers, peer("10.0.0.9"), false);
            assertNull(headers.get("x-envoy-external-address"));
        }

        @Test
        void internalEdgeRequestDoesNotGetIt() {
            HttpHeaders headers = headers();
            Outcome outcome = mutator(EDGE).mutate(headers, peer("10.1.2.3"), false);
            assertNull(headers.get("x-envoy-external-address"));
            assertFalse(outcome.edgeRequest());
        }
    }

    @Nested
    class Internal {

        @Test
        void useRemoteAddressInternalPeerWithoutXff() {
            HttpHeaders headers = headers();
            Outcome outcome = mutator(EDGE).mutate(headers, peer("10.1.2.3"), false);
            assertTrue(outcome.internal());
            assertEquals("true", headers.get("x-envoy-internal"));
            assertEquals("10.1.2.3", headers.get("x-forwarded-for"));
            assertEquals(peer("10.1.2.3"), outcome.trustedClientAddress());
        }

        @Test
        void useRemoteAddressInternalPeerWithXffIsExternal() {
            HttpHeaders headers = headers("x-forwarded-for", "10.9.9.9", "x-envoy-internal", "true");
            Outcome outcome = mutator(EDGE).mutate(headers, peer("10.1.2.3"), false);
            assertFalse(outcome.internal());
            assertTrue(outcome.edgeRequest());
            assertFalse(headers.contains("x-envoy-internal"));
            assertEquals("10.1.2.3", headers.get("x-envoy-external-address"));
        }

        @Test
        void presentButEmptyXffStillMakesTheRequestExternal() {
            HttpHeaders headers = headers("x-forwarded-for", "");
            Outcome outcome = mutator(EDGE).mutate(headers, peer("10.1.2.3"), false);
            assertFalse(outcome.internal());
            // Nothing to join to: no leading comma.
            assertEquals("10.1.2.3", headers.get("x-forwarded-for"));
        }

        @Test
        void spoofedInternalHeaderRemovedFromExternalRequest() {
            HttpHeaders headers = headers("x-envoy-internal", "true");
            mutator(EDGE).mutate(headers, peer("198.51.100.7"), false);
            assertFalse(headers.contains("x-envoy-internal"));
        }

        @Test
        void transparentSingleInternalXffEntryIsInternal() {
            HttpHeaders headers = headers("x-forwarded-for", "192.168.1.20");
            Outcome outcome = mutator(TRANSPARENT).mutate(headers, peer("198.51.100.7"), false);
            assertTrue(outcome.internal());
            assertEquals("true", headers.get("x-envoy-internal"));
        }

        @Test
        void transparentWithHopsNeverInternal() {
            // getLastAddressFromXFF allows internal checks only with num_to_skip == 0.
            HttpHeaders headers = headers("x-forwarded-for", "10.0.0.1, 10.0.0.2");
            Outcome outcome = mutator(TRANSPARENT.withXffNumTrustedHops(1)).mutate(headers, peer("10.0.0.3"), false);
            assertEquals(fromXff("10.0.0.1"), outcome.trustedClientAddress());
            assertFalse(outcome.internal());
        }

        @Test
        void customInternalCidrsReplaceTheDefaults() {
            ForwardedForConfig config = EDGE.withInternalAddresses(InternalAddressConfig.of("100.64.0.0/10"));
            Outcome carrierGradeNat = mutator(config).mutate(headers(), peer("100.64.1.1"), false);
            Outcome rfc1918 = mutator(config).mutate(headers(), peer("10.1.1.1"), false);
            assertTrue(carrierGradeNat.internal());
            assertFalse(rfc1918.internal());
            assertTrue(rfc1918.edgeRequest());
        }

        @Test
        void noInternalAddressesMakesEverythingExternal() {
            HttpHeaders headers = headers();
            Outcome outcome = mutator(EDGE.withInternalAddresses(InternalAddressConfig.none())).mutate(headers, peer("10.1.1.1"), false);
            assertFalse(outcome.internal());
            assertEquals("10.1.1.1", headers.get("x-envoy-external-address"));
        }

        @ParameterizedTest
        @ValueSource(strings = {"10.0.0.1", "172.16.0.1", "172.31.255.255", "192.168.0.1", "127.0.0.1", "fd00::1", "::1"})
        void defaultInternalAddresses(String ip) {
            assertTrue(mutator(EDGE).mutate(headers(), peer(ip), false).internal());
            assertTrue(InternalAddressConfig.defaults().isInternal(InetAddress.ofLiteral(ip)));
        }

        @ParameterizedTest
        @ValueSource(strings = {"172.15.255.255", "172.32.0.1", "192.169.0.1", "11.0.0.1", "127.0.0.6", "127.17.0.5", "fc00::1", "fe80::1", "2001:db8::1"})
        void notInternalByDefault(String ip) {
            assertFalse(mutator(EDGE).mutate(headers(), peer(ip), false).internal());
            assertFalse(InternalAddressConfig.defaults().isInternal(InetAddress.ofLiteral(ip)));
        }
    }

    @Nested
    class EnvoyControlHeaders {

        private static final List<String> INTERNAL_ONLY = List.of("x-envoy-retriable-status-codes",
                "x-envoy-retriable-header-names", "x-envoy-retry-on", "x-envoy-retry-grpc-on", "x-envoy-max-retries",
                "x-envoy-upstream-alt-stat-name", "x-envoy-upstream-rq-timeout-ms", "x-envoy-upstream-rq-per-try-timeout-ms",
                "x-envoy-upstream-rq-timeout-alt-response", "x-envoy-expected-rq-timeout-ms", "x-envoy-force-trace",
                "x-envoy-ip-tags", "x-envoy-original-url", "x-envoy-hedge-on-per-try-timeout", "x-envoy-original-path");
        private static final List<String> EDGE_ONLY = List.of("x-envoy-decorator-operation",
                "x-envoy-downstream-service-cluster", "x-envoy-downstream-service-node");

        private HttpHeaders withAllControlHeaders() {
            HttpHeaders headers = headers();
            INTERNAL_ONLY.forEach(name -> headers.add(name, "1"));
            EDGE_ONLY.forEach(name -> headers.add(name, "1"));
            return headers;
        }

        @Test
        void edgeRequestLosesAllOfThem() {
            HttpHeaders headers = withAllControlHeaders();
            mutator(EDGE).mutate(headers, peer("198.51.100.7"), false);
            INTERNAL_ONLY.forEach(name -> assertFalse(headers.contains(name), name));
            EDGE_ONLY.forEach(name -> assertFalse(headers.contains(name), name));
        }

        @Test
        void externalNonEdgeRequestKeepsTheEdgeOnlyOnes() {
            HttpHeaders headers = withAllControlHeaders();
            headers.add("x-forwarded-for", "198.51.100.7");
            mutator(TRANSPARENT).mutate(headers, peer("10.0.0.9"), false);
            INTERNAL_ONLY.forEach(name -> assertFalse(headers.contains(name), name));
            EDGE_ONLY.forEach(name -> assertTrue(headers.contains(name), name));
        }

        @Test
        void internalRequestKeepsThemAll() {
            HttpHeaders headers = withAllControlHeaders();
            mutator(EDGE).mutate(headers, peer("10.1.2.3"), false);
            INTERNAL_ONLY.forEach(name -> assertTrue(headers.contains(name), name));
            EDGE_ONLY.forEach(name -> assertTrue(headers.contains(name), name));
        }

        @Test
        void listsMatchTheMutator() {
            assertEquals(INTERNAL_ONLY, RequestHeaderMutator.INTERNAL_ONLY_HEADERS.stream().map(AsciiString::toString).toList());
            assertEquals(EDGE_ONLY, RequestHeaderMutator.EDGE_ONLY_HEADERS.stream().map(AsciiString::toString).toList());
        }
    }

    @Nested
    class ForwardedProto {

        @Test
        void edgeWithoutTrustedHopsOverwritesDownstreamValue() {
            HttpHeaders headers = headers("x-forwarded-proto", "https");
            mutator(EDGE).mutate(headers, peer("198.51.100.7"), false);
            assertEquals("http", headers.get("x-forwarded-proto"));
        }

        @Test
        void edgeWithoutTrustedHopsReportsTls() {
            HttpHeaders headers = headers("x-forwarded-proto", "http");
            mutator(EDGE).mutate(headers, peer("198.51.100.7"), true);
            assertEquals("https", headers.get("x-forwarded-proto"));
        }

        @Test
        void edgeWithTrustedHopsKeepsDownstreamValue() {
            HttpHeaders headers = headers("x-forwarded-proto", "https", "x-forwarded-for", "203.0.113.1");
            mutator(EDGE.withXffNumTrustedHops(1)).mutate(headers, peer("198.51.100.7"), false);
            assertEquals("https", headers.get("x-forwarded-proto"));
        }

        @Test
        void edgeWithTrustedHopsSetsItWhenMissing() {
            HttpHeaders headers = headers();
            mutator(EDGE.withXffNumTrustedHops(1)).mutate(headers, peer("198.51.100.7"), true);
            assertEquals("https", headers.get("x-forwarded-proto"));
        }

        @Test
        void transparentKeepsDownstreamValueEvenWithoutHops() {
            // Only the use_remote_address branch overwrites; a transparent Envoy sets it only when missing.
            HttpHeaders headers = headers("x-forwarded-proto", "https");
            mutator(TRANSPARENT).mutate(headers, peer("10.0.0.9"), false);
            assertEquals("https", headers.get("x-forwarded-proto"));
        }

        @Test
        void transparentSetsItWhenMissing() {
            HttpHeaders headers = headers();
            mutator(TRANSPARENT).mutate(headers, peer("10.0.0.9"), false);
            assertEquals("http", headers.get("x-forwarded-proto"));
        }
    }

    @Nested
    class RequestId {

        @Test
        void generatedWhenMissingOnInternalRequest() {
            HttpHeaders headers = headers();
            mutator(EDGE).mutate(headers, peer("10.1.2.3"), false);
            assertEquals(GENERATED_ID, headers.get("x-request-id"));
        }

        @Test
        void generatedWhenEmpty() {
            HttpHeaders headers = headers("x-request-id", "");
            mutator(TRANSPARENT).mutate(headers, peer("10.1.2.3"), false);
            assertEquals(GENERATED_ID, headers.get("x-request-id"));
        }

        @Test
        void keptOnNonEdgeRequest() {
            HttpHeaders headers = headers("x-request-id", "from-client", "x-forwarded-for", "198.51.100.7");
            mutator(TRANSPARENT).mutate(headers, peer("10.0.0.9"), false);
            assertEquals("from-client", headers.get("x-request-id"));
        }

        @Test
        void keptOnInternalEdgeHopRequest() {
            HttpHeaders headers = headers("x-request-id", "from-client");
            mutator(EDGE).mutate(headers, peer("10.1.2.3"), false);
            assertEquals("from-client", headers.get("x-request-id"));
        }

        @Test
        void overwrittenOnEdgeRequest() {
            HttpHeaders headers = headers("x-request-id", "from-client");
            mutator(EDGE).mutate(headers, peer("198.51.100.7"), false);
            assertEquals(GENERATED_ID, headers.get("x-request-id"));
        }

        @Test
        void preservedOnEdgeRequestWhenConfigured() {
            HttpHeaders headers = headers("x-request-id", "from-client");
            mutator(EDGE.withRequestId(true, true, false)).mutate(headers, peer("198.51.100.7"), false);
            assertEquals("from-client", headers.get("x-request-id"));
        }

        @Test
        void neverAddedWhenGenerationIsOff() {
            HttpHeaders headers = headers();
            mutator(EDGE.withRequestId(false, false, false)).mutate(headers, peer("198.51.100.7"), false);
            assertFalse(headers.contains("x-request-id"));
        }

        @Test
        void defaultGeneratorMakesDistinctVersion4Uuids() {
            RequestHeaderMutator mutator = RequestHeaderMutator.of(EDGE);
            HttpHeaders first = headers();
            HttpHeaders second = headers();
            mutator.mutate(first, peer("198.51.100.7"), false);
            mutator.mutate(second, peer("198.51.100.7"), false);
            UUID uuid = UUID.fromString(first.get("x-request-id"));
            assertEquals(4, uuid.version());
            assertEquals(2, uuid.variant());
            assertEquals(uuid.toString(), first.get("x-request-id"));
            assertNotEquals(first.get("x-request-id"), second.get("x-request-id"));
        }

        @Test
        void generatedIdsAreCanonicalVersion4UuidsAndUnique() {
            java.util.Set<String> seen = new java.util.HashSet<>();
            java.util.regex.Pattern canonical = java.util.regex.Pattern.compile(
                    "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
            for (int i = 0; i < 20_000; i++) {
                String id = RequestHeaderMutator.randomUuid().toString();
                assertTrue(canonical.matcher(id).matches(), id);
                assertEquals(id, UUID.fromString(id).toString(), "UUID's own canonical form");
                assertTrue(seen.add(id), "repeated: " + id);
            }
        }

        /** The header encoder reads a generated id char by char: each char, a slice and the length are its text's. */
        @Test
        void aGeneratedIdReadsAsItsTextCharByChar() {
            for (int i = 0; i < 2_000; i++) {
                CharSequence id = RequestHeaderMutator.randomUuid();
                String text = UUID.fromString(id.toString()).toString();
                assertEquals(text.length(), id.length());
                for (int c = 0; c < text.length(); c++) {
                    assertEquals(text.charAt(c), id.charAt(c), text + " at " + c);
                }
                assertEquals(text.substring(14, 23), id.subSequence(14, 23).toString());
                assertTrue(io.netty.util.AsciiString.contentEquals(text, id));
            }
            assertThrows(IndexOutOfBoundsException.class, () -> RequestHeaderMutator.randomUuid().charAt(36));
        }

        @Test
        void echoedInResponseWhenAlwaysSet() {
            HttpHeaders response = headers();
            mutator(EDGE.withRequestId(true, false, true)).mutateResponse(response, headers("x-request-id", "abc"));
            assertEquals("abc", response.get("x-request-id"));
        }

        @Test
        void echoedInResponseWhenTraceIsForced() {
            HttpHeaders response = headers();
            mutator(EDGE).mutateResponse(response, headers("x-request-id", "abc", "x-envoy-force-trace", "true"));
            assertEquals("abc", response.get("x-request-id"));
        }

        @Test
        void notEchoedByDefault() {
            HttpHeaders response = headers();
            mutator(EDGE).mutateResponse(response, headers("x-request-id", "abc"));
            assertFalse(response.contains("x-request-id"));
        }
    }

    @Nested
    class XffAppend {

        @Test
        void skipXffAppendLeavesXffUntouchedButStillUsesThePeer() {
            HttpHeaders headers = headers("x-forwarded-for", "203.0.113.1");
            Outcome outcome = mutator(EDGE.withSkipXffAppend(true)).mutate(headers, peer("198.51.100.7"), false);
            assertEquals("203.0.113.1", headers.get("x-forwarded-for"));
            assertEquals(peer("198.51.100.7"), outcome.trustedClientAddress());
            assertEquals("198.51.100.7", headers.get("x-envoy-external-address"));
        }

        @Test
        void skipXffAppendDoesNotCreateXff() {
            HttpHeaders headers = headers();
            mutator(EDGE.withSkipXffAppend(true)).mutate(headers, peer("198.51.100.7"), false);
            assertFalse(headers.contains("x-forwarded-for"));
        }

        @Test
        void loopbackPeerIsReplacedByTheProxysOwnAddress() {
            HttpHeaders headers = headers();
            ForwardedForConfig config = EDGE.withLocalAddress(InetAddress.ofLiteral("10.3.2.1"));
            Outcome outcome = mutator(config).mutate(headers, peer("127.0.0.1"), false);
            assertEquals("10.3.2.1", headers.get("x-forwarded-for"));
            // The trusted client is still the peer itself.
            assertEquals(peer("127.0.0.1"), outcome.trustedClientAddress());
        }

        @Test
        void ipv6LoopbackPeerIsReplacedToo() {
            HttpHeaders headers = headers();
            mutator(EDGE.withLocalAddress(InetAddress.ofLiteral("fd00::7"))).mutate(headers, peer("::1"), false);
            assertEquals("fd00::7", headers.get("x-forwarded-for"));
        }

        @Test
        void otherLoopbackAddressesAreAppendedAsThemselves() {
            // Envoy's isLoopbackAddress is exactly 127.0.0.1: the embedded cluster's 127.x.y.z peers stay visible.
            HttpHeaders headers = headers("x-forwarded-for", "127.120.0.9");
            Outcome outcome = mutator(EDGE.withLocalAddress(InetAddress.ofLiteral("10.3.2.1"))).mutate(headers, peer("127.17.0.5"), false);
            assertEquals("127.120.0.9,127.17.0.5", headers.get("x-forwarded-for"));
            assertTrue(outcome.edgeRequest());
        }

        @Test
        void repeatedXffLinesAreJoinedIntoOne() {
            HttpHeaders headers = headers("x-forwarded-for", "203.0.113.1", "x-forwarded-for", "203.0.113.2");
            mutator(EDGE).mutate(headers, peer("198.51.100.7"), false);
            assertEquals(List.of("203.0.113.1,203.0.113.2,198.51.100.7"), headers.getAll("x-forwarded-for"));
        }

        @Test
        void repeatedXffLinesAreReadAsOneList() {
            HttpHeaders headers = headers("x-forwarded-for", "203.0.113.1", "x-forwarded-for", "203.0.113.2");
            Outcome outcome = mutator(TRANSPARENT).mutate(headers, peer("10.0.0.9"), false);
            assertEquals(fromXff("203.0.113.2"), outcome.trustedClientAddress());
            assertFalse(outcome.internal());
        }
    }

    @Nested
    class Ipv6 {

        @Test
        void ipv6PeerIsAppendedInCanonicalForm() {
            HttpHeaders headers = headers("x-forwarded-for", "203.0.113.1");
            Outcome outcome = mutator(EDGE).mutate(headers, peer("2001:DB8:0:0:0:0:0:5"), false);
            assertEquals("203.0.113.1,2001:db8::5", headers.get("x-forwarded-for"));
            assertEquals("2001:db8::5", headers.get("x-envoy-external-address"));
            assertEquals(peer("2001:db8::5"), outcome.trustedClientAddress());
        }

        @Test
        void ipv6XffEntryIsTheTrustedClient() {
            HttpHeaders headers = headers("x-forwarded-for", "2001:db8::1, 2001:DB8:0:0::7");
            Outcome outcome = mutator(TRANSPARENT).mutate(headers, peer("10.0.0.9"), false);
            assertEquals(fromXff("2001:db8::7"), outcome.trustedClientAddress());
        }

        @Test
        void ipv6ExternalAddressFromTrustedHop() {
            HttpHeaders headers = headers("x-forwarded-for", "2001:0db8:0000:0000:0001:0000:0000:0001");
            Outcome outcome = mutator(EDGE.withXffNumTrustedHops(1)).mutate(headers, peer("2001:db8::5"), false);
            assertEquals("2001:db8::1:0:0:1", headers.get("x-envoy-external-address"));
            assertEquals(0, outcome.trustedClientAddress().getPort());
        }

        @Test
        void ipv6UniqueLocalPeerIsInternal() {
            HttpHeaders headers = headers();
            Outcome outcome = mutator(EDGE).mutate(headers, peer("fd12:3456::1"), false);
            assertTrue(outcome.internal());
            assertEquals("fd12:3456::1", headers.get("x-forwarded-for"));
        }

        @Test
        void singleIpv6UniqueLocalXffEntryIsInternal() {
            HttpHeaders headers = headers("x-forwarded-for", "fd00::10");
            assertTrue(mutator(TRANSPARENT).mutate(headers, peer("10.0.0.9"), false).internal());
        }
    }

    @Nested
    class MalformedXff {

        @ParameterizedTest
        @ValueSource(strings = {"unknown", "203.0.113.7:8080", "[2001:db8::1]", "[2001:db8::1]:443", "2001:db8::1%eth0",
                "example.com", "203.0.113.007", "203.0.113", "203.0.113.1.5", "256.0.0.1", "203.0.113.1,", ""})
        void transparentFallsBackToPeerAndIsNeverInternal(String entry) {
            HttpHeaders headers = headers("x-forwarded-for", entry);
            Outcome outcome = mutator(TRANSPARENT).mutate(headers, peer("10.0.0.9"), false);
            assertEquals(peer("10.0.0.9"), outcome.trustedClientAddress());
            assertFalse(outcome.internal());
            assertEquals(entry, headers.get("x-forwarded-for"));
        }

        @Test
        void edgeWithTrustedHopFallsBackToPeerAndStillAppends() {
            HttpHeaders headers = headers("x-forwarded-for", "garbage");
            Outcome outcome = mutator(EDGE.withXffNumTrustedHops(1)).mutate(headers, peer("198.51.100.7"), false);
            assertEquals(peer("198.51.100.7"), outcome.trustedClientAddress());
            assertEquals("garbage,198.51.100.7", headers.get("x-forwarded-for"));
            assertEquals("198.51.100.7", headers.get("x-envoy-external-address"));
        }

        @Test
        void onlyTheChosenEntryIsValidated() {
            // Skipped entries are counted, not parsed, exactly as Utility::getLastAddressFromXFF.
            HttpHeaders headers = headers("x-forwarded-for", "203.0.113.9, not-an-ip, also-not");
            Outcome outcome = mutator(TRANSPARENT.withXffNumTrustedHops(2)).mutate(headers, peer("10.0.0.9"), false);
            assertEquals(fromXff("203.0.113.9"), outcome.trustedClientAddress());
        }

        @Test
        void whitespaceAroundEntriesIsIgnored() {
            HttpHeaders headers = headers("x-forwarded-for", "203.0.113.9 ,\t198.51.100.1");
            Outcome outcome = mutator(TRANSPARENT).mutate(headers, peer("10.0.0.9"), false);
            assertEquals(fromXff("198.51.100.1"), outcome.trustedClientAddress());
        }

        @Test
        void longXffWithManyHopsIsHandled() {
            StringBuilder xff = new StringBuilder();
            for (int i = 0; i < 20_000; i++) {
                xff.append(i == 0 ? "" : ", ").append("198.51.").append((i >> 8) & 0xff).append('.').append(i & 0xff);
            }
            HttpHeaders headers = headers("x-forwarded-for", xff.toString());
            Outcome outcome = mutator(TRANSPARENT.withXffNumTrustedHops(19_999)).mutate(headers, peer("10.0.0.9"), false);
            assertEquals(fromXff("198.51.0.0"), outcome.trustedClientAddress());
        }
    }

    @Nested
    class Config {

        @Test
        void trustedCidrsCannotBeMixedWithUseRemoteAddress() {
            assertThrows(IllegalArgumentException.class,
                    () -> EDGE.withXffTrustedCidrs(List.of(CidrRange.parse("10.0.0.0/8")), false));
        }

        @Test
        void negativeHopsAreRejected() {
            assertThrows(IllegalArgumentException.class, () -> TRANSPARENT.withXffNumTrustedHops(-1));
        }

        @Test
        void defaultsAreEnvoysHcmDefaults() {
            ForwardedForConfig config = ForwardedForConfig.defaults();
            assertFalse(config.useRemoteAddress());
            assertEquals(0, config.xffNumTrustedHops());
            assertFalse(config.skipXffAppend());
            assertNull(config.xffTrustedCidrs());
            assertTrue(config.generateRequestId());
            assertFalse(config.preserveExternalRequestId());
            assertFalse(config.alwaysSetRequestIdInResponse());
            assertEquals(InternalAddressConfig.defaults(), config.internalAddresses());
        }

        @Test
        void unresolvedPeerIsRejected() {
            assertThrows(IllegalArgumentException.class, () -> mutator(EDGE)
                    .mutate(headers(), java.net.InetSocketAddress.createUnresolved("client.example", 1), false));
        }
    }
}
