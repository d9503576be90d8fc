package io.sourcemesh.cluster.exec;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import io.sourcemesh.cluster.exec.ExecResult;
import java.nio.file.InvalidPathException;

/** Small helpers for running a program on behalf of a pod, shared by both runtimes' exec. */
public final class Processes {
    private Processes() {}

    /**
     * Reads a stream to its end on its own virtual thread (the common pool may have a single
     * worker on two cores, and reading stdout and stderr on it in turn can deadlock).
     */
    public static CompletableFuture<String> drain(InputStream in) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "";
            }
        }, r -> Thread.ofVirtual().start(r));
    }

    /**
     * Runs a started exec to its end: writes {@code stdin} (then closes it, so the command sees end
     * of file), gathers its output, and ends it after {@code timeoutSeconds}.
     */
    public static ExecResult finish(ExecProcess p, byte[] stdin, int timeoutSeconds) {
        p.stdin().ifPresent(in -> feed(in, stdin));
        CompletableFuture<String> out = drain(p.stdout());
        CompletableFuture<String> err = drain(p.stderr());
        try {
            int code = waitFor(p, timeoutSeconds);
            return new ExecResult(code, out.join(), err.join());
        } catch (InterruptedException e) {
            p.destroy();
            Thread.currentThread().interrupt();
            return new ExecResult(130, "", "interrupted\n");
        }
    }

    private static int waitFor(ExecProcess p, int timeoutSeconds) throws InterruptedException {
        Thread timer = Thread.ofVirtual().start(() -> {
            try {
                Thread.sleep(timeoutSeconds * 1000L);
                p.destroy();
            } catch (InterruptedException done) {
                // finished in time
            }
        });
        try {
            return p.waitFor();
        } finally {
            timer.interrupt();
        }
    }

    /**
     * Writes {@code stdin} to a command's standard input on its own virtual thread (so a command
     * that echoes a large input, like cat, never blocks us while we drain its output) and closes
     * it. A command that exits without reading it all is not an error: the broken pipe is ignored,
     * as a shell ignores it.
     */
    private static void feed(OutputStream to, byte[] stdin) {
        Thread.ofVirtual().start(() -> {
            try (OutputStream in = to) {
                if (stdin != null) {
                    in.write(stdin);
                }
            } catch (IOException e) {
                // the command stopped reading
            }
        });
    }

    /**
     * Whether execvp would find {@code program}: a path (relative to {@code cwd}) to an executable
     * file, or a name in a directory of {@code path} (an empty entry is {@code cwd}). A pod sees
     * the machine's files, so the answer here is the answer inside.
     */
    public static boolean onPath(String program, String path, Path cwd) {
        try {
            if (program.contains("/")) {
                return executable(cwd.resolve(program));
            }
            if (program.isEmpty()) {
                return false;
            }
            for (String dir : (path == null ? "/bin:/usr/bin" : path).split(":", -1)) {
                if (executable((dir.isEmpty() ? cwd : cwd.resolve(dir)).resolve(program))) {
                    return true;
                }
            }
            return false;
        } catch (InvalidPathException e) {
            return false;
        }
    }

    private static boolean executable(Path file) {
        return Files.isRegularFile(file) && Files.isExecutable(file);
    }

    /** Removes a flat temporary directory (an exec's CURL_HOME) and what it holds. */
    public static void deleteDirectory(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                Files.deleteIfExists(f);
            }
        }
        Files.deleteIfExists(dir);
    }
}
