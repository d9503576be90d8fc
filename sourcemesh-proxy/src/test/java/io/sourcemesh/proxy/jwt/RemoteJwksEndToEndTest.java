package io.sourcemesh.proxy.jwt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.config.BootstrapLoader;
import io.sourcemesh.proxy.config.ConfigException;
import io.sourcemesh.proxy.config.ProxyConfig;
import io.sourcemesh.proxy.testing.Curl;
import io.sourcemesh.proxy.testing.LogFiles;
import io.sourcemesh.proxy.testing.Origin;
import io.sourcemesh.proxy.testing.TestJwts;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * jwt_authn's remote_jwks end to end: a real key server on loopback reached only through the proxy's own cluster (the
 * URI names a host nothing resolves), real curl, tokens signed by a key made here; the cache, a failed fetch's 401 as
 * Envoy's, async_fetch, retries, and a waiting request that blocks nobody else on its event loop.
 */
class RemoteJwksEndToEndTest {
    private static final String ISS = "https://issuer.example";

    private Origin origin;
    private Proxy proxy;
    private HttpServer keys;
    private final TestJwts key = TestJwts.rsa("k1");
    private final AtomicInteger fetches = new AtomicInteger();
    /** Status codes to answer before serving the keys (then 200). */
    private final List<Integer> failFirst = new CopyOnWriteArrayList<>();
    private final List<String> hosts = new CopyOnWriteArrayList<>();
    private final AtomicReference<CountDownLatch> hold = new AtomicReference<>(new CountDownLatch(0));

    @TempDir
    Path dir;

    @BeforeEach
    void start() throws Exception {
        origin = Origin.start();
        keys = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        keys.setExecutor(Executors.newCachedThreadPool());
        keys.createContext("/keys/jwks.json", ex -> {
            fetches.incrementAndGet();
            hosts.add(ex.getRequestHeaders().getFirst("Host"));
            try {
                hold.get().await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            int code = failFirst.isEmpty() ? 200 : failFirst.remove(0);
            byte[] body = (code == 200 ? key.jwks() : "no").getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(code, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        keys.start();
    }

    @AfterEach
    void stop() {
        if (proxy != null) {
            proxy.close();
        }
        keys.stop(0);
        origin.close();
    }

    /** {@code remoteExtra}: remote_jwks fields besides http_uri, one per line. */
    private void startProxy(String cluster, String remoteExtra, Path log) throws Exception {
        proxy = Proxy.start(config(cluster, remoteExtra, log, ""), 1);
    }

    /** {@code moreListeners}: listeners after the first, as YAML list items indented by two. */
    private ProxyConfig config(String cluster, String remoteExtra, Path log, String moreListeners) {
        String yaml = """
                admin: {address: {socket_address: {address: 127.0.0.1, port_value: 0}}}
                static_resources:
                  listeners:
                  - name: http
                    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
                    filter_chains:
                    - filters:
                      - name: envoy.filters.network.http_connection_manager
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                          stat_prefix: ingress_http
                          access_log:
                          - name: envoy.access_loggers.file
                            typed_config:
                              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                              path: @LOG@
                              log_format: {json_format: {code: "%RESPONSE_CODE%", details: "%RESPONSE_CODE_DETAILS%", path: "%REQ(:PATH)%"}}
                          route_config:
                            virtual_hosts:
                            - name: all
                              domains: ["*"]
                              routes: [{match: {prefix: "/"}, route: {cluster: backend}}]
                          http_filters:
                          - name: envoy.filters.http.jwt_authn
                            typed_config:
                              "@type": type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication
                              providers:
                                origins-0:
                                  issuer: @ISS@
                                  remote_jwks:
                                    http_uri: {uri: "http://jwks.example/keys/jwks.json", cluster: @JWKS_CLUSTER@, timeout: 3s}
                                    @EXTRA@
                                  payload_in_metadata: payload
                              rules:
                              - match: {prefix: /secure}
                                requires: {provider_name: origins-0}
                          - name: envoy.filters.http.router
                            typed_config:
                              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
                  @MORE_LISTENERS@
                  clusters:
                  - name: backend
                    connect_timeout: 1s
                    load_assignment:
                      cluster_name: backend
                      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: @ORIGIN_PORT@}}}}]}]
                  - name: jwks
                    connect_timeout: 1s
                    load_assignment:
                      cluster_name: jwks
                      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: @KEYS_PORT@}}}}]}]
                """.replace("@LOG@", log.toString()).replace("@ORIGIN_PORT@", Integer.toString(origin.port()))
                .replace("@KEYS_PORT@", Integer.toString(keys.getAddress().getPort())).replace("@ISS@", ISS)
                .replace("@JWKS_CLUSTER@", cluster).replace("  @MORE_LISTENERS@\n", moreListeners);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("( *)@EXTRA@\n").matcher(yaml);
        assertTrue(m.find());
        String indent = m.group(1);
        yaml = yaml.substring(0, m.start()) + remoteExtra.lines().map(l -> indent + l + "\n").reduce("", String::concat)
                + yaml.substring(m.end());
        return BootstrapLoader.loadText(yaml);
    }

    private String url(String path) {
        return "http://127.0.0.1:" + proxy.listenerAddress("http").getPort() + path;
    }

    private long counter(String name) {
        String stats = Curl.run("http://127.0.0.1:" + proxy.adminAddress().orElseThrow().getPort()
                + "/stats?filter=" + name.replace(".", "\\.") + "$").body();
        for (String line : stats.split("\n")) {
            if (line.startsWith(name + ": ")) {
                return Long.parseLong(line.substring(name.length() + 2).trim());
            }
        }
        throw new AssertionError(name + " not in /stats: " + stats);
    }

    private Curl.Result bearer(String token) {
        return Curl.run("-H", "Authorization: Bearer " + token, url("/secure"));
    }

    private String good() {
        return key.sign(TestJwts.claims(ISS, "alice", null, 300, ""));
    }

    @Test
    void theFirstRequestThatNeedsTheKeysFetchesThemThroughTheClusterAndLaterOnesUseTheCache() throws Exception {
        startProxy("jwks", "", dir.resolve("a.log"));
        assertEquals(200, Curl.run(url("/open")).status());
        assertEquals(401, Curl.run(url("/secure")).status(), "no token: missing, nothing to fetch for");
        assertEquals(0, fetches.get(), "no token needed the keys yet");
        assertEquals(200, bearer(good()).status());
        assertEquals(List.of("jwks.example"), hosts, "the URI's host as Host, sent where the cluster says");
        Curl.Result forged = bearer(TestJwts.rsa("k1").sign(TestJwts.claims(ISS, "alice", null, 300, "")));
        assertEquals(401, forged.status());
        assertEquals("Jwt verification fails", forged.body());
        assertEquals(200, bearer(good()).status());
        assertEquals(1, fetches.get(), "cached for cache_duration (Envoy's 10 minutes)");
        Curl.Result otherIssuer = bearer(key.sign(TestJwts.claims("https://other.example", "a", null, 300, "")));
        assertEquals("Jwt issuer is not configured", otherIssuer.body());
        assertEquals(1, counter("http.ingress_http.jwt_authn.jwks_fetch_success"));
        assertEquals(0, counter("http.ingress_http.jwt_authn.jwks_fetch_failed"));
        assertEquals(1, counter("cluster.jwks.upstream_rq_200"), "the fetch is the jwks cluster's request");
    }

    @Test
    void aFailedFetchIsEnvoys401AndTheNextRequestFetchesAgain() throws Exception {
        Path log = dir.resolve("f.log");
        startProxy("jwks", "cache_duration: 1s", log);
        failFirst.add(503);
        Path headers = dir.resolve("h");
        Curl.Result failed = Curl.run("-D", headers.toString(), "-H", "Authorization: Bearer " + good(), url("/secure"));
        assertEquals(401, failed.status());
        assertEquals("Jwks remote fetch is failed", failed.body());
        assertTrue(Files.readString(headers).toLowerCase().contains("www-authenticate: bearer realm=\"http://127.0.0.1:"
                + proxy.listenerAddress("http").getPort() + "/secure\", error=\"invalid_token\""), Files.readString(headers));
        String line = LogFiles.awaitLines(log, 1).get(0);
        assertTrue(line.contains("\"details\":\"jwt_authn_access_denied{Jwks_remote_fetch_is_failed}\""), line);
        assertEquals(1, counter("http.ingress_http.jwt_authn.jwks_fetch_failed"));

        assertEquals(200, bearer(good()).status(), "nothing cached by a failure: fetched again");
        assertEquals(2, fetches.get());
        Thread.sleep(1200);
        assertEquals(200, bearer(good()).status());
        assertEquals(3, fetches.get(), "cache_duration 1s passed: fetched again");
        assertEquals(2, counter("http.ingress_http.jwt_authn.jwks_fetch_success"));
    }

    @Test
    void aClusterTheConfigDoesNotHaveFailsTheFetch() throws Exception {
        startProxy("nowhere", "", dir.resolve("n.log"));
        Curl.Result r = bearer(good());
        assertEquals(401, r.status());
        assertEquals("Jwks remote fetch is failed", r.body());
        assertEquals(0, fetches.get(), "the URI's host is never asked: only a cluster says where to go");
    }

    @Test
    void retryPolicyRetriesA5xxAndAsyncFetchGetsTheKeysBeforeAnyRequest() throws Exception {
        failFirst.addAll(List.of(503, 500));
        startProxy("jwks", "async_fetch: {fast_listener: true}\nretry_policy: {num_retries: 2, retry_back_off: {base_interval: 0.01s}}",
                dir.resolve("r.log"));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (counter("http.ingress_http.jwt_authn.jwks_fetch_success") == 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(3, fetches.get(), "two 5xx retried, the third try served the keys, before any request");
        assertEquals(2, counter("cluster.jwks.upstream_rq_retry"));
        assertEquals(200, bearer(good()).status());
        assertEquals(3, fetches.get(), "the request found the keys there");
    }

    @Test
    void aRequestWaitingForItsKeysBlocksNoOtherRequestOnItsEventLoop() throws Exception {
        startProxy("jwks", "", dir.resolve("w.log"));
        CountDownLatch release = new CountDownLatch(1);
        hold.set(release);
        String token = good();
        CompletableFuture<Curl.Result> waiting = CompletableFuture.supplyAsync(() -> bearer(token));
        CompletableFuture<Curl.Result> alsoWaiting = CompletableFuture.supplyAsync(() -> bearer(token));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (fetches.get() == 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        Thread.sleep(200);
        // One event loop (Proxy.start(..., 1)): it answers this while the fetch is held.
        long t0 = System.nanoTime();
        assertEquals(200, Curl.run(url("/open")).status());
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(3), "answered while a request waits for its keys");
        assertTrue(!waiting.isDone() && !alsoWaiting.isDone(), "the token requests wait for the fetch");
        release.countDown();
        assertEquals(200, waiting.get(10, TimeUnit.SECONDS).status());
        assertEquals(200, alsoWaiting.get(10, TimeUnit.SECONDS).status());
        assertEquals(1, fetches.get(), "the two waiting requests shared one fetch");
    }

    /** Waits up to 10 s for the key server to have been asked {@code n} times. */
    private void awaitFetches(int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (fetches.get() < n && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(n, fetches.get());
    }

    @Test
    void anUpdateTheProxyRejectsStartsNoAsyncFetch() throws Exception {
        Path log = dir.resolve("x.log");
        startProxy("jwks", "", log);
        // The first listener's new version asks for async_fetch; the second cannot bind (the key server has its port),
        // so the proxy rejects the whole update after building it.
        String taken = """
                  - name: taken
                    address: {socket_address: {address: 127.0.0.1, port_value: @PORT@}}
                    filter_chains:
                    - filters:
                      - name: envoy.filters.network.tcp_proxy
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
                          stat_prefix: taken
                          cluster: backend
                """.replace("@PORT@", Integer.toString(keys.getAddress().getPort()));
        ConfigException e = assertThrows(ConfigException.class,
                () -> proxy.apply(config("jwks", "async_fetch: {fast_listener: true}\ncache_duration: 1s", log, taken)));
        assertTrue(e.getMessage().contains("cannot bind"), e.getMessage());
        Thread.sleep(1500);
        assertEquals(0, fetches.get(), "a rejected version's async_fetch never started");
        assertEquals(401, Curl.run(url("/secure")).status(), "the serving version is the old one");
    }

    @Test
    void aServedVersionFetchesAtOnceAndAReplacedOneStopsFetching() throws Exception {
        Path log = dir.resolve("s.log");
        startProxy("jwks", "", log);
        Thread.sleep(300);
        assertEquals(0, fetches.get(), "no async_fetch, no request: nothing fetched");
        // cache_duration 1s: async_fetch refetches every second.
        proxy.apply(config("jwks", "async_fetch: {fast_listener: true}\ncache_duration: 1s", log, ""));
        awaitFetches(1); // served: fetched at once, before any request
        awaitFetches(2); // and again after its refetch interval
        proxy.apply(config("jwks", "cache_duration: 1s", log, ""));
        Thread.sleep(300); // a fetch under way when it was replaced may still land
        int atReplace = fetches.get();
        Thread.sleep(2500);
        assertEquals(atReplace, fetches.get(), "the replaced version's async_fetch stopped with it");
        assertEquals(200, bearer(good()).status(), "the new version fetches on demand");
        assertEquals(atReplace + 1, fetches.get());
    }
}
