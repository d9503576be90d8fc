package io.sourcemesh.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.HttpBootstrap;
import io.sourcemesh.proxy.testing.LogFiles;
import io.sourcemesh.proxy.testing.Origin;
import io.sourcemesh.proxy.testing.RawSocket;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The xff original-IP-detection extension's xff_trusted_cidrs and the connection manager's
 * internal_address_config read as Envoy's CidrRange: an IPv4-mapped prefix is an IPv6 range (it holds
 * a mapped XFF entry, never an IPv4 peer) and an IPv4 prefix_len above 32 is 32. Which peer is trusted
 * decides the client address the access log, the upstream and the policies see.
 */
class XffTrustedCidrsEndToEndTest {
    @TempDir
    Path dir;
    private Origin origin;
    private Proxy proxy;

    @BeforeEach
    void startOrigin() throws Exception {
        origin = Origin.start();
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        origin.close();
    }

    private void start(String trustedCidrs, String internalCidrs) {
        proxy = Proxy.start(BootstrapLoader.loadText(HttpBootstrap.toOrigin(origin.port()).statPrefix("xff").hcmFields("""
                original_ip_detection_extensions:
                - name: envoy.extensions.http.original_ip_detection.xff
                  typed_config:
                    "@type": type.googleapis.com/envoy.extensions.http.original_ip_detection.xff.v3.XffConfig
                    xff_trusted_cidrs: {cidrs: %s}
                internal_address_config: {cidr_ranges: %s}
                """.formatted(trustedCidrs, internalCidrs))
                .accessLog(dir.resolve("access.log"), "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%").yaml()), 1);
    }

    /** Sends one request from 127.0.0.1 with this X-Forwarded-For; the client address the access log wrote. */
    private String clientFor(String xff, int logLine) throws Exception {
        RawSocket.Reply reply = RawSocket.exchange(proxy.listenerAddress("http").getPort(),
                "GET /echo HTTP/1.1\r\nHost: app\r\nX-Forwarded-For: " + xff + "\r\nConnection: close\r\n\r\n");
        assertEquals("HTTP/1.1 200 OK", reply.statusLine());
        return LogFiles.awaitLines(dir.resolve("access.log"), logLine).get(logLine - 1);
    }

    /** An IPv4 prefix_len of 33 is 32 in Envoy: the loopback peer is trusted and the XFF entry is the client. */
    @Test
    void anIpv4PrefixLongerThan32TrustsTheWholeAddress() throws Exception {
        start("[{address_prefix: 127.0.0.1, prefix_len: 33}]", "[]");
        assertEquals("203.0.113.7", clientFor("203.0.113.7", 1));
    }

    /**
     * "::ffff:127.0.0.0/8" is the IPv6 range ::/8 in Envoy, which the IPv4 peer 127.0.0.1 is not in: its XFF
     * is ignored and the peer is the client. Read as the IPv4 127.0.0.0/8 it trusted the peer instead.
     */
    @Test
    void anIpv4MappedPrefixNeverTrustsAnIpv4Peer() throws Exception {
        start("[{address_prefix: \"::ffff:127.0.0.0\", prefix_len: 8}]", "[]");
        assertEquals("127.0.0.1", clientFor("203.0.113.7", 1));
    }

    /** An IPv4-mapped internal range holds a mapped client from XFF and not the same address written as IPv4. */
    @Test
    void anIpv4MappedInternalRangeHoldsMappedClientsOnly() throws Exception {
        start("[{address_prefix: 127.0.0.1, prefix_len: 32}]", "[{address_prefix: \"::ffff:10.0.0.0\", prefix_len: 104}]");
        assertEquals("::ffff:10.0.0.5", clientFor("::ffff:10.0.0.5", 1));
        assertEquals("true", origin.last().header("x-envoy-internal"));
        assertEquals("10.0.0.5", clientFor("10.0.0.5", 2));
        assertNull(origin.last().header("x-envoy-internal"));
    }
}
