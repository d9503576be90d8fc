package io.sourcemesh.proxy.testing;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The test {@link Origin} in a child JVM of its own, for tests that count this process's file
 * descriptors: then every socket in this JVM is the code under test's or the test's own, and a
 * socket left open is the proxy's (with the origin here, each proxied connection is two sockets of
 * this JVM, and a listing of what stayed open mixes both ends). Its heap and threads are not in
 * this JVM's figures either. The child serves the same answers ({@code /echo} and the rest give the
 * request's headers back in the body) but records nothing; it stops when {@link #close()} ends its
 * standard input, and is killed (its PID) if it has not stopped 5 s later. Should this JVM die
 * first, the child's standard input ends with it, so no origin outlives the test.
 */
public final class OriginProcess implements AutoCloseable {
    private final Process process;
    private final InetSocketAddress address;

    private OriginProcess(Process process, InetSocketAddress address) {
        this.process = process;
        this.address = address;
    }

    /** Starts the child on 127.0.0.1 and waits (up to 60 s: a loaded machine starts a JVM slowly) for its port. */
    public static OriginProcess start() throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classes;
        try {
            // Origin needs nothing but the JDK: the directory (or jar) of the test classes is its whole class path.
            classes = Path.of(Origin.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (URISyntaxException e) {
            throw new IOException(e);
        }
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", classes,
                Origin.class.getName());
        pb.environment().remove("JAVA_TOOL_OPTIONS"); // the long fuzz run sizes the proxy's JVM so: not the origin's
        pb.redirectError(ProcessBuilder.Redirect.INHERIT);
        Process p = pb.start();
        String first = firstLine(p, TimeUnit.SECONDS.toNanos(60));
        if (first == null || !first.startsWith("port ")) {
            p.destroyForcibly();
            throw new IOException("the origin process (pid " + p.pid() + ") did not say its port: " + first);
        }
        return new OriginProcess(p, new InetSocketAddress("127.0.0.1", Integer.parseInt(first.substring(5).trim())));
    }

    /** The child's first line of output, read as it comes (no reader thread left behind); null if none came in time. */
    private static String firstLine(Process p, long timeoutNanos) throws IOException {
        InputStream in = p.getInputStream();
        StringBuilder line = new StringBuilder();
        long deadline = System.nanoTime() + timeoutNanos;
        while (System.nanoTime() < deadline) {
            while (in.available() > 0) {
                int c = in.read();
                if (c < 0) {
                    return null;
                }
                if (c == '\n') {
                    return line.toString();
                }
                line.append((char) c);
            }
            if (!p.isAlive() && in.available() == 0) {
                return null;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }
        return null;
    }

    public InetSocketAddress address() {
        return address;
    }

    public int port() {
        return address.getPort();
    }

    public long pid() {
        return process.pid();
    }

    @Override
    public void close() {
        try {
            process.getOutputStream().close();
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (IOException e) {
            process.destroyForcibly();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
