package io.sourcemesh.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The HTTPS step's test certificate (an RSA key and a self-signed certificate, made by openssl), started
 * when the demo starts: a 2048-bit key is 0.1–0.3 s of CPU, which the step waited for; now it is made
 * beside the steps before it, and the step only waits for what is left of it.
 */
final class DemoCertificate {
    /** openssl's arguments before the two files it writes. */
    private static final List<String> REQ = List.of("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "365",
            "-subj", "/CN=httpbin.example.com");
    /** What the demo prints at its step: the same command, with the files as the document names them. */
    static final String SHOWN = String.join(" ", command(Path.of("tls.key"), Path.of("tls.crt")));

    private final Process process;
    private final IOException notStarted;

    private DemoCertificate(Process process, IOException notStarted) {
        this.process = process;
        this.notStarted = notStarted;
    }

    /** openssl writing {@code key} and {@code crt}; a failure to start is reported by {@link #await}, at the step. */
    static DemoCertificate start(Path key, Path crt) {
        return start(command(key, crt));
    }

    private static List<String> command(Path key, Path crt) {
        List<String> command = new ArrayList<>(REQ);
        command.addAll(List.of("-keyout", key.toString(), "-out", crt.toString()));
        return command;
    }

    static DemoCertificate start(List<String> command) {
        try {
            return new DemoCertificate(new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start(), null);
        } catch (IOException e) {
            return new DemoCertificate(null, e);
        }
    }

    /** Whether the files are still being made. */
    boolean making() {
        return process != null && process.isAlive();
    }

    /** Waits until the key and certificate are written. */
    void await() throws InterruptedException {
        if (process == null || process.waitFor() != 0) {
            throw CliException.error("openssl could not make a test certificate" + (notStarted == null ? "" : ": " + notStarted.getMessage()));
        }
    }
}
