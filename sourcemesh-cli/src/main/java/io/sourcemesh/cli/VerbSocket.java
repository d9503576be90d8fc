package io.sourcemesh.cli;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;

/**
 * The running daemon answers the launcher's read verbs ({@code get}, {@code describe}, {@code status})
 * so that they cost no JVM start: the launcher sends, with curl over the Unix socket {@code cli.sock}
 * in the cluster's home, the command line, its working directory, the environment variables a verb
 * reads, and the class path and JDK it would run; the daemon runs the same verb code ({@link Main#execute})
 * with the caller's directory and environment ({@link Invocation}) and answers its stdout as the body,
 * its exit code and stderr in headers. Anything else — another build ({@link BuildId}), another locale,
 * a verb that reads stdin, a terminal or streams — is answered 409, and the launcher runs the JVM.
 *
 * <p>Only the socket's owner may use it: the file is mode 0600 from the moment it has its name (made
 * under a temporary one and renamed), and each connection's peer credentials must name the owner —
 * the same trust as the kubeconfig's client key beside it.
 */
final class VerbSocket implements AutoCloseable {
    static final String FILE = "cli.sock";
    /** The verbs served here: they read the cluster and print, nothing more. */
    private static final Set<String> VERBS = Set.of("get", "describe", "status");
    /** Flags that read stdin or a file, want a terminal, stream, or print help: the JVM runs those. */
    private static final Set<String> JVM_ONLY = Set.of("-w", "--watch", "--watch-only", "-f", "--filename", "--follow", "-",
            "-i", "-t", "-it", "--stdin", "--tty", "-h", "--help", "-V", "--version");
    /** The environment that makes a JVM's defaults (locale, time zone): the caller's must be the daemon's. */
    private static final List<String> JVM_ENV = List.of("LANG", "LC_ALL", "LC_CTYPE", "LC_MESSAGES", "TZ");
    /** What an answer's stderr may hold in its header (escaped); a larger one is left to the JVM. */
    private static final int MAX_STDERR = 16 * 1024;
    private static final int MAX_REQUEST = 1 << 20;

    private final Path path;
    private final ServerSocketChannel server;
    private final BuildId build;
    private final UserPrincipal owner;
    private final Thread acceptor;
    private final AtomicLong served = new AtomicLong();

    private VerbSocket(Path path, ServerSocketChannel server, BuildId build, UserPrincipal owner) {
        this.path = path;
        this.server = server;
        this.build = build;
        this.owner = owner;
        this.acceptor = Thread.ofPlatform().daemon().name("verb-socket").start(this::accept);
    }

    /** Listens on {@code cli.sock} in {@code home} for calls from a launcher of {@code build}. */
    static VerbSocket open(Path home, BuildId build) throws IOException {
        Path path = home.resolve(FILE);
        // a name of its own first: the file has the process's umask until chmod, and nobody may connect then
        Path tmp = home.resolve(FILE + "." + ProcessHandle.current().pid() + ".tmp");
        Files.deleteIfExists(tmp);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            server.bind(UnixDomainSocketAddress.of(tmp));
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            UserPrincipal owner = Files.getOwner(tmp);
            Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return new VerbSocket(path, server, build, owner);
        } catch (IOException | RuntimeException e) {
            server.close();
            Files.deleteIfExists(tmp);
            throw e;
        }
    }

    Path path() {
        return path;
    }

    /**
     * Runs the common read verbs once against {@code home}, their output dropped, so that the first
     * caller's is not the call that loads, links and first runs their code (a few tenths of a second).
     */
    void warmUp(Path home) {
        Thread.ofVirtual().name("verb-warm-up").start(() -> {
            Invocation self = new Invocation(home, Map.of("SOURCEMESH_HOME", home.toString()));
            for (String[] line : List.of(new String[] {"get", "pods", "-A"}, new String[] {"get", "svc", "-n", "default", "-o", "wide"},
                    new String[] {"describe", "pods", "-n", "istio-system"}, new String[] {"status"})) {
                PrintWriter nowhere = new PrintWriter(java.io.OutputStream.nullOutputStream());
                try {
                    ScopedValue.where(Invocation.CURRENT, self).call(() ->
                            Main.execute(Clock.systemUTC(), new ByteArrayInputStream(new byte[0]), nowhere, nowhere, line));
                } catch (RuntimeException e) {
                    return; // a warm-up only
                }
            }
        });
    }

    /** How many command lines this socket ran (tests tell the fast path from the JVM's by it). */
    long served() {
        return served.get();
    }

    @Override
    public void close() throws IOException {
        server.close();
        acceptor.interrupt();
        Files.deleteIfExists(path);
    }

    private void accept() {
        while (server.isOpen()) {
            try {
                SocketChannel ch = server.accept();
                Thread.ofVirtual().name("verb-call").start(() -> serve(ch));
            } catch (IOException closed) {
                return;
            }
        }
    }

    private void serve(SocketChannel ch) {
        try (ch) {
            UnixDomainPrincipal peer = ch.getOption(ExtendedSocketOptions.SO_PEERCRED);
            if (!peer.user().equals(owner)) {
                respond(ch, 403, "only " + owner.getName() + " may use this socket\n");
                drain(ch); // closing on an unread request would reset the connection before the client reads the 403
                return;
            }
            byte[] body = readRequest(ch);
            if (body == null) {
                respond(ch, 400, "a POST with a Content-Length\n");
                return;
            }
            Call call = Call.parse(body);
            String refusal = refusal(call);
            if (refusal != null) {
                respond(ch, 409, refusal + "\n");
                return;
            }
            ByteArrayOutputStream stdout = new ByteArrayOutputStream();
            ByteArrayOutputStream stderr = new ByteArrayOutputStream();
            PrintWriter out = new PrintWriter(stdout, true, StandardCharsets.UTF_8);
            PrintWriter err = new PrintWriter(stderr, true, StandardCharsets.UTF_8);
            int code = ScopedValue.where(Invocation.CURRENT, new Invocation(call.cwd(), call.env())).call(() ->
                    Main.execute(Clock.systemUTC(), new ByteArrayInputStream(new byte[0]), out, err, call.args().toArray(String[]::new)));
            out.flush();
            err.flush();
            if (stderr.size() > MAX_STDERR) {
                respond(ch, 409, "stderr too long for a header\n");
                return;
            }
            served.incrementAndGet();
            byte[] head = ("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: " + stdout.size()
                    + "\r\nX-Sourcemesh-Exit: " + code + "\r\nX-Sourcemesh-Stderr: " + escape(stderr.toByteArray())
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
            write(ch, head);
            write(ch, stdout.toByteArray());
        } catch (Exception e) {
            // the launcher sees no answer (or a 500) and runs the JVM, which reports whatever this was
            try {
                respond(ch, 500, String.valueOf(e) + "\n");
            } catch (IOException ignored) {
                // the connection is gone
            }
        }
    }

    /** Why {@code call} is left to a JVM, or null when it runs here. */
    String refusal(Call call) {
        if (!Objects.equals(call.version(), "1")) {
            return "protocol " + call.version();
        }
        if (call.cwd() == null || call.javaHome() == null || call.classPath() == null) {
            return "incomplete call";
        }
        String verb = verb(call.args());
        if (verb == null || !VERBS.contains(verb)) {
            return "not a verb served here: " + verb;
        }
        for (String a : call.args()) {
            if (a.equals("--")) {
                break;
            }
            if (JVM_ONLY.contains(a) || a.startsWith("--watch=") || a.startsWith("--filename=") || a.startsWith("--follow=")) {
                return "left to a JVM: " + a;
            }
        }
        for (String name : JVM_ENV) {
            if (!Objects.equals(call.env().get(name), System.getenv(name))) {
                return "another " + name;
            }
        }
        if (!BuildId.of(call.classPath(), call.javaHome()).equals(build)) {
            return "another build";
        }
        return null;
    }

    /** The verb a command line runs: its first word past the global flags, as the launcher and {@link Main} find it. */
    static String verb(List<String> args) {
        for (int i = 0; i < args.size(); i++) {
            String a = args.get(i);
            if (a.equals("-n") || a.equals("--namespace") || a.equals("--home")) {
                i++;
            } else if (!a.startsWith("-")) {
                return a;
            }
        }
        return null;
    }

    /**
     * {@code bytes} for bash's {@code printf %b}: printable ASCII but the space as it is, a backslash
     * doubled, every other byte as {@code \xHH} — one header line (no space for HTTP to trim at its
     * ends), decoded byte for byte.
     */
    static String escape(byte[] bytes) {
        StringBuilder b = new StringBuilder(bytes.length + 16);
        for (byte x : bytes) {
            int c = x & 0xff;
            if (c == '\\') {
                b.append("\\\\");
            } else if (c > 0x20 && c < 0x7f) {
                b.append((char) c);
            } else {
                b.append("\\x").append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 0xf, 16));
            }
        }
        return b.toString();
    }

    // the request's body, or null when it is not a POST with a Content-Length
    private static byte[] readRequest(SocketChannel ch) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        ByteBuffer buf = ByteBuffer.allocate(8192);
        int end = -1;
        while (end < 0) {
            buf.clear();
            if (ch.read(buf) < 0 || head.size() > 64 * 1024) {
                return null;
            }
            head.write(buf.array(), 0, buf.position());
            end = indexOf(head.toByteArray(), "\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        byte[] all = head.toByteArray();
        String[] lines = new String(all, 0, end, StandardCharsets.ISO_8859_1).split("\r\n");
        if (!lines[0].startsWith("POST ")) {
            return null;
        }
        long length = -1;
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0 && lines[i].substring(0, colon).strip().equalsIgnoreCase("content-length")) {
                length = Long.parseLong(lines[i].substring(colon + 1).strip());
            }
        }
        if (length < 0 || length > MAX_REQUEST) {
            return null;
        }
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(all, end + 4, all.length - end - 4);
        while (body.size() < length) {
            buf.clear();
            if (ch.read(buf) < 0) {
                return null;
            }
            body.write(buf.array(), 0, buf.position());
        }
        return body.size() == length ? body.toByteArray() : null;
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static void respond(SocketChannel ch, int status, String text) throws IOException {
        byte[] body = text.getBytes(StandardCharsets.UTF_8);
        write(ch, ("HTTP/1.1 " + status + " " + (status == 403 ? "Forbidden" : status == 409 ? "Conflict" : status == 400 ? "Bad Request"
                : "Internal Server Error") + "\r\nContent-Type: text/plain\r\nContent-Length: " + body.length
                + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        write(ch, body);
    }

    private static void drain(SocketChannel ch) throws IOException {
        ch.shutdownOutput();
        ByteBuffer b = ByteBuffer.allocate(8192);
        long read = 0;
        int n;
        while (read < MAX_REQUEST && (n = ch.read(b.clear())) >= 0) {
            read += n;
        }
    }

    private static void write(SocketChannel ch, byte[] bytes) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /**
     * One call as the launcher sends it: NUL-terminated {@code key=value} fields — {@code v} (the
     * protocol), {@code dir}, {@code java} (JAVA_HOME), {@code cp}, {@code env} (NAME=value, only
     * the variables set) and {@code arg}, in order. Decoded as the JVM decodes its own command line
     * and environment (the platform's {@code sun.jnu.encoding}, which the locale checked above fixes).
     */
    record Call(String version, Path cwd, String javaHome, String classPath, Map<String, String> env, List<String> args) {
        static Call parse(byte[] body) {
            Charset jnu = jnuCharset();
            String version = null;
            Path cwd = null;
            String java = null;
            String cp = null;
            Map<String, String> env = new HashMap<>();
            List<String> args = new ArrayList<>();
            int start = 0;
            for (int i = 0; i < body.length; i++) {
                if (body[i] != 0) {
                    continue;
                }
                String field = new String(body, start, i - start, jnu);
                start = i + 1;
                int eq = field.indexOf('=');
                if (eq < 0) {
                    continue;
                }
                String value = field.substring(eq + 1);
                switch (field.substring(0, eq)) {
                    case "v" -> version = value;
                    case "dir" -> cwd = Path.of(value);
                    case "java" -> java = value;
                    case "cp" -> cp = value;
                    case "env" -> {
                        int e = value.indexOf('=');
                        if (e > 0) {
                            env.put(value.substring(0, e), value.substring(e + 1));
                        }
                    }
                    case "arg" -> args.add(value);
                    default -> { }
                }
            }
            return new Call(version, cwd, java, cp, Map.copyOf(env), List.copyOf(args));
        }

        private static Charset jnuCharset() {
            try {
                return Charset.forName(System.getProperty("sun.jnu.encoding", "UTF-8"));
            } catch (RuntimeException e) {
                return StandardCharsets.UTF_8;
            }
        }
    }
}
