package io.sourcemesh.cluster.kubelet;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * A container's log: a file in the cluster's state directory, as a kubelet keeps under
 * /var/log/pods. Lines are appended as they come; readers tail it, optionally following.
 */
public final class ContainerLog implements AutoCloseable {
    private final Path file;
    private final BufferedWriter out;
    private volatile boolean closed;

    public ContainerLog(Path file) {
        this.file = file;
        try {
            Files.createDirectories(file.getParent());
            Files.deleteIfExists(file);
            // Append mode: the sidecar's access log writes to the same file from its own thread.
            this.out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Path file() {
        return file;
    }

    public synchronized void line(String line) {
        if (closed) {
            return;
        }
        try {
            out.write(line.endsWith("\n") ? line : line + "\n");
            out.flush();
        } catch (IOException e) {
            // a full disk must not take the app down; the line is lost
        }
    }

    /** Calls {@code lines} with the last {@code tail} lines (all when negative), then new ones while following. */
    public static void read(Path file, int tail, boolean follow, BooleanSupplier alive, Consumer<String> lines) {
        try {
            List<String> all = Files.exists(file) ? Files.readAllLines(file, StandardCharsets.UTF_8) : List.of();
            int from = tail < 0 ? 0 : Math.max(0, all.size() - tail);
            all.subList(from, all.size()).forEach(lines);
            if (!follow) {
                return;
            }
            long position = Files.exists(file) ? Files.size(file) : 0;
            StringBuilder partial = new StringBuilder();
            while (alive.getAsBoolean()) {
                long size = Files.exists(file) ? Files.size(file) : 0;
                if (size > position) {
                    try (var ch = Files.newByteChannel(file)) {
                        ch.position(position);
                        ByteBuffer buf = ByteBuffer.allocate((int) Math.min(size - position, 1 << 20));
                        position += ch.read(buf);
                        partial.append(new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8));
                    }
                    int nl;
                    while ((nl = partial.indexOf("\n")) >= 0) {
                        lines.accept(partial.substring(0, nl));
                        partial.delete(0, nl + 1);
                    }
                } else {
                    Thread.sleep(100);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public synchronized void close() {
        closed = true;
        try {
            out.close();
        } catch (IOException e) {
            // nothing more to write
        }
    }
}
