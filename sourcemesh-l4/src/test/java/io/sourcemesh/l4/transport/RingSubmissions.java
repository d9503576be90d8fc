package io.sourcemesh.l4.transport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Stream;

/** Counts what this process's io_uring instances took from their submission queues (for tests). */
public final class RingSubmissions {
    private RingSubmissions() {
    }

    /** The io_uring instances this process has open. */
    public static Set<Path> rings() throws IOException {
        Set<Path> rings = new HashSet<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    if (Files.readSymbolicLink(fd).toString().contains("io_uring")) {
                        rings.add(fd.getFileName());
                    }
                } catch (IOException closedMeanwhile) {
                    // the listing's own descriptor, or one closed since
                }
            }
        }
        return rings;
    }

    /** Submission-queue entries the kernel has taken from these rings so far (their SqHead, in fdinfo). */
    public static long submitted(Set<Path> rings) throws IOException {
        long total = 0;
        for (Path fd : rings) {
            for (String line : Files.readAllLines(Path.of("/proc/self/fdinfo").resolve(fd))) {
                if (line.startsWith("SqHead:")) {
                    total += Long.parseLong(line.substring("SqHead:".length()).trim());
                }
            }
        }
        return total;
    }
}
