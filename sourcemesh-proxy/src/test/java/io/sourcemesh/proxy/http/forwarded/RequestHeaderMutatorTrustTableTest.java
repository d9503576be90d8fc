package io.sourcemesh.proxy.http.forwarded;

import static io.sourcemesh.proxy.http.forwarded.Requests.fromXff;
import static io.sourcemesh.proxy.http.forwarded.Requests.mutator;
import static io.sourcemesh.proxy.http.forwarded.Requests.peer;
import static io.sourcemesh.proxy.http.forwarded.Requests.xff;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.netty.handler.codec.http.HttpHeaders;
import java.net.InetSocketAddress;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The trusted-client table of use_remote_address × xff_num_trusted_hops (Envoy headers.rst, x-forwarded-for):
 * false/0 rightmost XFF entry; true/0 the peer; false/N the (N+1)th from the right; true/N the Nth from the right;
 * the peer whenever XFF is absent or has too few entries.
 */
class RequestHeaderMutatorTrustTableTest {

    private static final String PEER = "192.0.2.5";

    @ParameterizedTest(name = "use_remote_address={0} hops={1} xff=''{2}'' -> {3}")
    @CsvSource(delimiter = '|', nullValues = "-", textBlock = """
            false | 0 | -                                   | peer
            false | 0 | 198.51.100.1                        | 198.51.100.1
            false | 0 | 203.0.113.1, 198.51.100.1           | 198.51.100.1
            true  | 0 | -                                   | peer
            true  | 0 | 203.0.113.1, 198.51.100.1           | peer
            false | 1 | -                                   | peer
            false | 1 | 203.0.113.1, 198.51.100.1           | 203.0.113.1
            false | 1 | 198.51.100.1                        | peer
            false | 2 | 203.0.113.9, 203.0.113.1, 198.51.100.1 | 203.0.113.9
            false | 3 | 203.0.113.9, 203.0.113.1, 198.51.100.1 | peer
            true  | 1 | -                                   | peer
            true  | 1 | 203.0.113.1, 198.51.100.1           | 198.51.100.1
            true  | 2 | 203.0.113.1, 198.51.100.1           | 203.0.113.1
            true  | 3 | 203.0.113.1, 198.51.100.1           | peer
            """)
    void trustedClientAddress(boolean useRemoteAddress, int hops, String forwardedFor, String expected) {
        ForwardedForConfig config = ForwardedForConfig.defaults().withUseRemoteAddress(useRemoteAddress).withXffNumTrustedHops(hops);
        HttpHeaders headers = xff(forwardedFor);

        Outcome outcome = mutator(config).mutate(headers, peer(PEER), false);

        InetSocketAddress want = expected.equals("peer") ? peer(PEER) : fromXff(expected);
        assertEquals(want, outcome.trustedClientAddress());
        // A peer keeps its port; an address read from XFF has none.
        assertEquals(expected.equals("peer") ? 40000 : 0, outcome.trustedClientAddress().getPort());
        String appended = forwardedFor == null ? PEER : forwardedFor + "," + PEER;
        assertEquals(useRemoteAddress ? appended : forwardedFor, headers.get("x-forwarded-for"));
        assertEquals(useRemoteAddress, outcome.edgeRequest());
        assertEquals(useRemoteAddress ? want.getAddress().getHostAddress() : null, headers.get("x-envoy-external-address"));
    }
}
