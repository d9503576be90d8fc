package io.sourcemesh.l4.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.uring.IoUring;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The native libraries a process on the default transport extracts from Netty's jars: each is copied to
 * Netty's work directory, linked and initialised at every start. An io_uring process needs io_uring's
 * only; epoll's was loaded too, by a probe for a fallback the choice never reached. Counted in a fresh
 * JVM ({@link TransportProbe}) that lists what it extracted to a directory of the test's.
 */
class TransportNativeLibrariesTest {
    @TempDir
    Path workdir;

    @Test
    void anIoUringProcessExtractsIoUringsLibraryOnly() throws Exception {
        assumeTrue(IoUring.isAvailable(), () -> "io_uring: " + IoUring.unavailabilityCause());
        Path out = workdir.resolve("probe.log");
        Path natives = Files.createDirectory(workdir.resolve("natives"));
        Process process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "-Dio.netty.native.workdir=" + natives, "-Dio.netty.native.deleteLibAfterLoading=false",
                "-cp", System.getProperty("java.class.path"), TransportProbe.class.getName())
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
        String output = Files.readString(out, StandardCharsets.UTF_8);
        assertEquals(0, process.exitValue(), output);
        assertTrue(output.contains("transport=io_uring\n"), output);
        String extracted = output.lines().filter(l -> l.startsWith("natives=")).findFirst().orElseThrow();
        assertTrue(extracted.matches("natives=\\[libnetty_transport_native_io_uring[^,]*\\.so]"),
                () -> "one library, io_uring's: " + extracted);
    }
}
