package io.sourcemesh.cli;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A checkout laid out as the build leaves it, made from this test's class path: the launcher script,
 * {@code .ci/java-env}, {@code sourcemesh-cli/target/sourcemesh-cli-test.jar}, {@code lib/} (the
 * sibling modules' classes jarred, the dependencies linked) and {@code native/} (Netty's transport
 * libraries). Tests run the real launcher on it.
 *
 * <p>An extension: registered in a static field ({@code @RegisterExtension static final LauncherCheckout build =
 * LauncherCheckout.laidOut();}) it is laid out once for the class's tests, in an instance field once for each
 * test; then removed, its links to the build's jars as links.
 */
final class LauncherCheckout implements BeforeAllCallback, BeforeEachCallback, AfterEachCallback, AfterAllCallback {
    /** The module the launcher puts on a proxy's module path, as {@code lib/} holds it. */
    static final String LOOKUPS = "sourcemesh-lookups-test.jar";

    final Path root;
    final Path target;
    private final boolean proxyClassPath;
    private List<String> proxyJars = List.of();
    private boolean laidOut;
    private boolean forEachTest;

    private LauncherCheckout(Path root, boolean proxyClassPath) {
        this.root = root;
        this.target = root.resolve("sourcemesh-cli/target");
        this.proxyClassPath = proxyClassPath;
    }

    /** A checkout in a directory of its own, laid out before the tests. */
    static LauncherCheckout laidOut() {
        return new LauncherCheckout(tempDirectory(), false);
    }

    /**
     * As {@link #laidOut()}, with the proxy module's runtime class path written as its build writes it ({@code
     * sourcemesh-proxy/target/runtime-classpath}): the launcher then runs a proxy on those jars, as after a build.
     */
    static LauncherCheckout laidOutWithProxyClassPath() {
        return new LauncherCheckout(tempDirectory(), true);
    }

    private static Path tempDirectory() {
        try {
            return Files.createTempDirectory("sourcemesh-checkout-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void beforeAll(ExtensionContext context) throws IOException {
        layOut();
    }

    @Override
    public void beforeEach(ExtensionContext context) throws IOException {
        if (!laidOut) { // registered in an instance field: no beforeAll
            forEachTest = true;
            layOut();
        }
    }

    @Override
    public void afterEach(ExtensionContext context) throws IOException {
        if (forEachTest) {
            remove();
        }
    }

    @Override
    public void afterAll(ExtensionContext context) throws IOException {
        remove();
    }

    /** The jars in {@code lib/} the proxy's runtime class path names (a checkout {@link #laidOutWithProxyClassPath()}). */
    List<String> proxyJars() {
        return proxyJars;
    }

    private void layOut() throws IOException {
        Path repo = Path.of("..").toAbsolutePath().normalize();
        Files.createDirectories(root.resolve(".ci"));
        Files.copy(repo.resolve("sourcemesh"), root.resolve("sourcemesh"));
        Files.copy(repo.resolve(".ci/java-env"), root.resolve(".ci/java-env"));
        Path lib = Files.createDirectories(target.resolve("lib"));
        int n = 0;
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path p = Path.of(entry).toAbsolutePath();
            if (p.endsWith(Path.of("sourcemesh-cli", "target", "classes"))) {
                jar(p, target.resolve("sourcemesh-cli-test.jar"));
            } else if (p.endsWith(Path.of("sourcemesh-proxy", "target", "classes"))) {
                jar(p, lib.resolve("sourcemesh-proxy-test.jar")); // named as the build names it: the launcher looks for it
            } else if (p.getParent() != null && p.getParent().endsWith(Path.of("sourcemesh-proxy", "target"))
                    && p.getFileName().toString().endsWith(".jar") && !p.getFileName().toString().endsWith("-tests.jar")) {
                Files.createSymbolicLink(lib.resolve("sourcemesh-proxy-test.jar"), p); // the packaged module (a verify run)
            } else if (p.endsWith(Path.of("sourcemesh-lookups", "target", "classes"))) {
                jar(p, lib.resolve(LOOKUPS)); // named as the build names it: the launcher looks for it
            } else if (p.getParent() != null && p.getParent().endsWith(Path.of("sourcemesh-lookups", "target"))
                    && p.getFileName().toString().endsWith(".jar")) {
                Files.createSymbolicLink(lib.resolve(LOOKUPS), p);
            } else if (Files.isDirectory(p) && !p.endsWith("test-classes")) {
                jar(p, lib.resolve("module-" + n++ + ".jar")); // a sibling module's classes in a reactor build
            } else if (p.toString().endsWith(".jar")) {
                Files.createSymbolicLink(lib.resolve(n++ + "-" + p.getFileName()), p);
            }
        }
        if (!Files.exists(target.resolve("sourcemesh-cli-test.jar"))) {
            throw new IllegalStateException("the CLI's classes are not on the class path");
        }
        unpackNativeLibraries(target.resolve("native"));
        if (proxyClassPath) {
            proxyJars = writeProxyClassPath();
        }
        laidOut = true;
    }

    /**
     * Removes the checkout (also one laid out in part). Links are removed as links: JUnit's own temporary
     * directories warn about each link that leads out of them.
     */
    private void remove() throws IOException {
        laidOut = false;
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Netty's transport libraries out of their jars on this class path, as the build unpacks them (flat). */
    private static void unpackNativeLibraries(Path dir) throws IOException {
        Files.createDirectories(dir);
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            Path p = Path.of(entry);
            if (!p.getFileName().toString().startsWith("netty-transport-native-") || !entry.endsWith(".jar")) {
                continue;
            }
            try (JarFile jar = new JarFile(p.toFile())) {
                for (JarEntry e : jar.stream().filter(e -> e.getName().matches("META-INF/native/[^/]+\\.so")).toList()) {
                    try (InputStream in = jar.getInputStream(e)) {
                        Files.copy(in, dir.resolve(e.getName().substring("META-INF/native/".length())));
                    }
                }
            }
        }
    }

    /** The class path the launcher gives a verb's JVM, as it writes it. */
    String classPath() {
        return target.resolve("sourcemesh-cli-test.jar") + File.pathSeparator + target.resolve("lib") + File.separator + "*";
    }

    /**
     * Writes the proxy module's runtime class path as its build does ({@code
     * sourcemesh-proxy/target/runtime-classpath}: {@code lib/} names joined by ':'): the jars in {@code lib/} a
     * proxy needs (not {@link ProxyAotCacheTest#NOT_THE_PROXYS}), the proxy module's own jar left out (the launcher
     * adds it), as is {@link #LOOKUPS} (not the proxy's dependency: the launcher puts it on the module path).
     */
    private List<String> writeProxyClassPath() throws IOException {
        List<String> names;
        try (Stream<Path> lib = Files.list(target.resolve("lib"))) {
            names = lib.map(p -> p.getFileName().toString())
                    .filter(n -> !n.equals("sourcemesh-proxy-test.jar") && !n.equals(LOOKUPS)
                            && !ProxyAotCacheTest.NOT_THE_PROXYS.matcher(n).find()).sorted().toList();
        }
        Path file = root.resolve("sourcemesh-proxy/target/runtime-classpath");
        Files.createDirectories(file.getParent());
        Files.writeString(file, String.join(File.pathSeparator, names.stream().map(n -> "lib/" + n).toList()));
        return names;
    }

    /** Waits (at most 180 s) for the cache a background JVM assembles after a recording run; true once it is there. */
    static boolean awaitCache(Path cache) throws InterruptedException {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(180);
        while (!Files.exists(cache) && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        return Files.exists(cache);
    }

    /** Where {@code -Xlog:class+load} says {@code className} came from ("shared objects file": the AOT cache), or "not loaded". */
    static String classSource(Path classLoadLog, String className) throws IOException {
        try (java.util.stream.Stream<String> lines = Files.lines(classLoadLog)) {
            return lines.filter(l -> l.contains(" " + className + " source: ")).findFirst()
                    .map(l -> l.substring(l.indexOf(" source: ") + 9).strip()).orElse("not loaded");
        }
    }

    /** What a test does with a proxy while it serves. */
    interface WhileServing<T> {
        T with(Process proxy) throws Exception;
    }

    /**
     * Runs {@code sourcemesh proxy --concurrency 1} from this checkout on a bootstrap that answers 200 on a free loopback
     * port ({@link ProxyAotCacheTest#answeringBootstrap}), with {@code SOURCEMESH_JAVA_OPTS} {@code javaOpts} and no AOT
     * training (the cache is ProxyAotCacheTest's subject); once it answers, {@code whileServing} sees it (the launcher
     * execs the JVM: the process is the proxy); then it is stopped. Its output goes to {@code launcher.out}.
     */
    <T> T whileProxyServes(String javaOpts, WhileServing<T> whileServing) throws Exception {
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Path bootstrap = root.resolve("bootstrap.yaml");
        Files.writeString(bootstrap, ProxyAotCacheTest.answeringBootstrap(port));
        Path out = root.resolve("launcher.out");
        ProcessBuilder pb = new ProcessBuilder(root.resolve("sourcemesh").toString(), "proxy", "-c", bootstrap.toString(),
                "--concurrency", "1").redirectErrorStream(true).redirectOutput(out.toFile());
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("SOURCEMESH_NO_AOT_TRAINING", "1");
        pb.environment().put("SOURCEMESH_JAVA_OPTS", javaOpts);
        Process proxy = pb.start();
        try {
            int status = ProxyAotCacheTest.awaitStatus(port, proxy, 120);
            if (status != 200) {
                throw new AssertionError("the proxy answers " + status + ": " + Files.readString(out));
            }
            return whileServing.with(proxy);
        } finally {
            proxy.destroy();
            if (!proxy.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                proxy.destroyForcibly().waitFor();
            }
        }
    }

    private static void jar(Path classes, Path jar) throws IOException {
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream j = new JarOutputStream(out);
                Stream<Path> files = Files.walk(classes)) {
            for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                j.putNextEntry(new JarEntry(classes.relativize(f).toString().replace(File.separatorChar, '/')));
                Files.copy(f, j);
                j.closeEntry();
            }
        }
    }
}
