package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A proxy the launcher starts loads Netty's transport library from the build's {@code native/} directory
 * (on its java.library.path), not from a copy Netty extracts from its jar to its work directory at every
 * start. The work directory is the test's, and Netty is told to keep what it extracts (until exit): it
 * must stay empty while the proxy serves, and the library mapped must be the build's.
 */
class ProxyNativeLibrariesTest {
    @TempDir
    static Path checkout;

    static LauncherCheckout build;

    @BeforeAll
    static void layOutABuild() throws IOException {
        build = LauncherCheckout.layOut(checkout);
        build.writeProxyClassPath(n -> !ProxyAotCacheTest.NOT_THE_PROXYS.matcher(n).find());
    }

    @AfterAll
    static void unlinkJars() throws IOException {
        build.unlinkJars();
    }

    @Test
    void aProxyLoadsTheBuildsTransportLibraryAndExtractsNone() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Path bootstrap = checkout.resolve("bootstrap.yaml");
        Files.writeString(bootstrap, ProxyAotCacheTest.answeringBootstrap(port));
        Path workdir = Files.createDirectories(checkout.resolve("netty-workdir"));
        Path out = checkout.resolve("launcher.out");
        ProcessBuilder pb = new ProcessBuilder(checkout.resolve("sourcemesh").toString(), "proxy", "-c", bootstrap.toString(),
                "--concurrency", "1").redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("SOURCEMESH_NO_AOT_TRAINING", "1"); // the cache is ProxyAotCacheTest's subject
        pb.environment().put("SOURCEMESH_JAVA_OPTS",
                "-Dio.netty.native.workdir=" + workdir + " -Dio.netty.native.deleteLibAfterLoading=false");
        Process proxy = pb.start();
        List<String> extracted;
        List<String> mapped;
        try {
            assertEquals(200, ProxyAotCacheTest.awaitStatus(port, proxy, 120), () -> "the proxy answers: " + read(out));
            try (Stream<Path> files = Files.list(workdir)) {
                extracted = files.map(f -> f.getFileName().toString()).toList();
            }
            // the launcher execs the JVM: the same process
            try (Stream<String> maps = Files.lines(Path.of("/proc/" + proxy.pid() + "/maps"))) {
                mapped = maps.filter(l -> l.contains("libnetty_transport_native_")).map(l -> l.substring(l.lastIndexOf(' ') + 1))
                        .distinct().toList();
            }
        } finally {
            proxy.destroy();
            if (!proxy.waitFor(10, TimeUnit.SECONDS)) {
                proxy.destroyForcibly().waitFor();
            }
        }
        assertEquals(List.of(), extracted, "native libraries Netty extracted at the start");
        Path natives = build.target.resolve("native");
        assertTrue(!mapped.isEmpty() && mapped.stream().allMatch(m -> Path.of(m).getParent().equals(natives)),
                () -> "transport libraries mapped from " + natives + ": " + mapped);
    }

    private static String read(Path p) {
        try {
            return Files.readString(p);
        } catch (IOException e) {
            return e.toString();
        }
    }
}
