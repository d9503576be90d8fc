package io.sourcemesh.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.HttpBootstrap;
import io.sourcemesh.proxy.testing.Origin;
import io.sourcemesh.proxy.upstream.RingPicks;
import io.sourcemesh.proxy.upstream.XxHash64;
import java.nio.charset.StandardCharsets;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Route hash policies on a ring_hash cluster of three origins, through real curl on loopback: a cookie policy with a
 * ttl answers a request without the cookie with Envoy's Set-Cookie (source/common/router/router.cc onUpstreamHeaders,
 * source/common/http/utility.cc makeSetCookieValue) and the requests that send it back reach one origin; a query
 * parameter's first value keeps its requests on one origin (source/common/http/hash_policy.cc).
 */
class HashPolicyEndToEndTest {
    private static final Pattern SET_COOKIE = Pattern.compile("(?mi)^set-cookie: ([^\\r\\n]*)");

    @TempDir
    Path dir;
    private final List<Origin> origins = new ArrayList<>();
    private Proxy proxy;

    @BeforeEach
    void start() throws Exception {
        for (int i = 0; i < 3; i++) {
            origins.add(Origin.start());
        }
        proxy = Proxy.start(BootstrapLoader.loadText(HttpBootstrap.toOrigins(origins.stream().mapToInt(Origin::port).toArray())
                .routes("""
                        - match: {prefix: /cookie}
                          route: {cluster: origin, hash_policy: [{cookie: {name: affinity, ttl: 60s, path: /}}]}
                        - match: {prefix: /session}
                          route: {cluster: origin, hash_policy: [{cookie: {name: affinity, ttl: 0s}}]}
                        - match: {prefix: /nottl}
                          route: {cluster: origin, hash_policy: [{cookie: {name: affinity}}]}
                        - match: {prefix: /query}
                          route: {cluster: origin, hash_policy: [{query_parameter: {name: user}}]}
                        - match: {prefix: /header}
                          route: {cluster: origin, hash_policy: [{header: {header_name: x-user}}]}
                        - match: {prefix: /both}
                          route: {cluster: origin, hash_policy: [{header: {header_name: x-a}}, {header: {header_name: x-b}}]}
                        - match: {prefix: /terminal}
                          route:
                            cluster: origin
                            hash_policy:
                            - {connection_properties: {source_ip: false}, terminal: true}
                            - {header: {header_name: x-a}, terminal: true}
                            - {header: {header_name: x-b}}
                        """)
                .clusterFields("lb_policy: RING_HASH")
                .yaml()), 1);
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        origins.forEach(Origin::close);
    }

    private String url(String path) {
        return "http://127.0.0.1:" + proxy.listenerAddress("http").getPort() + path;
    }

    /** Runs one curl (a new connection each time) and says which origin answered it. */
    private int originOf(String... curlArgs) {
        int[] before = origins.stream().mapToInt(o -> o.seen().size()).toArray();
        Curl.Result r = Curl.run(curlArgs);
        assertEquals(200, r.status(), r.err());
        for (int i = 0; i < origins.size(); i++) {
            if (origins.get(i).seen().size() > before[i]) {
                return i;
            }
        }
        throw new AssertionError("no origin saw " + List.of(curlArgs));
    }

    @Test
    void aGeneratedCookieKeepsTheClientOnOneOrigin() {
        Path jar = dir.resolve("jar");
        Curl.Result first = Curl.exec(List.of("curl", "-sS", "--noproxy", "*", "-D", "-", "-c", jar.toString(),
                "-o", "/dev/null", "-w", "%{local_port}\n", url("/cookie/a")));
        Matcher m = SET_COOKIE.matcher(first.out());
        assertTrue(m.find(), first.out());
        // The value is xxHash64 of the client's then the proxy's address, as Envoy's addDownstreamSetCookie.
        int clientPort = Integer.parseInt(first.out().lines().filter(l -> l.matches("\\d+")).findFirst().orElseThrow());
        String value = HashKeys.generatedValue(new InetSocketAddress("127.0.0.1", clientPort), proxy.listenerAddress("http"));
        assertEquals("affinity=\"" + value + "\"; Max-Age=60; Path=/; HttpOnly", m.group(1));
        assertFalse(m.find(), "one Set-Cookie");

        Set<Integer> reached = new HashSet<>();
        for (int i = 0; i < 12; i++) {
            Curl.Result again = Curl.run("-D", "-", "-b", jar.toString(), "-o", "/dev/null", url("/cookie/a"));
            assertFalse(SET_COOKIE.matcher(again.out()).find(), "a request with the cookie gets none: " + again.out());
            reached.add(originOf("-b", jar.toString(), "-o", "/dev/null", url("/cookie/b")));
        }
        assertEquals(1, reached.size(), "the cookie's requests reached " + reached);
    }

    @Test
    void cookieValuesSpreadAndEachSticks() {
        Set<Integer> all = new HashSet<>();
        for (int user = 0; user < 12; user++) {
            Set<Integer> reached = new HashSet<>();
            for (int i = 0; i < 4; i++) {
                reached.add(originOf("-H", "Cookie: other=1; affinity=\"user-" + user + "\"", url("/nottl")));
            }
            assertEquals(1, reached.size(), "user " + user + " reached " + reached);
            all.addAll(reached);
        }
        assertTrue(all.size() >= 2, "twelve cookies, one origin: " + all);
    }

    /** Without the cookie each new connection gets its own generated value (its port differs), so the origins vary. */
    @Test
    void withoutTheCookieBackRequestsSpread() {
        Set<Integer> reached = new HashSet<>();
        for (int i = 0; i < 24; i++) {
            reached.add(originOf("-o", "/dev/null", url("/cookie/a")));
        }
        assertTrue(reached.size() >= 2, "24 connections, one origin: " + reached);
    }

    @Test
    void aZeroTtlIsASessionCookieAndNoTtlNoCookie() {
        Curl.Result session = Curl.run("-D", "-", "-o", "/dev/null", url("/session"));
        Matcher m = SET_COOKIE.matcher(session.out());
        assertTrue(m.find(), session.out());
        assertTrue(m.group(1).matches("affinity=\"[0-9a-f]{16}\"; HttpOnly"), m.group(1));

        // No ttl: Envoy's CookieHashMethod makes nothing up; no key, so the ring picks at random.
        Set<Integer> reached = new HashSet<>();
        for (int i = 0; i < 24; i++) {
            Curl.Result r = Curl.run("-D", "-", "-o", "/dev/null", url("/nottl"));
            assertFalse(SET_COOKIE.matcher(r.out()).find(), r.out());
            reached.add(originOf("-o", "/dev/null", url("/nottl")));
        }
        assertTrue(reached.size() >= 2, "no key, one origin: " + reached);
    }

    private static long xx(String v) {
        return XxHash64.hash(v.getBytes(StandardCharsets.US_ASCII));
    }

    /** The origin the ring (built as the proxy's, over the same ports) gives a hash. */
    private int originFor(long hash) {
        List<InetSocketAddress> endpoints = origins.stream().map(o -> new InetSocketAddress("127.0.0.1", o.port())).toList();
        return endpoints.indexOf(RingPicks.pick(endpoints, hash));
    }

    /**
     * A header policy hashes every value of the header, sorted (Envoy's HeaderHashMethod, since envoyproxy/envoy#15486:
     * HashUtil::xxHash64 over the values, each seeded with the one before), so their order does not matter. The values
     * are chosen so that neither one alone leads where both do: hashing only the first would reach another origin.
     */
    @Test
    void aHeaderPolicyHashesAllItsValuesInAnyOrder() {
        for (int i = 0; i < 1000; i++) {
            String a = "a" + i;
            String b = "b" + i;
            int both = originFor(XxHash64.hash(b.getBytes(StandardCharsets.US_ASCII), xx(a)));
            if (both == originFor(xx(a)) || both == originFor(xx(b))) {
                continue;
            }
            assertEquals(both, originOf("-H", "x-user: " + a, "-H", "x-user: " + b, url("/header")));
            assertEquals(both, originOf("-H", "x-user: " + b, "-H", "x-user: " + a, url("/header")), "the order does not matter");
            assertEquals(originFor(xx(a)), originOf("-H", "x-user: " + a, url("/header")), "one value hashes as itself");
            return;
        }
        throw new AssertionError("no pair of values whose hashes lead apart");
    }

    /**
     * Several policies fold their hashes (Envoy's HashPolicyImpl::generateHash: the hash so far rotated left by one,
     * xor the next); a terminal policy that yields one ends the fold, one that yields none does not, and a
     * connection_properties policy without source_ip is no policy at all.
     */
    @Test
    void policiesFoldTheirHashesUntilATerminalOneHasAHash() {
        for (int i = 0; i < 1000; i++) {
            String a = "a" + i;
            String b = "b" + i;
            int folded = originFor(Long.rotateLeft(xx(a), 1) ^ xx(b));
            if (folded == originFor(xx(a)) || folded == originFor(xx(b))) {
                continue;
            }
            assertEquals(folded, originOf("-H", "x-a: " + a, "-H", "x-b: " + b, url("/both")));
            assertEquals(originFor(xx(b)), originOf("-H", "x-b: " + b, url("/both")), "the policy without a value adds nothing");
            assertEquals(originFor(xx(a)), originOf("-H", "x-a: " + a, "-H", "x-b: " + b, url("/terminal")),
                    "the terminal policy with a hash ends the fold");
            assertEquals(originFor(xx(b)), originOf("-H", "x-b: " + b, url("/terminal")),
                    "a terminal policy without one does not");
            return;
        }
        throw new AssertionError("no pair of values whose hashes lead apart");
    }

    @Test
    void aQueryParameterKeepsItsRequestsOnOneOrigin() {
        Set<Integer> all = new HashSet<>();
        for (int user = 0; user < 12; user++) {
            Set<Integer> reached = new HashSet<>();
            for (int i = 0; i < 4; i++) {
                reached.add(originOf(url("/query?a=" + i + "&user=u" + user + "&user=other" + i)));
            }
            assertEquals(1, reached.size(), "user " + user + " reached " + reached);
            all.addAll(reached);
        }
        assertTrue(all.size() >= 2, "twelve users, one origin: " + all);
        Set<Integer> none = new HashSet<>();
        for (int i = 0; i < 24; i++) {
            none.add(originOf(url("/query?other=" + i)));
        }
        assertTrue(none.size() >= 2, "without the parameter the ring picks at random: " + none);
    }
}
