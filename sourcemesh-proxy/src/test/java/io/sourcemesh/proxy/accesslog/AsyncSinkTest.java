package io.sourcemesh.proxy.accesslog;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class AsyncSinkTest {
    @TempDir
    Path dir;

    @Test
    void fileGetsLinesInOrderWithOneTerminatorEach() throws IOException {
        Path file = dir.resolve("access.log");
        AsyncSink sink = AsyncSink.file(file, 1024);
        for (int i = 0; i < 500; i++) {
            assertTrue(sink.write(i % 2 == 0 ? "line " + i : "line " + i + "\n"));
        }
        sink.close();
        List<String> lines = Files.readAllLines(file);
        assertEquals(500, lines.size());
        for (int i = 0; i < 500; i++) {
            assertEquals("line " + i, lines.get(i));
        }
        assertEquals(0, sink.dropped());
    }

    @Test
    void fileIsAppendedNotTruncated() throws IOException {
        Path file = dir.resolve("access.log");
        try (AsyncSink first = AsyncSink.file(file, 16)) {
            first.write("one");
        }
        try (AsyncSink second = AsyncSink.file(file, 16)) {
            second.write("two");
        }
        assertEquals(List.of("one", "two"), Files.readAllLines(file));
    }

    /** As Envoy, which refuses to start: a missing directory is a config error naming the path, never created. */
    @Test
    void aMissingDirectoryIsRefusedNotCreated() {
        Path file = dir.resolve("a/b/access.log");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AsyncSink.file(file, 16));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("does not exist"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("a")));
    }

    @Test
    void linesAreFlushedWithoutClose() throws Exception {
        Path file = dir.resolve("live.log");
        try (AsyncSink sink = AsyncSink.file(file, 16)) {
            sink.write("visible before close");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (Files.size(file) == 0 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertEquals(List.of("visible before close"), Files.readAllLines(file));
        }
    }

    @Test
    void concurrentWritersLoseNothingAndNeverSplitALine() throws Exception {
        Path file = dir.resolve("concurrent.log");
        int threads = 8;
        int perThread = 5_000;
        AsyncSink sink = AsyncSink.file(file, threads * perThread);
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            workers.add(Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < perThread; i++) {
                    sink.write("{\"thread\":" + id + ",\"seq\":" + i + ",\"pad\":\"" + "x".repeat(i % 97) + "\"}");
                }
            }));
        }
        start.countDown();
        for (Thread w : workers) {
            w.join();
        }
        sink.close();
        assertEquals(0, sink.dropped());
        List<String> lines = Files.readAllLines(file);
        assertEquals(threads * perThread, lines.size());
        Map<Integer, Integer> next = new HashMap<>();
        for (String l : lines) {
            assertTrue(l.startsWith("{\"thread\":") && l.endsWith("\"}"), l);
            int thread = Integer.parseInt(l.substring(10, l.indexOf(',')));
            int seq = Integer.parseInt(l.substring(l.indexOf("\"seq\":") + 6, l.indexOf(",\"pad\"")));
            assertEquals(next.getOrDefault(thread, 0), seq, "per-thread order"); // each writer's lines stay in order
            next.put(thread, seq + 1);
        }
    }

    @Test
    void fullQueueDropsAndCountsInsteadOfBlocking() throws Exception {
        CountDownLatch writerStuck = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        OutputStream slowDisk = new OutputStream() {
            @Override
            public void write(int b) {
                captured.write(b);
            }

            @Override
            public void flush() {
                writerStuck.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        AsyncSink sink = AsyncSink.stream("slow", slowDisk, 4);
        assertTrue(sink.write("first"));
        assertTrue(writerStuck.await(10, TimeUnit.SECONDS)); // writer thread now blocked in flush
        long t0 = System.nanoTime();
        int accepted = 0;
        for (int i = 0; i < 1_000; i++) {
            if (sink.write("r" + i)) {
                accepted++;
            }
        }
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5), "write must not block");
        assertEquals(4, accepted);
        assertEquals(996, sink.dropped());
        release.countDown();
        sink.close();
        assertEquals("first\nr0\nr1\nr2\nr3\n", captured.toString(StandardCharsets.UTF_8));
    }

    @Test
    void writesAfterCloseAreDroppedAndCloseIsIdempotent() throws IOException {
        Path file = dir.resolve("closed.log");
        AsyncSink sink = AsyncSink.file(file, 16);
        sink.write("kept");
        sink.close();
        sink.close();
        assertFalse(sink.write("late"));
        assertEquals(1, sink.dropped());
        assertEquals(List.of("kept"), Files.readAllLines(file));
    }

    @Test
    void streamSinkFlushesButDoesNotCloseTheStream() {
        AtomicBoolean closed = new AtomicBoolean();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream() {
            @Override
            public void close() {
                closed.set(true);
            }
        };
        AsyncSink sink = AsyncSink.stream("stdout", bytes, 16);
        sink.write("héllo");
        sink.close();
        assertFalse(closed.get());
        assertEquals("héllo\n", bytes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void unopenableFileIsAConfigError() throws IOException {
        Path notADir = Files.writeString(dir.resolve("plain"), "x");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AsyncSink.file(notADir.resolve("access.log"), 16));
        assertTrue(e.getMessage().startsWith("cannot open access log file"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> AsyncSink.stream("x", OutputStream.nullOutputStream(), 0));
    }
}
