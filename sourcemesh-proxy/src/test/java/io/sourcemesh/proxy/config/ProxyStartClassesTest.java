package io.sourcemesh.proxy.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.proxy.Proxy;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A proxy process reads its bootstrap, starts and answers a request without loading a single Jackson
 * or gson class (nor protobuf's JsonFormat), nor initialising {@code BigDecimal} (its class initialiser
 * computes 5^65536: tens of milliseconds and ~2 MB of a start), nor building a generated Envoy file
 * descriptor or loading a validation rule (the descriptors come from {@link EnvoyDescriptors}): a child JVM with this module's
 * classpath — Jackson and gson on it — and {@code -Xlog:class+load} and {@code class+init}, the logs
 * searched for them.
 */
class ProxyStartClassesTest {

    @TempDir
    Path dir;

    @Test
    void aProxyStartLoadsNoJacksonNoGsonNorInitialisesBigDecimal() throws Exception {
        Path bootstrap = Files.writeString(dir.resolve("bootstrap.yaml"), """
                node: {id: test, cluster: test, metadata: {A: x}}
                static_resources:
                  listeners:
                  - name: l
                    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
                    filter_chains:
                    - filters:
                      - name: envoy.filters.network.http_connection_manager
                        typed_config:
                          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                          stat_prefix: l
                          access_log:
                          - name: envoy.access_loggers.stdout
                            typed_config: {"@type": type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog}
                          route_config:
                            virtual_hosts:
                            - name: all
                              domains: ["*"]
                              routes:
                              - match: {prefix: "/"}
                                direct_response: {status: 200, body: {inline_string: "ok"}}
                          http_filters:
                          - name: envoy.filters.http.router
                            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
                """);
        Path classes = dir.resolve("classes.log");
        Path inits = dir.resolve("init.log");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xlog:class+load=info:file=" + classes, "-Xlog:class+init=info:file=" + inits, "-cp", System.getProperty("java.class.path"),
                StartOnce.class.getName(), bootstrap.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("out.txt").toFile()).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the child proxy ends");
        String out = Files.readString(dir.resolve("out.txt"));
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("status 200"), out);
        List<String> log = Files.readAllLines(classes);
        assertTrue(log.stream().anyMatch(l -> l.contains(" io.sourcemesh.proxy.config.ProtoYaml ")), "the log lists classes");
        List<String> unwanted = log.stream().filter(l -> l.contains(" com.fasterxml.jackson.") || l.contains(" com.google.gson.")
                || l.contains(" com.google.protobuf.util.JsonFormat")).toList();
        assertEquals(List.of(), unwanted, "classes a proxy start loaded");
        List<String> initialised = Files.readAllLines(inits);
        assertTrue(initialised.stream().anyMatch(l -> l.contains("'io/sourcemesh/proxy/config/ProtoYaml'")), "the log lists initialisations");
        assertEquals(List.of(), initialised.stream().filter(l -> l.contains("'java/math/BigDecimal'")).toList(),
                "a port number read through BigDecimal");
        // The descriptors come from EnvoyDescriptors' snapshot: no generated file descriptor is built
        // (a generated *Proto class's initialiser builds its file and every file it imports, options
        // and annotation files included: the Bootstrap's pulled in 72 files), no validation rule loaded.
        List<String> generatedFiles = initialised.stream().filter(l -> l.contains(" Initializing '")
                && (l.contains("'io/envoyproxy/") || l.contains("'com/github/xds/") || l.contains("'udpa/") || l.contains("'xds/")
                        || l.contains("'envoy/")) && l.matches(".*Proto'.*|.*'(udpa|xds|envoy)/annotations/.*")).toList();
        assertEquals(List.of(), generatedFiles, "generated file descriptors built");
        assertEquals(List.of(), log.stream().filter(l -> l.contains(" io.envoyproxy.pgv.validate.")).toList(), "validation rules loaded");
    }

    /** The child: load the bootstrap, start the proxy, one request through it, stop. */
    static final class StartOnce {
        public static void main(String[] args) throws Exception {
            Proxy proxy = Proxy.start(BootstrapLoader.load(Path.of(args[0])), 1);
            try {
                var address = proxy.listenerAddress("l");
                HttpURLConnection c = (HttpURLConnection) URI.create("http://127.0.0.1:" + address.getPort() + "/").toURL().openConnection();
                try (InputStream in = c.getInputStream()) {
                    in.readAllBytes();
                }
                System.out.println("status " + c.getResponseCode());
            } finally {
                proxy.close();
            }
            System.exit(0);
        }
    }
}
