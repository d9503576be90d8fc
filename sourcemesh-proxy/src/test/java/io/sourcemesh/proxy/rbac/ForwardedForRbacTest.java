package io.sourcemesh.proxy.rbac;

import static io.sourcemesh.proxy.testing.Configs.chain;
import static io.sourcemesh.proxy.testing.Configs.cluster;
import static io.sourcemesh.proxy.testing.Configs.hcm;
import static io.sourcemesh.proxy.testing.Configs.listener;
import static io.sourcemesh.proxy.testing.Configs.proxy;
import static io.sourcemesh.proxy.testing.Configs.routeAll;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.Origin;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * remote_ip vs direct_remote_ip behind 0, 1 or 2 real front proxies: the RBAC proxy trusts exactly
 * as many XFF hops as there are proxies in front of it (use_remote_address + xff_num_trusted_hops),
 * so a client that forges X-Forwarded-For is still judged by the address its first proxy saw.
 */
class ForwardedForRbacTest {
    private static final String ALLOW_42 = """
            rules:
              action: ALLOW
              policies:
                the-good-client:
                  permissions: [{any: true}]
                  principals: [{remote_ip: {address_prefix: 127.0.0.42, prefix_len: 32}}]
                front-proxies-admin:
                  permissions: [{url_path: {path: {prefix: /front-admin}}}]
                  principals: [{direct_remote_ip: {address_prefix: 127.0.0.60, prefix_len: 31}}]
            """;

    private final List<Proxy> proxies = new ArrayList<>();
    private Origin origin;

    @TempDir
    Path dir;

    @BeforeEach
    void startOrigin() throws Exception {
        origin = Origin.start();
    }

    @AfterEach
    void stop() {
        proxies.forEach(Proxy::close);
        origin.close();
    }

    /** Front proxies as Envoy edges (use_remote_address, 0 trusted hops), each leaving from 127.0.0.6i. */
    private String entry(int hops) {
        Proxy rbac = Proxy.start(BootstrapLoader.loadText(HttpRbacEndToEndTest.bootstrap(origin.port(), dir.resolve("a.log"), ALLOW_42,
                "use_remote_address: true\nxff_num_trusted_hops: " + hops + "\n")), 1);
        proxies.add(rbac);
        InetSocketAddress next = new InetSocketAddress("127.0.0.1", rbac.listenerAddress("http").getPort());
        for (int i = 0; i < hops; i++) {
            Proxy front = Proxy.start(proxy(List.of(listener("front", "127.0.0.1", List.of(), chain(hcm(routeAll("next"), true, List.of())))),
                    List.of(cluster("next", Optional.of(new InetSocketAddress("127.0.0." + (60 + i), 0)), next))), 1);
            proxies.add(front);
            next = new InetSocketAddress("127.0.0.1", front.listenerAddress("front").getPort());
        }
        return "http://127.0.0.1:" + next.getPort();
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2})
    void aForgedXffNeverLetsADeniedClientThrough(int hops) {
        String url = entry(hops);
        assertEquals(200, Curl.run("--interface", "127.0.0.42", url + "/get").status(), "the allowed client");
        assertEquals(403, Curl.run("--interface", "127.0.0.43", url + "/get").status(), "the denied client");
        for (String forged : List.of("127.0.0.42", "127.0.0.42, 127.0.0.42", "127.0.0.42,127.0.0.42,127.0.0.42", "1.2.3.4, 127.0.0.42")) {
            Curl.Result r = Curl.run("--interface", "127.0.0.43", "-H", "X-Forwarded-For: " + forged, url + "/get");
            assertEquals(403, r.status(), hops + " hops, forged X-Forwarded-For: " + forged);
        }
        int seen = origin.seen().size();
        assertEquals(1, seen, "only the allowed request reached the app");
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void directRemoteIpIsThePeerWhateverXffSays(int hops) {
        String url = entry(hops);
        // /front-admin is allowed to the proxy directly in front (127.0.0.60 or .61), whoever the client is
        assertEquals(200, Curl.run("--interface", "127.0.0.43", url + "/front-admin").status());
        assertEquals(200, Curl.run("--interface", "127.0.0.43", "-H", "X-Forwarded-For: 9.9.9.9", url + "/front-admin").status());
    }
}
