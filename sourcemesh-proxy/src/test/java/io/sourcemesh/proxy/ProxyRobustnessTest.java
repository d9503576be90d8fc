package io.sourcemesh.proxy;

import static io.sourcemesh.proxy.testing.Configs.*;
import static org.junit.jupiter.api.Assertions.*;

import com.google.protobuf.Empty;
import io.sourcemesh.proxy.config.TransportSocketConfig;
import io.sourcemesh.proxy.config.AdminConfig;
import io.sourcemesh.proxy.config.ConfigException;
import io.sourcemesh.proxy.config.FilterChainConfig;
import io.sourcemesh.proxy.config.FilterChainMatch;
import io.sourcemesh.proxy.config.NodeInfo;
import io.sourcemesh.proxy.config.ProxyConfig;
import io.sourcemesh.proxy.config.TlsContextConfig;
import io.sourcemesh.proxy.testing.Origin;
import io.sourcemesh.proxy.testing.RawSocket;
import io.sourcemesh.proxy.testing.TestCertificates;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Start-up errors that name what failed, and errors from the network that are counted, not fatal. */
class ProxyRobustnessTest {
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

    @Test
    void anAccessLogInAMissingDirectoryFailsTheConfigNamingThePath(@TempDir Path dir) {
        Path log = dir.resolve("no/such/dir/access.log");
        ConfigException e = assertThrows(ConfigException.class, () -> Proxy.start(proxy(
                List.of(listener("http", "127.0.0.1", List.of(), chain(hcm(routeAll("origin"), false,
                        List.of(fileLog(log, Map.of("code", "%RESPONSE_CODE%"))))))),
                List.of(staticCluster("origin", origin.address()))), 1));
        assertTrue(e.getMessage().contains(log.toString()), e.getMessage());
        assertTrue(e.getMessage().startsWith("access_log"), e.getMessage());
    }

    @Test
    void portClashesNameTheListenerOrTheAdmin() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            InetSocketAddress busy = (InetSocketAddress) taken.getLocalSocketAddress();
            var clash = new io.sourcemesh.proxy.config.ListenerConfig("ingress", busy, false, false, List.of(),
                    List.of(chain(hcm(routeAll("origin"), false, List.of()))), Optional.empty(), true);
            ConfigException e = assertThrows(ConfigException.class,
                    () -> Proxy.start(proxy(List.of(clash), List.of(staticCluster("origin", origin.address()))), 1));
            assertTrue(e.getMessage().startsWith("listeners.ingress: cannot bind"), e.getMessage());

            ProxyConfig withAdmin = new ProxyConfig("test", NodeInfo.unnamed(), Optional.of(new AdminConfig(busy)),
                    List.of(), List.of(staticCluster("origin", origin.address())), Empty.getDefaultInstance());
            RuntimeException a = assertThrows(RuntimeException.class, () -> Proxy.start(withAdmin, 1));
            assertTrue(a.getMessage().contains("admin") && a.getMessage().contains(String.valueOf(busy.getPort())), a.getMessage());
        }
    }

    @Test
    void failedTlsHandshakesAndExceptionsAreCounted() throws Exception {
        TestCertificates.Pem pem = TestCertificates.selfSigned("a.example.com", "a.example.com");
        TlsContextConfig tls = new TlsContextConfig(List.of(new TlsContextConfig.CertificateConfig(pem.certificate(), pem.privateKey())),
                Optional.empty(), Optional.empty(), List.of("http/1.1"), Optional.empty(), false);
        FilterChainConfig chain = new FilterChainConfig("tls", FilterChainMatch.any(), new TransportSocketConfig.DownstreamTls(tls),
                List.of(hcm(routeAll("origin"), false, List.of())));
        proxy = Proxy.start(proxy(List.of(listener("https", "127.0.0.1", List.of(), chain)),
                List.of(staticCluster("origin", origin.address()))), 1);
        int port = proxy.listenerAddress("https").getPort();
        RawSocket.Reply r = RawSocket.exchange(port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); // plaintext at a TLS chain
        assertTrue(r.closed());
        // The stat prefix is the configured address (port 0 here), as ListenerRuntime.statAddress names it.
        String prefix = "listener.127.0.0.1_0.";
        long deadline = System.currentTimeMillis() + 5000;
        // The handshake's failure and the exception reach their counters from two listeners, in either order.
        while ((proxy.stats().counters().getOrDefault(prefix + "ssl.connection_error", 0L) == 0
                || proxy.stats().counters().getOrDefault(prefix + "downstream_cx_exception", 0L) == 0)
                && System.currentTimeMillis() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(1, proxy.stats().counters().get(prefix + "ssl.connection_error"), proxy.stats().counters().toString());
        assertTrue(proxy.stats().counters().get(prefix + "downstream_cx_exception") >= 1);
    }
}
