package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.cluster.netns.ProxyProcess;
import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The launcher's proxy AOT cache, on a checkout laid out as the build leaves it (the launcher script,
 * {@code sourcemesh-cli/target/sourcemesh-cli-*.jar} and {@code lib/}, made here from this test's
 * classpath): {@code proxy --make-aot-cache} makes it, a proxy — with the netns sidecars' extra flags
 * — loads its classes from it, and after a rebuild (a newer jar) the stale cache is dropped, not used
 * (the next start makes a new one; not repeated here, as each training run takes seconds). Either way
 * the proxy loads no Jackson, gson, picocli or slf4j class. The proxy runs on the jars its module's build
 * lists ({@code sourcemesh-proxy/target/runtime-classpath}, written here as the build would), the cache is
 * made on those, a line for picocli ({@code proxy --help}) still reaches it, and a start runs no program
 * but the JVM (a PATH of bash alone) and forks nothing before it (traced, where strace is installed).
 */
class ProxyAotCacheTest {
    @RegisterExtension
    static final LauncherCheckout build = LauncherCheckout.laidOutWithProxyClassPath();
    static final Path checkout = build.root;
    static final Path target = build.target;
    static final Path cache = target.resolve("sourcemesh-proxy.aot");
    /** The jars the proxy's runtime class path names. */
    static List<String> proxyJars;
    /** The upstream behind the proxies' {@code /closing/} route: it ends its keep-alive connections itself. */
    static ClosingOrigin closingOrigin;
    /** The upstream behind the sidecar-shaped proxy's other service: chunked, split, large and empty bodies. */
    static BodyOrigin bodyOrigin;
    /** Jars of the cluster, the other verbs and the tests, which a proxy does not need. */
    static final Pattern NOT_THE_PROXYS = Pattern.compile("kubernetes-|zjsonpatch|snakeyaml-engine|picocli|slf4j|junit|archunit"
            + "|opentest4j|apiguardian|jackson-(core|databind|dataformat-yaml)-3\\.");
    /** The class path the last proxy's JVM ran with. */
    static String lastClassPath = "";
    /** The jars the last proxy's JVM held open after its first 200 (real paths: lib/ links to the build's). */
    static Set<Path> lastOpenJars = Set.of();
    /** The jars the last proxy read: those its classes came from ({@code -Xlog:class+load}), its module path's, and the
     * CLI's and the proxy module's (resources), as real paths. */
    static Set<Path> lastJarsRead = Set.of();
    /** SourceMesh's hidden classes the last proxy defined as it ran (a type switch's dispatch, a lambda), not from the cache. */
    static List<String> lastBuiltAtRuntime = List.of();
    /** The classes the last proxy loaded from a jar, not its cache (after its first 200 and the odd connections). */
    static List<String> lastFromJars = List.of();

    @BeforeAll
    static void start() throws IOException {
        proxyJars = build.proxyJars();
        closingOrigin = ClosingOrigin.start();
        bodyOrigin = BodyOrigin.start();
    }

    @Test
    void theProxyStartsFromTheCacheAndAStaleOneIsNotUsed() throws Exception {
        Process make = launcher(List.of("proxy", "--make-aot-cache"), "").start();
        assertTrue(make.waitFor(240, TimeUnit.SECONDS), "the training run ends");
        assertEquals(0, make.exitValue(), () -> "--make-aot-cache: " + output(make) + log());
        assertTrue(Files.size(cache) > 10_000_000, "a cache of the proxy's classes");
        // The training's profiles hold keep-alive connections the client closes after a hot request path and
        // many one-request connections, so a proxy's first close does not deoptimize its request path.
        java.util.regex.Matcher served = Pattern.compile(Pattern.quote(ProxyTraining.SERVED)
                + " (\\d+) keep-alive 200s on (\\d+) connections the client closed, (\\d+) Connection: close 200s, (\\d+) logged 200s,"
                + " (\\d+) 200s from an upstream that ends its connections, (\\d+) 200s on connections idle for (\\d+) ms,"
                + " (\\d+) 200s and 204s with chunked, split, large and empty bodies")
                .matcher(log());
        assertTrue(served.find(), () -> "the training's summary: " + log());
        assertTrue(Integer.parseInt(served.group(1)) >= 20_000, served.group());
        assertTrue(Integer.parseInt(served.group(2)) >= 4, served.group());
        assertTrue(Integer.parseInt(served.group(3)) >= 1_000, served.group());
        assertTrue(Integer.parseInt(served.group(4)) >= 100, served.group()); // through the access-logging listener
        // An upstream's own close (Connection: close, FIN, reset), each kind 20 times: of 120 requests, a retry that
        // failed too would be a non-200 (the router retries a request sent on a connection that was ending).
        assertTrue(Integer.parseInt(served.group(5)) >= 100, served.group());
        // Connections idle past their park (1 s), then woken: in the profile, so a proxy's first wake keeps its compiled code.
        assertTrue(Integer.parseInt(served.group(6)) >= 16 && Integer.parseInt(served.group(7)) >= 1_200, served.group());
        // Chunked bodies both ways, bodies split over reads, larger than a read, none: each shape 20 times.
        assertTrue(Integer.parseInt(served.group(8)) >= 200, served.group());
        aSidecarsTrafficKeepsTheCompiledRequestPath();

        // The netns sidecars' extra flags are ones the cache allows.
        assertEquals("shared objects file", proxyClassSource(String.join(" ", ProxyProcess.jvmOptions()) + " -XX:+PrintFlagsFinal", ""));
        // From the cache, a proxy opens only the jars it reads: a lookup that misses on the class path (the JDK
        // logging's LoggerFinder service, NIO's SelectorProvider service, protobuf's Android probe) would open every
        // jar, each index then kept on the heap (~7 MB of RSS): the launcher's sourcemesh-lookups module and
        // BuiltInSelectorProvider answer them first.
        // Nothing of ours is built as it runs, from its start through its first request: a pattern switch's
        // dispatch class or a record's equals/hashCode is bootstrapped at its first call, outside the cache
        // (a few ms each on a start or on the first request).
        assertEquals(List.of(), lastBuiltAtRuntime, "SourceMesh classes defined at run time, not taken from the cache");
        // Nor does it load a class from a jar as it serves — also not for a client that half-closes after its request,
        // one that sends nothing, a malformed request, or an upstream that ends its keep-alive connections (the
        // training has them; without its closing upstream a proxy loaded 3 of Netty's classes here), nor on a race the
        // training meets only by chance (ProxyTraining.RACE_CLASSES, loaded by the training: a close while a write is
        // pending loaded PromiseNotifier here once): only the launcher's entry class.
        assertEquals(List.of("io.sourcemesh.cli.QuickEntry"), lastFromJars, "classes loaded from jars, not the cache");
        Set<Path> unread = new TreeSet<>(lastOpenJars);
        unread.removeAll(lastJarsRead);
        assertEquals(Set.of(), unread, () -> "jars open that the proxy read nothing from (a lookup searched them); open: " + lastOpenJars);
        // On the proxy's jars: the list's, the proxy module's own and the CLI's, nothing else.
        List<String> path = List.of(lastClassPath.split(File.pathSeparator));
        assertEquals(proxyJars.size() + 2, path.size(), lastClassPath);
        assertTrue(path.stream().noneMatch(e -> NOT_THE_PROXYS.matcher(Path.of(e).getFileName().toString()).find()), lastClassPath);
        assertTrue(path.stream().anyMatch(e -> e.endsWith("lib/sourcemesh-proxy-test.jar")), lastClassPath);
        // With the cache's profiles, tier 2 waits the usual count before profiling, not 250x it (the launcher's comment).
        assertTrue(Files.readAllLines(checkout.resolve("launcher.out")).stream()
                .anyMatch(l -> l.matches("\\s*double Tier2ProfileDelayFactor\\s+= 1\\.0+ .*")), () -> "Tier2ProfileDelayFactor 1: " + log());

        // Started with nothing but bash on the PATH: the launcher runs no find, rm, ls or dirname on a start.
        Path bashOnly = Files.createDirectories(checkout.resolve("bash-only"));
        Files.createSymbolicLink(bashOnly.resolve("bash"), Path.of(bash()));
        assertEquals("shared objects file", proxyClassSource("", "", Map.of("PATH", bashOnly.toString())));
        assertFalse(Files.readString(checkout.resolve("launcher.out")).contains("not found"), () -> output(null));

        // Nor a fork of its own (a $(...) is one): traced, the launcher's process forks nothing before it
        // becomes the JVM (exec). Where strace is installed.
        if (Files.isExecutable(Path.of(onPath("strace")))) {
            Path trace = checkout.resolve("launcher.strace");
            assertEquals("shared objects file", proxyClassSource("", "1", Map.of(),
                    List.of(onPath("strace"), "-qq", "-s", "4096", "-e", "trace=fork,vfork,clone,clone3,execve", "-o", trace.toString())));
            List<String> calls = Files.readAllLines(trace);
            int jvm = 0;
            while (jvm < calls.size() && !(calls.get(jvm).startsWith("execve(\"" + System.getProperty("java.home"))
                    && calls.get(jvm).endsWith("= 0"))) {
                jvm++;
            }
            assertTrue(jvm < calls.size(), () -> "the launcher execs the JVM: " + calls);
            assertEquals(List.of(), calls.subList(0, jvm).stream().filter(c -> !c.startsWith("execve(")).toList(),
                    "the launcher's forks before the JVM");
        }

        // A line the proxy's entry leaves to picocli runs on the CLI's whole class path.
        Process help = launcher(List.of("proxy", "--help"), "").start();
        assertTrue(help.waitFor(60, TimeUnit.SECONDS), "proxy --help ends");
        assertEquals(0, help.exitValue(), () -> output(help));
        assertTrue(Files.readString(checkout.resolve("launcher.out")).contains("Usage: sourcemesh proxy"), () -> output(help));

        // A rebuild: the CLI's jar is newer than the cache. The launcher drops it instead of passing it.
        Files.setLastModifiedTime(target.resolve("sourcemesh-cli-test.jar"), FileTime.from(Instant.now().plusSeconds(2)));
        Thread.sleep(2_100);
        String source = proxyClassSource("", "1");
        assertTrue(source.startsWith("file:") || source.startsWith("jar:"), "loaded from the jar, not a stale cache: " + source);
        assertFalse(Files.exists(cache), "the stale cache is removed");
    }

    /**
     * A sidecar's traffic on a proxy started from the cache. The cache holds the training's profiles, from which C2
     * compiles the request path early: a branch or a type the training never met is then an uncommon trap under traffic
     * and a recompilation by C2 (sourcemesh-bench/mesh.sh's tail). Here requests take a service's route (a virtual host by
     * domain, Istio's default retry policy) to an upstream answering short and 1 KB bodies until C2 has compiled the
     * request path both ways; then another service's requests and responses come with the body shapes of
     * {@link ProxyTraining#bodyShapes} (chunked both ways, split over reads, larger than a read, none), and a connection
     * idle past its park (1 s: its HTTP codec leaves the pipeline) is woken. None of SourceMesh's own methods, nor of
     * Netty's HTTP codec and channel outside io_uring's, is deoptimized for it (but {@link #UNTRAINABLE}; the rest of
     * Netty's and the JDK's are printed, not asserted on). A training without parked connections
     * deoptimized {@code HttpConnection.channelRead} here; one without the service's route and the 1 KB bodies
     * {@code RouteTable.virtualHostOrNull}, {@code PlainHeads.wholeBody}, {@code FlatHeaders.remove} and
     * {@code UpstreamRequest.operationComplete}; one without the body shapes {@code HttpStream.encodeHeaders} (a class
     * check on the body's type), {@code HttpConnection.dispatch}, {@code PlainHeads.head}, Netty's
     * {@code HttpObjectEncoder} and {@code ChannelOutboundBuffer}, and more.
     */
    private static void aSidecarsTrafficKeepsTheCompiledRequestPath() throws Exception {
        int port = freePort();
        int upstream = freePort();
        Path bootstrap = checkout.resolve("bootstrap-sidecar.yaml");
        Files.writeString(bootstrap, sidecarShapedBootstrap(port, upstream, bodyOrigin.port()));
        Path jit = checkout.resolve("jit.log");
        Process proxy = launcher(List.of("proxy", "-c", bootstrap.toString(), "--concurrency", "1"),
                "-Xlog:deoptimization=debug,jit+compilation=debug:file=" + jit).start();
        try {
            assertEquals(200, awaitStatus(port, proxy, 120), () -> "the proxy answers: " + output(proxy));
            long servingFrom = Files.size(jit);
            try (ProxyTraining.Client parked = ProxyTraining.connect(port)) {
                assertTrue(ProxyTraining.exchange(parked, "GET /parked HTTP/1.1\r\nHost: service.test\r\n\r\n", false)
                        .startsWith("HTTP/1.1 200"));
                long parkedAt = System.nanoTime();
                // The client's side and the upstream's: the body shapes then meet C2's code on both.
                List<Pattern> compiledByC2 = List.of(
                        Pattern.compile("\\s4\\s+io\\.sourcemesh\\.proxy\\.http\\.HttpConnection::channelRead \\("),
                        Pattern.compile("\\s4\\s+io\\.sourcemesh\\.proxy\\.http\\.UpstreamRequest\\$Handler::channelRead \\("));
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
                try (ProxyTraining.Client busy = ProxyTraining.connect(port)) {
                    long compiledAt = 0; // the log's line comes as C2 starts: requests go on a second, so its code is in use
                    for (int n = 0; compiledAt == 0 || System.nanoTime() - compiledAt < 1_000_000_000L; n++) {
                        if (compiledAt == 0 && n % 1_000 == 0) {
                            String log = Files.readString(jit);
                            if (compiledByC2.stream().allMatch(p -> p.matcher(log).find())) {
                                compiledAt = System.nanoTime();
                            }
                        }
                        assertTrue(System.nanoTime() < deadline, "C2 compiles both channelReads within 90 s of requests");
                        String path = n % 2 == 0 ? "/large/" : "/short/";
                        String answer = ProxyTraining.exchange(busy, "GET " + path + n + " HTTP/1.1\r\nHost: service.test\r\n\r\n", false);
                        assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
                    }
                    for (int r = 0; r < 5; r++) {
                        assertEquals(10, ProxyTraining.bodyShapes(busy, "origin.test", bodyOrigin), "2xx answers to the body shapes");
                        for (int i = 0; i < 100; i++) {
                            String answer = ProxyTraining.exchange(busy, "GET /short/" + i + " HTTP/1.1\r\nHost: service.test\r\n\r\n", false);
                            assertTrue(answer.startsWith("HTTP/1.1 200"), answer);
                        }
                    }
                }
                Thread.sleep(Math.max(0, 1_500 - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - parkedAt)));
                for (int i = 0; i < 100; i++) {
                    assertTrue(ProxyTraining.exchange(parked, "GET /woken HTTP/1.1\r\nHost: service.test\r\n\r\n", false)
                            .startsWith("HTTP/1.1 200"));
                }
                Thread.sleep(200);
            }
            String serving;
            try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(jit.toFile(), "r")) {
                f.seek(servingFrom);
                byte[] rest = new byte[(int) (f.length() - servingFrom)];
                f.readFully(rest);
                serving = new String(rest, java.nio.charset.StandardCharsets.UTF_8);
            }
            List<String> deoptimized = serving.lines().filter(l -> l.contains("[deoptimization") && l.contains(" level="))
                    .map(l -> l.substring(l.indexOf(" level=") + 1)).toList();
            Pattern asserted = Pattern.compile("level=\\d+ (io\\.sourcemesh\\.|io\\.netty\\.handler\\.codec\\.|io\\.netty\\.channel\\.(?!uring\\.))");
            List<String> unasserted = deoptimized.stream().filter(l -> !asserted.matcher(l).lookingAt() || UNTRAINABLE.matcher(l).find())
                    .map(l -> l.replaceAll(" pc=.*", "")).distinct().toList();
            if (!unasserted.isEmpty()) {
                System.out.println("deoptimized as the proxy served, not asserted on: " + unasserted);
            }
            assertEquals(List.of(), deoptimized.stream().filter(l -> asserted.matcher(l).lookingAt() && !UNTRAINABLE.matcher(l).find())
                    .map(l -> l.replaceAll(" pc=.*", "")).toList(), "SourceMesh's and Netty's HTTP methods deoptimized as it served");
        } finally {
            proxy.destroy();
            if (!proxy.waitFor(10, TimeUnit.SECONDS)) {
                proxy.destroyForcibly().waitFor();
            }
        }
    }

    /**
     * Deoptimizations of the request path that no training tried removed: {@code FlatHeaders.getAll}'s
     * first {@code FlatHeaders.Values} (a class's initialization is not in the cache: C2 compiles the allocation as a
     * trap until a request with a Connection or Transfer-Encoding header made one), and the loop predicate C2 hoists
     * before {@code FlatHeaders.containsValue}'s scan of a value, which fails at the first Transfer-Encoding value
     * Netty's decoder made (a String; {@code predicate} with the training before the body shapes, {@code
     * profile_predicate} with them). And Netty's {@code HttpResponseStatus.valueOf0}, a switch on the status code
     * (its first branch, trap_bci=1): C2 leaves out the cases the profile has too few of when it compiles it, and
     * whether it compiled it before this run's 204s and 200s had been counted depends on the run (1 of 3 local runs).
     * And Netty's {@code ByteToMessageDecoder.callDecode} at trap_bci=85, the "a decode read bytes but made nothing, go
     * on" branch every decoder of the process shares: it is taken where a read ends inside what a decoder consumes
     * without a message, which depends on how the kernel split that run's reads (CI run 2 of the thirty-eighth session;
     * the same build passed on the same machine before).
     */
    static final Pattern UNTRAINABLE = Pattern.compile("^level=\\d+ (io\\.sourcemesh\\.proxy\\.http\\.FlatHeaders\\."
            + "(getAll\\(\\S* trap_bci=\\d+ (osr_bci=\\d+ )?uninitialized |containsValue\\(\\S* trap_bci=\\d+ (osr_bci=\\d+ )?(profile_)?predicate )"
            + "|io\\.netty\\.handler\\.codec\\.http\\.HttpResponseStatus\\.valueOf0\\(\\S* trap_bci=1 unstable_if "
            + "|io\\.netty\\.handler\\.codec\\.ByteToMessageDecoder\\.callDecode\\(\\S* trap_bci=85 unstable_if )");

    /**
     * A listener on {@code port} shaped as a sidecar's outbound one (sourcemesh-bench/conf/mesh-sidecar.yaml): a service's
     * virtual host by domain, its route with no timeout and Istio's default retry policy, to a cluster that is the proxy's
     * own listener on {@code upstream}, which answers {@code /large/} with 1 KB and anything else with 3 bytes; and another
     * service's, origin.test, to a {@link BodyOrigin} on {@code origin}.
     */
    static String sidecarShapedBootstrap(int port, int upstream, int origin) {
        return """
                static_resources:
                  listeners:
                  - name: outbound
                    address: {socket_address: {address: 127.0.0.1, port_value: %1$d}}
                    filter_chains:
                    - filters:
                      - name: envoy.filters.network.http_connection_manager
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                          stat_prefix: outbound
                          route_config:
                            virtual_hosts:
                            - name: service.test:80
                              domains: ["service.test", "service", "service.test:80"]
                              routes:
                              - name: default
                                match: {prefix: "/"}
                                route:
                                  cluster: service
                                  timeout: 0s
                                  retry_policy:
                                    retry_on: connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes
                                    num_retries: 2
                                    retriable_status_codes: [503]
                            - name: origin.test:80
                              domains: ["origin.test", "origin", "origin.test:80"]
                              routes:
                              - name: default
                                match: {prefix: "/"}
                                route:
                                  cluster: origin
                                  timeout: 0s
                                  retry_policy:
                                    retry_on: connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes
                                    num_retries: 2
                                    retriable_status_codes: [503]
                            - name: allow_any
                              domains: ["*"]
                              routes:
                              - match: {prefix: "/"}
                                direct_response: {status: 200, body: {inline_string: "ok"}}
                          http_filters:
                          - name: envoy.filters.http.router
                            typed_config:
                              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
                  - name: app
                    address: {socket_address: {address: 127.0.0.1, port_value: %2$d}}
                    filter_chains:
                    - filters:
                      - name: envoy.filters.network.http_connection_manager
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                          stat_prefix: app
                          route_config:
                            virtual_hosts:
                            - name: all
                              domains: ["*"]
                              routes:
                              - match: {prefix: "/large/"}
                                direct_response: {status: 200, body: {inline_string: "%3$s"}}
                              - match: {prefix: "/"}
                                direct_response: {status: 200, body: {inline_string: "ok\\n"}}
                          http_filters:
                          - name: envoy.filters.http.router
                            typed_config:
                              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
                  clusters:
                  - name: service
                    type: STATIC
                    connect_timeout: 1s
                    load_assignment:
                      cluster_name: service
                      endpoints:
                      - lb_endpoints:
                        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %2$d}}}
                  - name: origin
                    type: STATIC
                    connect_timeout: 1s
                    load_assignment:
                      cluster_name: origin
                      endpoints:
                      - lb_endpoints:
                        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %4$d}}}
                """.formatted(port, upstream, "x".repeat(1024), origin);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @AfterAll
    static void stop() throws IOException {
        closingOrigin.close();
        bodyOrigin.close();
    }

    /** Starts the launcher's proxy (access-logging its requests), gets a 200 through it, and tells where its {@code Proxy} class came from. */
    private static String proxyClassSource(String javaOpts, String noTraining) throws Exception {
        return proxyClassSource(javaOpts, noTraining, Map.of());
    }

    private static String proxyClassSource(String javaOpts, String noTraining, Map<String, String> env) throws Exception {
        return proxyClassSource(javaOpts, noTraining, env, List.of());
    }

    /** As above, the launcher run under {@code wrapper} (a tracer whose child it is). */
    private static String proxyClassSource(String javaOpts, String noTraining, Map<String, String> env, List<String> wrapper)
            throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Path bootstrap = checkout.resolve("bootstrap-" + port + ".yaml");
        Files.writeString(bootstrap, answeringBootstrap(port, closingOrigin.port()));
        Path classes = checkout.resolve("classes-" + port + ".log");
        ProcessBuilder pb = launcher(List.of("proxy", "-c", bootstrap.toString(), "--concurrency", "1"),
                (javaOpts + " -Xlog:class+load=info:file=" + classes).strip());
        if (!wrapper.isEmpty()) {
            List<String> command = new ArrayList<>(wrapper);
            command.addAll(pb.command());
            pb.command(command);
        }
        if (!noTraining.isEmpty()) {
            pb.environment().put("SOURCEMESH_NO_AOT_TRAINING", noTraining);
        }
        pb.environment().putAll(env);
        Process proxy = pb.start();
        try {
            assertEquals(200, awaitStatus(port, proxy, 120), () -> "the proxy answers: " + output(proxy));
            ProxyTraining.oddClients(port); // a half-close, nothing sent, a malformed request (400, or it throws)
            int closes = 6; // two of each kind
            assertEquals(closes * ClosingOrigin.RESPONSES_PER_CONNECTION, ProxyTraining.upstreamCloses(port, closes),
                    "200s through an upstream that ends its connections");
            // the launcher execs the JVM: the same process (the wrapper's child, when wrapped)
            long jvm = wrapper.isEmpty() ? proxy.pid() : proxy.children().findFirst().orElseThrow().pid();
            lastClassPath = classPath(jvm);
            lastOpenJars = openJars(jvm);
        } finally {
            proxy.children().forEach(ProcessHandle::destroy); // a tracer killed first would leave its child running
            proxy.destroy();
            if (!proxy.waitFor(10, TimeUnit.SECONDS)) {
                proxy.destroyForcibly().waitFor();
            }
        }
        // The proxy reads its bootstrap without Jackson or gson: neither from the jars nor from the cache
        // (which holds what the training run loaded and every class linking those pulled in).
        try (Stream<String> lines = Files.lines(classes)) {
            assertEquals(List.of(), lines.filter(l -> l.contains(" com.fasterxml.jackson.") || l.contains(" com.google.gson.")
                    || l.contains(" picocli.") || l.contains(" org.slf4j.")).limit(10).toList(), "classes the proxy should not load");
        }
        lastJarsRead = jarsRead(classes);
        try (Stream<String> lines = Files.lines(classes)) {
            lastFromJars = lines.filter(l -> l.contains(" source: file:") || l.contains(" source: jar:"))
                    .map(l -> l.substring(l.indexOf("] ") + 2, l.indexOf(" source: "))).toList();
        }
        try (Stream<String> lines = Files.lines(classes)) {
            lastBuiltAtRuntime = lines.filter(l -> l.contains(" io.sourcemesh.") && l.contains("/0x") && !l.endsWith("source: shared objects file"))
                    .map(l -> l.substring(l.indexOf(" io.sourcemesh.") + 1)).toList();
        }
        try (Stream<String> lines = Files.lines(classes)) {
            return lines.filter(l -> l.contains(" io.sourcemesh.proxy.Proxy source: ")).findFirst()
                    .map(l -> l.substring(l.indexOf(" source: ") + 9).strip()).orElse("not loaded");
        }
    }

    /** The status of a GET / on {@code port} once it answers 200, or the last one when the process ends or time is up. */
    static int awaitStatus(int port, Process proxy, int seconds) throws InterruptedException {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        int status = 0;
        while (status != 200 && System.nanoTime() < deadline && proxy.isAlive()) {
            try {
                status = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/")).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode();
            } catch (IOException notYet) {
                Thread.sleep(50);
            }
        }
        return status;
    }

    /** A bootstrap of one listener on {@code port} that answers every request 200 itself. */
    static String answeringBootstrap(int port) {
        return answeringBootstrap(port, 0);
    }

    /** As above; with a {@code closingPort}, requests to {@code /closing/} go to that upstream (a {@link ClosingOrigin}). */
    static String answeringBootstrap(int port, int closingPort) {
        String closingRoute = closingPort == 0 ? "" : """
                              - match: {prefix: "/closing/"}
                                route: {cluster: closing}
                """;
        String closingCluster = closingPort == 0 ? "" : """
                  clusters:
                  - name: closing
                    type: STATIC
                    connect_timeout: 1s
                    load_assignment:
                      cluster_name: closing
                      endpoints:
                      - lb_endpoints:
                        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}
                """.formatted(closingPort);
        return """
                static_resources:
                  listeners:
                  - name: l
                    address: {socket_address: {address: 127.0.0.1, port_value: %d}}
                    filter_chains:
                    - filters:
                      - name: envoy.filters.network.http_connection_manager
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                          stat_prefix: l
                          access_log: # a sidecar's (JSON) and Envoy's default (text), so a start's checks cover them
                          - name: envoy.access_loggers.file
                            typed_config:
                              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                              path: /dev/null
                              log_format:
                                json_format: {code: "%%RESPONSE_CODE%%", path: "%%REQ(:PATH)%%", peer: "%%DOWNSTREAM_REMOTE_ADDRESS%%"}
                          - name: envoy.access_loggers.file
                            typed_config:
                              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
                              path: /dev/null
                          route_config:
                            virtual_hosts:
                            - name: all
                              domains: ["*"]
                              routes:
                %s
                              - match: {prefix: "/"}
                                direct_response: {status: 200, body: {inline_string: "ok"}}
                          http_filters:
                          - name: envoy.filters.http.router
                            typed_config:
                              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
                %s""".formatted(port, closingRoute, closingCluster);
    }

    private static ProcessBuilder launcher(List<String> args, String javaOpts) {
        List<String> command = new ArrayList<>(List.of(checkout.resolve("sourcemesh").toString()));
        command.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(checkout.resolve("launcher.out").toFile());
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("SOURCEMESH_JAVA_OPTS", javaOpts);
        pb.environment().remove("SOURCEMESH_NO_AOT_TRAINING");
        return pb;
    }

    /** The jars among a process's open files, as real paths. */
    private static Set<Path> openJars(long pid) throws IOException {
        Set<Path> jars = new TreeSet<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc/" + pid + "/fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    Path file = Files.readSymbolicLink(fd);
                    if (file.toString().endsWith(".jar")) {
                        jars.add(file);
                    }
                } catch (IOException closedMeanwhile) {
                    // closed between the listing and the read
                }
            }
        }
        return jars;
    }

    private static final Pattern JAR_SOURCE = Pattern.compile(" source: (?:jar:)?file:(/[^!\\s]+\\.jar)");

    /** {@link #lastJarsRead}'s jars for a proxy that wrote {@code classLoadLog}. */
    private static Set<Path> jarsRead(Path classLoadLog) throws IOException {
        Set<Path> jars = new TreeSet<>();
        jars.add(target.resolve("sourcemesh-cli-test.jar").toRealPath());
        jars.add(target.resolve("lib/sourcemesh-proxy-test.jar").toRealPath());
        jars.add(target.resolve("lib").resolve(LauncherCheckout.LOOKUPS).toRealPath());
        try (Stream<String> lines = Files.lines(classLoadLog)) {
            for (String line : lines.toList()) {
                java.util.regex.Matcher m = JAR_SOURCE.matcher(line);
                if (m.find()) {
                    jars.add(Path.of(m.group(1)).toRealPath());
                }
            }
        }
        return jars;
    }

    /** The {@code -cp} of a running JVM's command line. */
    private static String classPath(long pid) throws IOException {
        List<String> args = List.of(Files.readString(Path.of("/proc/" + pid + "/cmdline")).split("\0"));
        int i = args.indexOf("-cp");
        assertTrue(i >= 0 && i + 1 < args.size(), () -> "a -cp in " + args);
        return args.get(i + 1);
    }

    /** The bash the launcher's {@code #!/usr/bin/env bash} finds on this PATH. */
    private static String bash() {
        String bash = onPath("bash");
        if (!Files.isExecutable(Path.of(bash))) {
            throw new IllegalStateException("no bash on the PATH");
        }
        return bash;
    }

    /** Where a program is on this PATH, or its bare name when it is on none. */
    private static String onPath(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, program))) {
                return Path.of(dir, program).toString();
            }
        }
        return program;
    }

    /** What the last launcher run printed. */
    private static String output(Process p) {
        try {
            return "(exit " + (p == null ? "?" : p.isAlive() ? "-" : p.exitValue()) + ")\n" + Files.readString(checkout.resolve("launcher.out"));
        } catch (IOException e) {
            return e.toString();
        }
    }

    /** The training run's output. */
    private static String log() {
        try {
            Path log = target.resolve("sourcemesh-proxy-aot.log");
            return Files.exists(log) ? "\n" + Files.readString(log) : "";
        } catch (IOException e) {
            return e.toString();
        }
    }
}
