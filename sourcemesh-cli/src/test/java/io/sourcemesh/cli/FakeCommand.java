package io.sourcemesh.cli;

import io.sourcemesh.cluster.exec.ExecResult;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import java.util.stream.Stream;

/**
 * A command of {@link FakeCluster}'s pods as the Kubernetes API's streamed exec sees a process: it
 * takes its stdin to the end, then answers with what {@code run} makes of it (the fake's canned
 * results), so the CLI's and kubectl's exec are tested through the real WebSocket path.
 */
final class FakeCommand extends Process {
    private final CompletableFuture<ExecResult> result = new CompletableFuture<>();
    private final ByteArrayOutputStream input = new ByteArrayOutputStream();
    private final Function<byte[], ExecResult> run;

    FakeCommand(Function<byte[], ExecResult> run) {
        this.run = run;
    }

    @Override
    public OutputStream getOutputStream() {
        return new OutputStream() {
            @Override
            public void write(int b) {
                input.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) {
                input.write(b, off, len);
            }

            @Override
            public void close() {
                if (!result.isDone()) {
                    try {
                        result.complete(run.apply(input.toByteArray()));
                    } catch (RuntimeException e) {
                        result.completeExceptionally(e);
                    }
                }
            }
        };
    }

    @Override
    public InputStream getInputStream() {
        return after(r -> r.stdout());
    }

    @Override
    public InputStream getErrorStream() {
        return after(r -> r.stderr());
    }

    /** A stream that blocks until the command has answered, then reads that part of its answer. */
    private InputStream after(Function<ExecResult, String> part) {
        return new InputStream() {
            private InputStream bytes;

            private InputStream bytes() throws IOException {
                if (bytes == null) {
                    try {
                        bytes = new ByteArrayInputStream(part.apply(result.join()).getBytes(StandardCharsets.UTF_8));
                    } catch (RuntimeException destroyed) {
                        throw new IOException("the command was ended", destroyed);
                    }
                }
                return bytes;
            }

            @Override
            public int read() throws IOException {
                return bytes().read();
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                return bytes().read(b, off, len);
            }
        };
    }

    @Override
    public int waitFor() {
        try {
            return result.join().exitCode();
        } catch (RuntimeException destroyed) {
            return 137;
        }
    }

    @Override
    public int exitValue() {
        if (!result.isDone()) {
            throw new IllegalThreadStateException("still running");
        }
        return waitFor();
    }

    @Override
    public void destroy() {
        result.completeExceptionally(new IllegalStateException("destroyed"));
    }

    @Override
    public Process destroyForcibly() {
        destroy();
        return this;
    }

    @Override
    public Stream<ProcessHandle> descendants() {
        return Stream.empty();
    }
}
