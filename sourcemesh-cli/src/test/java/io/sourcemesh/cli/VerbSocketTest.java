package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's read verbs through the daemon's socket: the real launcher script, on a checkout laid
 * out as the build leaves it, run each command line the JVM's way ({@code SOURCEMESH_FAST_VERBS=0})
 * and through the socket, against the same cluster — stdout, stderr and exit code byte for byte the
 * same, errors included; the lines a JVM must run, a rebuilt jar, a missing or dead socket all take
 * the JVM, silently; and only the socket's owner gets an answer.
 */
class VerbSocketTest {
    @RegisterExtension
    static final LauncherCheckout checkout = LauncherCheckout.laidOut();

    @TempDir
    Path home;

    FakeCluster cluster;
    VerbSocket socket;

    @BeforeEach
    void start() throws IOException {
        cluster = FakeCluster.start(home);
        cluster.applySeed("sleep.yaml", "httpbin.yaml", "http-demo.yaml");
        cluster.seedPods();
        socket = VerbSocket.open(home, build());
    }

    @AfterEach
    void stop() throws IOException {
        socket.close();
        cluster.close();
    }

    private static BuildId build() {
        return BuildId.of(checkout.classPath(), System.getProperty("java.home"));
    }

    /** Command lines both ways must print alike: tables, formats, and kubectl's errors. */
    private static final List<List<String>> LINES = List.of(
            List.of("get", "pods"),
            List.of("get", "pods", "-A"),
            List.of("-n", "default", "get", "pods", "-o", "wide"),
            List.of("get", "deploy", "sleep", "-o", "yaml"),
            List.of("get", "svc", "-o", "json"),
            List.of("get", "pods", "-o", "jsonpath={.items[*].metadata.name}"),
            List.of("get", "all", "--no-headers"),
            List.of("get", "foo"),                              // unknown resource type
            List.of("get", "pods", "-n", "nowhere"),            // a namespace with nothing in it
            List.of("get", "pods", "--bogus"),                  // a bad flag
            List.of("get", "pods", "-o", "table"),              // a bad output format
            List.of("get"),                                     // a missing argument
            List.of("get", "pods", "nope", "a\\b c ", "\u00fcber\t"), // not found; stderr with \, spaces, tab, UTF-8
            List.of("get", "pods", "-l", "app in (x"),          // a bad selector
            List.of("describe", "pods"),
            List.of("describe", "deploy", "sleep"),
            List.of("describe", "svc", "nope"),
            List.of("describe", "pods", "--bogus"),
            List.of("status"),
            List.of("status", "extra"));

    @Test
    void everyLinePrintsWhatTheJvmPrints() throws Exception {
        long served = socket.served();
        for (List<String> line : LINES) {
            List<String> args = withHome(line);
            Run jvm = launcher(args, Map.of("SOURCEMESH_FAST_VERBS", "0"), null);
            Run fast = launcher(args, Map.of(), null);
            assertEquals(jvm, fast, "both ways: " + line);
            assertEquals(++served, socket.served(), "through the socket: " + line);
        }
        assertTrue(launcher(withHome(List.of("get", "foo")), Map.of(), null).err().startsWith("error: the server doesn't have a resource type"),
                "an error as kubectl words it");
    }

    @Test
    void theHomeIsTheCallersRelativeToItsDirectory() throws Exception {
        Path cwd = home.getParent();
        String relative = home.getFileName().toString();
        long served = socket.served();
        // --home relative to the caller's directory, and SOURCEMESH_HOME (relative too) when there is no --home
        for (Map<String, String> env : List.of(Map.<String, String>of(), Map.of("SOURCEMESH_HOME", relative))) {
            List<String> args = env.isEmpty() ? List.of("--home", relative, "get", "pods") : List.of("get", "pods");
            Map<String, String> jvmEnv = new HashMap<>(env);
            jvmEnv.put("SOURCEMESH_FAST_VERBS", "0");
            Run jvm = launcher(args, jvmEnv, cwd);
            Run fast = launcher(args, env, cwd);
            assertEquals(0, jvm.code(), jvm.err());
            assertTrue(jvm.out().contains("sleep-8f764df66-q7dr2"), jvm.out());
            assertEquals(jvm, fast, "both ways: " + args + " " + env);
            assertEquals(++served, socket.served(), "through the socket: " + args + " " + env);
        }
        Run status = launcher(List.of("--home", relative, "status"), Map.of(), cwd);
        assertTrue(status.out().contains("state:     " + home), status.out());
    }

    @Test
    void linesAJvmMustRunAreLeftToIt() throws Exception {
        long served = socket.served();
        for (List<String> line : List.of(List.of("get", "pods", "-w"), List.of("get", "pods", "--watch"), List.of("get", "--help"),
                List.of("logs", "deploy/sleep"), List.of("apply", "-f", "-"), List.of("describe", "-h"))) {
            List<String> args = withHome(line);
            Run jvm = launcher(args, Map.of("SOURCEMESH_FAST_VERBS", "0"), null);
            assertEquals(jvm, launcher(args, Map.of(), null), "both ways: " + line);
            assertEquals(served, socket.served(), "not through the socket: " + line);
        }
    }

    @Test
    void aRebuiltJarADeadOrMissingSocketTakeTheJvmSilently() throws Exception {
        List<String> args = withHome(List.of("get", "pods", "nope"));
        Run expected = launcher(args, Map.of("SOURCEMESH_FAST_VERBS", "0"), null);
        assertEquals(1, expected.code());
        long served = socket.served();

        // a rebuild: a jar of the class path is newer than the daemon's — the CLI's own, a file of this
        // checkout in every build (the sibling modules are jarred copies under `-am test` but links to
        // the reactor's jars under `verify`)
        Path jar = checkout.target.resolve("sourcemesh-cli-test.jar");
        FileTime was = Files.getLastModifiedTime(jar);
        Files.setLastModifiedTime(jar, FileTime.from(Instant.now().plusSeconds(5)));
        try {
            assertEquals(expected, launcher(args, Map.of(), null), "a rebuilt jar: the JVM");
            assertEquals(served, socket.served(), "a daemon of the older build is not used");
        } finally {
            Files.setLastModifiedTime(jar, was);
        }
        assertEquals(expected, launcher(args, Map.of(), null));
        assertEquals(++served, socket.served(), "the same build again: the socket");

        // another locale than the daemon's: its defaults could differ, so the JVM
        assertEquals(expected, launcher(args, Map.of("LC_ALL", "C"), null));
        assertEquals(served, socket.served(), "another locale: the JVM");

        // the daemon is gone but its socket file is left: connection refused
        socket.close();
        try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(home.resolve(VerbSocket.FILE)));
        }
        assertTrue(Files.exists(home.resolve(VerbSocket.FILE)), "a socket file nobody listens on");
        assertEquals(expected, launcher(args, Map.of(), null), "connection refused: the JVM, silently");

        // no socket at all
        Files.delete(home.resolve(VerbSocket.FILE));
        assertEquals(expected, launcher(args, Map.of(), null), "no socket: the JVM, silently");
        socket = VerbSocket.open(home, build()); // for stop()
    }

    @Test
    void onlyTheOwnerGetsAnAnswer() throws Exception {
        Path sock = home.resolve(VerbSocket.FILE);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(sock)));
        assertEquals(Files.getOwner(home), Files.getOwner(sock));
        assertEquals("409", curlAs(List.of(), sock), "the owner is answered (an empty call: 409, run a JVM)");
        assumeTrue(new com.sun.security.auth.module.UnixSystem().getUid() == 0, "another user needs root to be");
        var homeMode = Files.getPosixFilePermissions(home);
        Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwx--x--x"));
        try {
            List<String> nobody = List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--");
            assertEquals("000", curlAs(nobody, sock), "the file's mode keeps another user out");
            Files.setPosixFilePermissions(sock, PosixFilePermissions.fromString("rw-rw-rw-"));
            assertEquals("403", curlAs(nobody, sock), "and its peer credentials, were the mode opened");
        } finally {
            Files.setPosixFilePermissions(home, homeMode);
        }
    }

    @Test
    void stderrCrossesAHeaderByteForByte() throws Exception {
        byte[] all = new byte[256];
        for (int i = 0; i < all.length; i++) {
            all[i] = (byte) i;
        }
        String escaped = VerbSocket.escape(all);
        assertTrue(escaped.chars().allMatch(c -> c > 0x20 && c < 0x7f), "one header value, nothing for HTTP to trim");
        Process p = new ProcessBuilder("bash", "-c", "printf '%b' \"$1\"", "-", escaped).start();
        byte[] decoded = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        assertArrayEquals(all, decoded);
    }

    @Test
    void callsItLeavesToAJvm() {
        String cp = checkout.classPath();
        String java = System.getProperty("java.home");
        Map<String, String> env = new HashMap<>();
        for (String name : List.of("LANG", "LC_ALL", "LC_CTYPE", "LC_MESSAGES", "TZ")) {
            if (System.getenv(name) != null) {
                env.put(name, System.getenv(name));
            }
        }
        assertNull(socket.refusal(call(cp, java, env, "get", "pods")));
        assertNull(socket.refusal(call(cp, java, env, "-n", "x", "describe", "pods", "--", "-w")));
        assertNotNull(socket.refusal(call(cp + ":/nonexistent.jar", java, env, "get", "pods")), "another class path");
        assertNotNull(socket.refusal(call(cp, "/usr", env, "get", "pods")), "another JDK");
        Map<String, String> otherTz = new HashMap<>(env);
        otherTz.put("TZ", "Asia/Hong_Kong-" + System.nanoTime());
        assertNotNull(socket.refusal(call(cp, java, otherTz, "get", "pods")), "another time zone");
        for (List<String> line : List.of(List.of("exec", "deploy/sleep", "--", "true"), List.of("apply", "-f", "x.yaml"), List.of("up"),
                List.of("logs", "-f", "x"), List.of("get", "pods", "-w"), List.of("get", "pods", "--watch=true"), List.of("get", "-h"),
                List.of("--version"), List.of("--home", "get", "pods"), List.<String>of())) {
            assertNotNull(socket.refusal(call(cp, java, env, line.toArray(String[]::new))), line.toString());
        }
    }

    private static VerbSocket.Call call(String cp, String java, Map<String, String> env, String... args) {
        return new VerbSocket.Call("1", Path.of("/"), java, cp, Map.copyOf(env), List.of(args));
    }

    private List<String> withHome(List<String> line) {
        List<String> all = new ArrayList<>(List.of("--home", home.toString()));
        all.addAll(line);
        return all;
    }

    record Run(int code, String out, String err) {}

    private static Run launcher(List<String> args, Map<String, String> env, Path cwd) throws Exception {
        List<String> command = new ArrayList<>(List.of(checkout.root.resolve("sourcemesh").toString()));
        command.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        if (cwd != null) {
            pb.directory(cwd.toFile());
        }
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("SOURCEMESH_NO_AOT_TRAINING", "1");
        pb.environment().remove("SOURCEMESH_JAVA_OPTS");
        pb.environment().remove("SOURCEMESH_FAST_VERBS");
        pb.environment().remove("SOURCEMESH_HOME");
        pb.environment().putAll(env);
        Process p = pb.start();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Thread errReader = Thread.ofVirtual().start(() -> {
            try {
                p.getErrorStream().transferTo(err);
            } catch (IOException ignored) {
                // the process is gone
            }
        });
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the launcher ends: " + args);
        errReader.join();
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** The HTTP status curl gets for an empty call on {@code sock}, run as {@code as} (000: no connection). */
    private static String curlAs(List<String> as, Path sock) throws Exception {
        List<String> command = new ArrayList<>(as);
        command.addAll(List.of("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--unix-socket", sock.toString(),
                "--data-binary", "", "http://sourcemesh/v1/run"));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        return out;
    }
}
