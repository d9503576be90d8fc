package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The class lookups that fail while a proxy starts and serves its first 200, on the proxy's class path
 * (the launcher's: no SLF4J or Log4j jar), from the JVM's exception log: each one searched every jar.
 * Netty's logging is set to JUL up front ({@link NettyLogging}), so none is a probe for a logging
 * framework; what is left is protobuf's Android probe, a static check this JVM (the bare class path) cannot
 * preempt; the launcher's module path can (sourcemesh-lookups: ProxyAotCacheTest counts a proxy's open jars).
 */
class ProxyStartLookupsTest {
    @TempDir
    Path dir;

    private static final Pattern FAILED = Pattern.compile(
            "Exception <a 'java/lang/(?:ClassNotFoundException|NoClassDefFoundError)'\\{[^}]*\\}: ([\\w/.$]+)>");

    @Test
    void aProxyStartProbesForNoLoggingFramework() throws Exception {
        Set<String> failed = failedLookupsOfAStart();
        assertEquals(Set.of(), failed.stream().filter(n -> n.startsWith("org.slf4j.") || n.startsWith("org.apache.log4j.")
                || n.startsWith("org.apache.logging.")).collect(Collectors.toSet()), "probes for a logging framework: " + failed);
        assertTrue(failed.size() <= 2, () -> "failed class lookups (protobuf's Android probe at most): " + failed);
    }

    /** Starts {@link ProxyMain} on the proxy's jars, gets a 200 through it, and names the classes it failed to find. */
    private Set<String> failedLookupsOfAStart() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Path bootstrap = dir.resolve("bootstrap.yaml");
        Files.writeString(bootstrap, ProxyAotCacheTest.answeringBootstrap(port));
        String classPath = Stream.of(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(e -> !ProxyAotCacheTest.NOT_THE_PROXYS.matcher(Path.of(e).getFileName().toString()).find())
                .collect(Collectors.joining(File.pathSeparator));
        Path exceptions = dir.resolve("exceptions.log");
        Process proxy = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xlog:exceptions=info:file=" + exceptions, "-cp", classPath, ProxyMain.class.getName(),
                "proxy", "-c", bootstrap.toString(), "--concurrency", "1")
                .redirectErrorStream(true).redirectOutput(dir.resolve("proxy.out").toFile()).start();
        try {
            assertEquals(200, ProxyAotCacheTest.awaitStatus(port, proxy, 60), () -> "the proxy answers: " + output());
        } finally {
            proxy.destroy();
            if (!proxy.waitFor(10, TimeUnit.SECONDS)) {
                proxy.destroyForcibly().waitFor();
            }
        }
        Set<String> names = new TreeSet<>();
        for (String line : Files.readAllLines(exceptions)) {
            Matcher m = FAILED.matcher(line);
            if (m.find()) {
                names.add(m.group(1).replace('/', '.'));
            }
        }
        return names;
    }

    private String output() {
        try {
            return Files.readString(dir.resolve("proxy.out"));
        } catch (IOException e) {
            return e.toString();
        }
    }
}
