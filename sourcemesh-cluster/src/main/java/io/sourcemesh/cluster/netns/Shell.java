package io.sourcemesh.cluster.netns;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;

/** Runs the kernel tools (ip, iptables-restore, …) and reports failures with what they printed. */
public final class Shell {
    private static final long TIMEOUT_SECONDS = 30;

    /** What a finished command left: exit code, stdout, stderr. */
    public record Result(List<String> command, int exit, String out, String err) {
        public boolean ok() {
            return exit == 0;
        }

        /** This result, or a {@link NetnsException} naming the command when it failed. */
        public Result orThrow() {
            if (exit != 0) {
                throw new NetnsException(String.join(" ", command) + " exited " + exit + ": " + (err + out).strip());
            }
            return this;
        }
    }

    private Shell() {
    }

    public static Result run(List<String> command) {
        return run(command, null);
    }

    /** Runs {@code command}, feeding {@code stdin} when not null; never throws on a non-zero exit. */
    public static Result run(List<String> command, String stdin) {
        ProcessBuilder pb = new ProcessBuilder(command);
        Process p;
        try {
            p = pb.start();
        } catch (IOException e) {
            throw new NetnsException("cannot run " + String.join(" ", command) + ": " + e.getMessage(), e);
        }
        // One thread per stream so neither pipe can fill up and block the child (not the common pool:
        // with one core its single worker would read stdout to the end while the child blocks on stderr).
        FutureTask<String> out = new FutureTask<>(() -> drain(p, false));
        FutureTask<String> err = new FutureTask<>(() -> drain(p, true));
        Thread.ofVirtual().start(out);
        Thread.ofVirtual().start(err);
        try (OutputStream in = p.getOutputStream()) {
            if (stdin != null) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            // The child exited before reading everything; its exit code tells why.
        }
        try {
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new NetnsException(String.join(" ", command) + " did not finish in " + TIMEOUT_SECONDS + " s");
            }
            return new Result(List.copyOf(command), p.exitValue(), out.get(), err.get());
        } catch (ExecutionException e) {
            throw new NetnsException("cannot read the output of " + String.join(" ", command), e);
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new NetnsException("interrupted while running " + String.join(" ", command), e);
        }
    }

    /** Runs {@code command} and throws when it fails. */
    public static Result check(String... command) {
        return run(List.of(command), null).orThrow();
    }

    /** {@code ip netns exec NS command…}: the command inside a namespace. */
    public static List<String> in(String netns, String... command) {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", netns));
        full.addAll(List.of(command));
        return full;
    }

    private static String drain(Process p, boolean error) {
        try {
            return new String((error ? p.getErrorStream() : p.getInputStream()).readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }
}
