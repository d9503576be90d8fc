package io.sourcemesh.cluster.netns;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The test app (peer_app.py) running inside a pod's namespace; stopped by its PID. */
final class PeerApp implements AutoCloseable {
    private final Process process;
    private final Path log;

    private PeerApp(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    static PeerApp start(String netns, int port, Path dir) throws IOException, InterruptedException {
        Path script = dir.resolve("peer_app.py");
        if (!Files.exists(script)) {
            try (InputStream in = PeerApp.class.getResourceAsStream("peer_app.py")) {
                Files.copy(in, script);
            }
        }
        Path log = dir.resolve("app-" + netns + ".log");
        Process p = new ProcessBuilder(Shell.in(netns, "python3", "-u", script.toString(), String.valueOf(port)))
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        PeerApp app = new PeerApp(p, log);
        // Listening once the kernel shows the socket inside the namespace.
        for (int i = 0; i < 100; i++) {
            if (Shell.run(Shell.in(netns, "ss", "-Hltn", "sport = :" + port)).out().contains(":" + port)) {
                return app;
            }
            if (!p.isAlive()) {
                break;
            }
            Thread.sleep(50);
        }
        app.close();
        throw new IllegalStateException("the app did not listen on " + port + " in " + netns + ": " + app.log());
    }

    String log() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(3, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(3, TimeUnit.SECONDS);
        }
    }

    /** curl from inside {@code netns}, as {@code kubectl exec … -- curl} would run it. */
    static Shell.Result curl(String netns, String url) {
        return Shell.run(Shell.in(netns, "curl", "-sS", "--max-time", "5", url));
    }

    static List<String> hostLinks() {
        return Shell.check("ip", "-o", "link", "show").out().lines().map(l -> l.split(":\\s+")[1].split("@")[0]).sorted().toList();
    }
}
