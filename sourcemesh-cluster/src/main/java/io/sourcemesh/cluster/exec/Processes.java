package io.sourcemesh.cluster.exec;

import java.io.IOException;
import java.io.InputStream;
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
