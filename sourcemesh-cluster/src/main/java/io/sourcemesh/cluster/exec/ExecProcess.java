package io.sourcemesh.cluster.exec;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A command exec'd into a pod while it runs: its standard input (when the client asked for one),
 * its output as it comes, its window when it has a terminal, its exit code. The streaming half of
 * exec ({@code kubectl exec -i}, {@code -it}); {@link io.sourcemesh.cluster.daemon.ClusterApi#exec}
 * is the whole-input, whole-output half.
 */
public final class ExecProcess {
    /** What the client asked for: a standard input, and a terminal (then stderr comes on stdout, as through a pty). */
    public record Mode(boolean stdin, boolean tty) {}

    private final Process process;
    private final OutputStream stdin;
    private final InputStream stdout;
    private final InputStream stderr;
    private final Pty pty;
    private final Path scratch;
    private final int exitCode;

    private ExecProcess(Process process, OutputStream stdin, InputStream stdout, InputStream stderr, Pty pty, Path scratch,
            int exitCode) {
        this.process = process;
        this.stdin = stdin;
        this.stdout = stdout;
        this.stderr = stderr;
        this.pty = pty;
        this.scratch = scratch;
        this.exitCode = exitCode;
    }

    /**
     * A started process; {@code pty} when it runs on a terminal ({@link Pty#wrap}), {@code scratch} a
     * directory removed once it has exited.
     */
    public static ExecProcess of(Process p, Mode mode, Pty pty, Path scratch) {
        if (!mode.stdin()) {
            try {
                p.getOutputStream().close();
            } catch (IOException ignored) {
                // already closed: the command has no input anyway
            }
        }
        return new ExecProcess(p, mode.stdin() ? p.getOutputStream() : null, p.getInputStream(),
                pty != null ? InputStream.nullInputStream() : p.getErrorStream(), pty, scratch, -1);
    }

    /**
     * A command that ran to its end at once (a built-in such as netstat, or one that could not
     * start): its output as a terminal would show it when {@code tty} — stderr on stdout, CRLF
     * line ends.
     */
    public static ExecProcess completed(int exitCode, String out, String err, boolean tty) {
        if (tty) {
            String both = (out + err).replace("\r\n", "\n").replace("\n", "\r\n");
            return new ExecProcess(null, OutputStream.nullOutputStream(), bytes(both), InputStream.nullInputStream(), null, null, exitCode);
        }
        return new ExecProcess(null, OutputStream.nullOutputStream(), bytes(out), bytes(err), null, null, exitCode);
    }

    private static InputStream bytes(String s) {
        return new ByteArrayInputStream(s.getBytes(StandardCharsets.UTF_8));
    }

    /** The command's standard input, if the client asked for one; closing it is end of file for the command. */
    public Optional<OutputStream> stdin() {
        return Optional.ofNullable(stdin);
    }

    public InputStream stdout() {
        return stdout;
    }

    /** Empty with a terminal: its stderr is on stdout, as kubelet's TTY exec. */
    public InputStream stderr() {
        return stderr;
    }

    public boolean tty() {
        return pty != null;
    }

    /** Sets the terminal's size (kubectl's resize messages); nothing without a terminal. */
    public void resize(int columns, int rows) {
        if (pty != null && process != null) {
            pty.resize(process, columns, rows);
        }
    }

    /** Waits for the command to end; its exit code. */
    public int waitFor() throws InterruptedException {
        if (process == null) {
            return exitCode;
        }
        int code = process.waitFor();
        if (scratch != null) {
            try {
                Processes.deleteDirectory(scratch);
            } catch (IOException ignored) {
                // a file the command left open; the exec directory is the cluster home's, removed with it
            }
        }
        return code;
    }

    /** Runs {@code action} once the command has ended (at once for one that already ran to its end). */
    public void onExit(Runnable action) {
        if (process == null) {
            action.run();
        } else {
            process.onExit().thenRun(action);
        }
    }

    /** Ends the command and what it started (the client went away, or its pod stopped). */
    public void destroy() {
        if (process != null) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
    }
}
