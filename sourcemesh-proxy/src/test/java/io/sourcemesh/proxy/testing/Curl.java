package io.sourcemesh.proxy.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the machine's real curl and captures what it printed. */
public final class Curl {
    /** Exit code, stdout and stderr of one curl run. */
    public record Result(int exitCode, String out, String err) {
        /** With {@code -w '%{http_code}'} last: the status code curl printed at the end of stdout. */
        public int status() {
            return Integer.parseInt(out.substring(out.length() - 3));
        }

        public String body() {
            return out.substring(0, out.length() - 3);
        }
    }

    private Curl() {}

    /** {@code curl -sS --max-time 20 ARGS... -w %{http_code}}. */
    public static Result run(String... args) {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--max-time", "20", "--noproxy", "*"));
        cmd.addAll(List.of(args));
        cmd.addAll(List.of("-w", "%{http_code}"));
        return exec(cmd);
    }

    public static Result exec(List<String> cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            var out = p.getInputStream();
            var err = p.getErrorStream();
            byte[][] o = new byte[1][];
            Thread t = Thread.ofVirtual().start(() -> {
                try {
                    o[0] = out.readAllBytes();
                } catch (IOException e) {
                    o[0] = new byte[0];
                }
            });
            byte[] e = err.readAllBytes();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("curl did not finish: " + cmd);
            }
            t.join();
            return new Result(p.exitValue(), new String(o[0], StandardCharsets.UTF_8), new String(e, StandardCharsets.UTF_8));
        } catch (IOException | InterruptedException ex) {
            throw new IllegalStateException(ex);
        }
    }
}
