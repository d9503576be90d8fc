package io.sourcemesh.proxy.testing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Access logs are written off the event loop: tests wait for the lines they expect. */
public final class LogFiles {
    private LogFiles() {}

    public static String awaitLine(Path log) throws Exception {
        return awaitLines(log, 1).get(0);
    }

    public static List<String> awaitLines(Path log, int n) throws Exception {
        long deadline = System.currentTimeMillis() + 5000;
        while (System.currentTimeMillis() < deadline) {
            if (Files.exists(log)) {
                List<String> lines = Files.readAllLines(log);
                if (lines.size() >= n) {
                    return lines;
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("fewer than " + n + " access log lines in " + log);
    }
}
