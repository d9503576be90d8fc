package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A proxy the launcher starts loads Netty's transport library from the build's {@code native/} directory
 * (on its java.library.path), not from a copy Netty extracts from its jar to its work directory at every
 * start. The work directory is the test's, and Netty is told to keep what it extracts (until exit): it
 * must stay empty while the proxy serves, and the library mapped must be the build's.
 */
class ProxyNativeLibrariesTest {
    @RegisterExtension
    static final LauncherCheckout build = LauncherCheckout.laidOutWithProxyClassPath();

    @Test
    void aProxyLoadsTheBuildsTransportLibraryAndExtractsNone() throws Exception {
        Path workdir = Files.createDirectories(build.root.resolve("netty-workdir"));
        record Seen(List<String> extracted, List<String> mapped) {}
        Seen seen = build.whileProxyServes(
                "-Dio.netty.native.workdir=" + workdir + " -Dio.netty.native.deleteLibAfterLoading=false", proxy -> {
                    List<String> extracted;
                    try (Stream<Path> files = Files.list(workdir)) {
                        extracted = files.map(f -> f.getFileName().toString()).toList();
                    }
                    // the launcher execs the JVM: the same process
                    try (Stream<String> maps = Files.lines(Path.of("/proc/" + proxy.pid() + "/maps"))) {
                        return new Seen(extracted, maps.filter(l -> l.contains("libnetty_transport_native_"))
                                .map(l -> l.substring(l.lastIndexOf(' ') + 1)).distinct().toList());
                    }
                });
        List<String> mapped = seen.mapped();
        assertEquals(List.of(), seen.extracted(), "native libraries Netty extracted at the start");
        Path natives = build.target.resolve("native");
        assertTrue(!mapped.isEmpty() && mapped.stream().allMatch(m -> Path.of(m).getParent().equals(natives)),
                () -> "transport libraries mapped from " + natives + ": " + mapped);
    }
}
