package io.sourcemesh.proxy.accesslog;

import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * A sink with one writer thread and a bounded queue: event loops only enqueue (a full queue drops
 * the record and counts it), the writer thread does the blocking I/O and flushes whenever it has
 * drained the queue, so lines reach the file promptly without a write per line under load.
 */
public final class AsyncSink implements AccessLogSink {
    /** Default queue size: records buffered while the disk is slow before dropping starts. */
    public static final int DEFAULT_CAPACITY = 16_384;
    private static final String POISON = new String("<close>");
    private static final long CLOSE_WAIT_SECONDS = 10;

    private final String name;
    private final OutputStream out;
    private final BlockingQueue<String> queue;
    private final Thread writer;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final LongAdder dropped = new LongAdder();
    private final LongAdder writeFailures = new LongAdder();

    private AsyncSink(String name, OutputStream out, int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("access log queue capacity must be positive: " + capacity);
        }
        this.name = name;
        this.out = new BufferedOutputStream(out, 64 * 1024);
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.writer = Thread.ofPlatform().daemon().name("access-log-writer " + name).unstarted(this::run);
        writer.start();
    }

    /**
     * Opens (creating the file if needed) {@code path} for appending now, so a bad path fails at config
     * time. As Envoy, a missing directory is an error, not created: a typo must not start logging elsewhere.
     *
     * @throws IllegalArgumentException if the file cannot be opened
     */
    public static AsyncSink file(Path path, int capacity) {
        OutputStream os;
        try {
            Path parent = path.toAbsolutePath().getParent();
            if (parent != null && !Files.isDirectory(parent)) {
                throw new IllegalArgumentException("cannot open access log file " + path + ": directory " + parent + " does not exist");
            }
            os = Files.newOutputStream(path, StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE);
        } catch (IllegalArgumentException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("cannot open access log file " + path + ": " + e.getMessage(), e);
        }
        return new AsyncSink(path.toString(), os, capacity);
    }

    /** Writes to {@code stream} (e.g. stdout), which is flushed but not closed on {@link #close}. */
    public static AsyncSink stream(String name, OutputStream stream, int capacity) {
        return new AsyncSink(name, new FilterOutputStream(stream) {
            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                out.write(b, off, len);
            }

            @Override
            public void close() throws IOException {
                flush();
            }
        }, capacity);
    }

    public String name() {
        return name;
    }

    @Override
    public boolean write(String record) {
        if (closed.get() || !queue.offer(record)) {
            dropped.increment();
            return false;
        }
        return true;
    }

    @Override
    public long dropped() {
        return dropped.sum();
    }

    /** Records lost to I/O errors (counted separately from queue drops). */
    public long writeFailures() {
        return writeFailures.sum();
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            // Writers are now refused, so the writer thread frees space and this returns promptly.
            if (!queue.offer(POISON, CLOSE_WAIT_SECONDS, TimeUnit.SECONDS)) {
                writer.interrupt();
            }
            writer.join(TimeUnit.SECONDS.toMillis(CLOSE_WAIT_SECONDS));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        dropped.add(queue.stream().filter(s -> s != POISON).count()); // raced with close
        queue.clear();
        try {
            out.close();
        } catch (IOException e) {
            writeFailures.increment();
        }
    }

    private void run() {
        try {
            while (true) {
                String record = queue.take();
                while (record != null) {
                    if (record == POISON) {
                        flush();
                        return;
                    }
                    writeRecord(record);
                    record = queue.poll();
                }
                flush(); // queue drained: push the batch out
            }
        } catch (InterruptedException e) {
            flush();
        }
    }

    private void writeRecord(String record) {
        try {
            out.write(record.getBytes(StandardCharsets.UTF_8));
            if (record.isEmpty() || record.charAt(record.length() - 1) != '\n') {
                out.write('\n');
            }
        } catch (IOException e) {
            writeFailures.increment();
        }
    }

    private void flush() {
        try {
            out.flush();
        } catch (IOException e) {
            writeFailures.increment();
        }
    }

    @Override
    public String toString() {
        return "AsyncSink(" + name + ")";
    }
}
