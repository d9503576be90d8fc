package io.sourcemesh.cluster.exec;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;

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
     * Where a command's standard input comes from: /dev/null when there is none (exec without -i),
     * else a pipe that {@link #feed} fills.
     */
    public static ProcessBuilder.Redirect stdinOf(byte[] stdin) {
        return stdin == null || stdin.length == 0
                ? ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))
                : ProcessBuilder.Redirect.PIPE;
    }

    /**
     * Writes {@code stdin} to a started process's standard input on its own virtual thread (so a
     * command that echoes a large input, like cat, never blocks us while we drain its output) and
     * closes it, so the command sees end of file. A command that exits without reading it all is
     * not an error: the broken pipe is ignored, as a shell ignores it.
     */
    public static void feed(Process p, byte[] stdin) {
        if (stdin == null || stdin.length == 0) {
            return;
        }
        Thread.ofVirtual().start(() -> {
            try (OutputStream in = p.getOutputStream()) {
                in.write(stdin);
            } catch (IOException e) {
                // the command stopped reading
            }
        });
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
