package io.sourcemesh.proxy.upstream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.HttpBootstrap;
import io.sourcemesh.proxy.testing.Origin;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A MAGLEV cluster of three origins behind a route hashing a header, through real curl on loopback: a header value keeps
 * every request (each a new connection) on one origin, the one Envoy's Maglev table of these endpoints gives the value's
 * xxHash64 (source/extensions/load_balancing_policies/maglev/maglev_lb.cc, source/common/http/hash_policy.cc), and
 * values spread over the origins.
 */
class MaglevEndToEndTest {
    private static final int TABLE_SIZE = 101;

    private final List<Origin> origins = new ArrayList<>();
    private Proxy proxy;

    @BeforeEach
    void start() throws Exception {
        for (int i = 0; i < 3; i++) {
            origins.add(Origin.start());
        }
        proxy = Proxy.start(BootstrapLoader.loadText(HttpBootstrap.toOrigins(origins.stream().mapToInt(Origin::port).toArray())
                .routes("""
                        - match: {prefix: /}
                          route: {cluster: origin, hash_policy: [{header: {header_name: x-user}}]}
                        """)
                .clusterFields("""
                        lb_policy: MAGLEV
                        maglev_lb_config: {table_size: %d}
                        """.formatted(TABLE_SIZE))
                .yaml()), 1);
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        origins.forEach(Origin::close);
    }

    /** Runs one curl (a new connection each time) and says which origin answered it. */
    private int originOf(String user) {
        int[] before = origins.stream().mapToInt(o -> o.seen().size()).toArray();
        Curl.Result r = Curl.run("-H", "x-user: " + user, "-o", "/dev/null",
                "http://127.0.0.1:" + proxy.listenerAddress("http").getPort() + "/");
        assertEquals(200, r.status(), r.err());
        for (int i = 0; i < origins.size(); i++) {
            if (origins.get(i).seen().size() > before[i]) {
                return i;
            }
        }
        throw new AssertionError("no origin saw user " + user);
    }

    @Test
    void aHeaderValueSticksToTheOriginEnvoysTableGivesIt() {
        List<UpstreamHost> hosts = origins.stream().map(o -> new UpstreamHost(o.address(), 1)).toList();
        MaglevTable envoys = MaglevTable.of(hosts, TABLE_SIZE);
        Set<Integer> expected = new HashSet<>();
        Set<Integer> reached = new HashSet<>();
        for (int user = 0; user < 12; user++) {
            // Envoy's HeaderHashMethod: the request's hash is xxHash64 of the header's value.
            int want = hosts.indexOf(envoys.choose(XxHash64.hash(("user-" + user).getBytes(StandardCharsets.UTF_8))));
            expected.add(want);
            for (int i = 0; i < 3; i++) {
                int got = originOf("user-" + user);
                assertEquals(want, got, "user-" + user + ", request " + i);
                reached.add(got);
            }
        }
        assertEquals(expected, reached);
        assertTrue(reached.size() >= 2, "twelve values, one origin: " + reached);
    }
}
