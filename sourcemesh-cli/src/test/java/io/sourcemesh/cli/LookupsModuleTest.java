package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sourcemesh-lookups module on a JVM's module path, as the launcher puts it on a proxy's, in front of
 * the proxy's class path: the lookups every proxy makes — JUL's start (the JDK logging's LoggerFinder
 * service), a {@code System.getLogger} (the exit's: is there more than one LoggerFinder?) and protobuf's
 * Android probe — open no jar of the class path, where each would open every one; and the JDK's loggers
 * are the module's, on JUL.
 */
class LookupsModuleTest {
    @TempDir
    Path dir;

    @Test
    void theProxysLookupsOpenNoJarOfTheClassPath() throws Exception {
        List<String> classPath = Stream.of(System.getProperty("java.class.path").split(File.pathSeparator)).toList();
        String module = classPath.stream().filter(e -> e.contains("sourcemesh-lookups")).findFirst()
                .orElseThrow(() -> new IllegalStateException("sourcemesh-lookups is not on the class path"));
        String proxys = classPath.stream().filter(e -> !e.equals(module))
                .filter(e -> !ProxyAotCacheTest.NOT_THE_PROXYS.matcher(Path.of(e).getFileName().toString()).find())
                .collect(Collectors.joining(File.pathSeparator));
        Path out = dir.resolve("probe.out");
        Process probe = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--module-path", module, "--add-modules", "sourcemesh.lookups", "-cp", proxys, Probe.class.getName())
                .redirectErrorStream(true).redirectOutput(out.toFile()).start();
        if (!probe.waitFor(60, TimeUnit.SECONDS)) {
            probe.destroyForcibly().waitFor();
        }
        assertEquals(List.of("finder io.sourcemesh.lookups.JulLoggerFinder", "jars opened 0", "Android probes 2 absent"),
                Files.readAllLines(out), "the probe's report");
    }

    /** Runs in the JVM above: makes the lookups, then counts the class path's jars among its open files. */
    static final class Probe {
        public static void main(String[] args) throws IOException {
            java.util.logging.Logger.getLogger("probe"); // JUL's start: the LoggerFinder service looked up
            System.getLogger("java.lang.Runtime").isLoggable(System.Logger.Level.DEBUG); // as the exit asks
            int absent = 0;
            for (String probed : List.of("libcore.io.Memory", "org.robolectric.Robolectric")) { // protobuf's Android
                try {
                    Class.forName(probed);
                } catch (ClassNotFoundException expected) {
                    absent++;
                }
            }
            System.out.println("finder " + System.LoggerFinder.getLoggerFinder().getClass().getName());
            long jars;
            try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
                jars = fds.map(fd -> {
                    try {
                        return Files.readSymbolicLink(fd).toString();
                    } catch (IOException closed) {
                        return "";
                    }
                }).filter(f -> f.endsWith(".jar") && !f.contains("sourcemesh-lookups")).count();
            }
            System.out.println("jars opened " + jars);
            System.out.println("Android probes " + absent + " absent");
        }
    }
}
