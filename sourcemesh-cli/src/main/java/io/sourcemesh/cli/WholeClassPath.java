package io.sourcemesh.cli;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The CLI on all its jars, for a {@code proxy} line {@link ProxyMain} leaves to picocli's {@link Main}
 * (help, a mistyped flag): the launcher starts a proxy on the proxy's own jars only, and {@code Main}
 * reaches the cluster's. They are the CLI jar and the {@code lib/} beside it, as the build lays them out.
 */
final class WholeClassPath {
    /** Picocli's, which {@code Main} needs and the proxy's jars do not hold. */
    private static final String PROBE = "picocli/CommandLine.class";

    private WholeClassPath() {}

    /** Whether this JVM runs on the CLI's whole class path. */
    static boolean here() {
        return WholeClassPath.class.getClassLoader().getResource(PROBE) != null;
    }

    /** Runs {@code Main.main(args)} from a class loader over the CLI jar and every jar in its {@code lib/}. */
    static void main(String[] args) throws Exception {
        Path cliJar;
        try {
            cliJar = Path.of(WholeClassPath.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IOException("cannot locate the CLI's jar: " + e.getMessage(), e);
        }
        List<URL> urls = new ArrayList<>(List.of(cliJar.toUri().toURL()));
        try (Stream<Path> lib = Files.list(cliJar.resolveSibling("lib"))) {
            for (Path jar : lib.filter(p -> p.getFileName().toString().endsWith(".jar")).sorted().toList()) {
                urls.add(jar.toUri().toURL());
            }
        }
        ClassLoader loader = new URLClassLoader("sourcemesh-cli", urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader());
        Thread.currentThread().setContextClassLoader(loader);
        try {
            loader.loadClass(Main.class.getName()).getMethod("main", String[].class).invoke(null, (Object) args);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof Exception cause) {
                throw cause;
            }
            throw (Error) e.getCause();
        }
    }
}
