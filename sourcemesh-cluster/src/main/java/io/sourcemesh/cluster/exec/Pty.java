package io.sourcemesh.cluster.exec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A terminal for an exec'd command, as kubelet gives one for {@code kubectl exec -t}: the command
 * runs under util-linux {@code script}, which opens a pseudo-terminal, makes it the command's
 * controlling terminal (stdin, stdout and stderr), relays our pipe to it and its output back, and
 * exits with the command's code. The terminal echoes and turns "\n" into "\r\n", as any pty does.
 * A resize sets the pty's window with {@code stty -F}, which signals SIGWINCH to the command.
 */
public final class Pty {
    private static final long FIND_TIMEOUT_MS = 3_000;

    /** The last resize asked for: an older one still looking for the terminal must not win over it. */
    private final AtomicLong resizes = new AtomicLong();

    private Pty() {}

    /** Whether this machine can give a command a terminal ({@code script} and {@code stty} on PATH). */
    public static boolean available() {
        String path = System.getenv("PATH");
        Path cwd = Path.of("/");
        return Processes.onPath("script", path, cwd) && Processes.onPath("stty", path, cwd);
    }

    /** {@code command} run on a new terminal; {@link #environment} must be applied to its process too. */
    public static List<String> wrap(List<String> command) {
        StringBuilder line = new StringBuilder("exec");
        for (String arg : command) {
            line.append(' ').append(quote(arg));
        }
        return List.of("script", "--quiet", "--flush", "--return", "--echo", "always", "--command", line.toString(), "/dev/null");
    }

    /** script runs the command with $SHELL -c: a POSIX shell, whatever the daemon's user has. */
    public static void environment(Map<String, String> env) {
        env.put("SHELL", "/bin/sh");
        env.putIfAbsent("TERM", "xterm");
    }

    public static Pty create() {
        return new Pty();
    }

    static String quote(String arg) {
        return "'" + arg.replace("'", "'\\''") + "'";
    }

    /**
     * Sets the window of {@code process}'s terminal. The terminal is the one a descendant of the
     * wrapper has as its standard input; it may not exist yet right after the start, so this looks
     * for it for a moment (on a virtual thread: the caller never waits).
     */
    void resize(Process process, int columns, int rows) {
        if (columns <= 0 || rows <= 0 || columns > 10_000 || rows > 10_000) {
            return;
        }
        long mine = resizes.incrementAndGet();
        Thread.ofVirtual().name("exec-resize").start(() -> {
            long deadline = System.currentTimeMillis() + FIND_TIMEOUT_MS;
            while (process.isAlive() && System.currentTimeMillis() < deadline) {
                Optional<Path> tty = terminalOf(process);
                if (tty.isPresent()) {
                    synchronized (this) {
                        if (resizes.get() == mine) {
                            stty(tty.get(), columns, rows);
                        }
                    }
                    return;
                }
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
    }

    /** The pty the command reads: the first descendant of the wrapper whose stdin is a /dev/pts device. */
    static Optional<Path> terminalOf(Process process) {
        List<ProcessHandle> below = new ArrayList<>(process.descendants().toList());
        for (ProcessHandle h : below) {
            try {
                Path in = Files.readSymbolicLink(Path.of("/proc", Long.toString(h.pid()), "fd", "0"));
                if (in.toString().startsWith("/dev/pts/")) {
                    return Optional.of(in);
                }
            } catch (IOException | UnsupportedOperationException gone) {
                // exited meanwhile, or not ours to read
            }
        }
        return Optional.empty();
    }

    private static void stty(Path tty, int columns, int rows) {
        try {
            Process p = new ProcessBuilder("stty", "-F", tty.toString(), "rows", Integer.toString(rows), "cols", Integer.toString(columns))
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        } catch (IOException e) {
            // no stty: the window keeps its size
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
