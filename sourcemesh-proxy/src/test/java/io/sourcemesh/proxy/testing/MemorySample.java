package io.sourcemesh.proxy.testing;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.util.internal.PlatformDependent;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where this JVM's memory is at one moment, for soak tests: resident set (total and anonymous) and
 * committed heap as the process runs, read before a full collection; the live heap and committed
 * heap just after one; the bytes Netty's default allocator holds in chunks (its pooled memory,
 * direct and heap); Netty's own direct-memory counter; and the JDK's direct buffer pool.
 * Sizes in kB; -1 where the JVM does not say.
 */
public record MemorySample(long rssKb, long rssAnonKb, long committedKb, long liveKb, long committedAfterGcKb,
        long nettyDirectKb, long nettyHeapKb, long nettyCounterKb, long jdkDirectKb, long fullGcs) {

    /** Samples now, forcing a full collection to find the live heap; fails if none happened. */
    public static MemorySample take() {
        return sample(true);
    }

    /**
     * Samples now without a collection, so the heap stays as the collector alone sized it: live and
     * committed-after-GC are -1; {@code fullGcs} says how many full collections ran so far.
     */
    public static MemorySample peek() {
        return sample(false);
    }

    private static MemorySample sample(boolean collect) {
        long rss = status("VmRSS:");
        long rssAnon = status("RssAnon:");
        long committed = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getCommitted();
        long live = -1;
        long committedAfter = -1;
        if (collect) {
            fullGc();
            live = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
            committedAfter = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getCommitted();
        }
        long nettyDirect = -1;
        long nettyHeap = -1;
        if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider p) {
            nettyDirect = p.metric().usedDirectMemory();
            nettyHeap = p.metric().usedHeapMemory();
        }
        long counter = PlatformDependent.usedDirectMemory();
        long jdkDirect = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(b -> b.getName().equals("direct")).mapToLong(BufferPoolMXBean::getMemoryUsed).sum();
        return new MemorySample(rss, rssAnon, committed / 1024, kb(live), kb(committedAfter),
                kb(nettyDirect), kb(nettyHeap), kb(counter), kb(jdkDirect), fullCollections());
    }

    /**
     * {@code System.gc()} until the collector that collects the whole heap has run once more (so
     * {@code -XX:+DisableExplicitGC} or a concurrent cycle still running cannot make "live" the heap
     * before a collection), then twice more so objects kept for finalization-like cleanup (Cleaner,
     * weak maps) are gone too.
     */
    private static void fullGc() {
        long before = fullCollections();
        for (int i = 0; i < 50 && fullCollections() == before; i++) {
            System.gc();
            sleep(i == 0 ? 0 : 20);
        }
        if (fullCollections() == before) {
            throw new IllegalStateException("no full collection happened after System.gc(): the live heap cannot be measured"
                    + " (-XX:+DisableExplicitGC?)");
        }
        System.gc();
        sleep(50);
        System.gc();
    }

    /** Collections by the old/full collector (Serial's "MarkSweepCompact", G1's "G1 Old Generation"/"G1 Concurrent GC", ...). */
    private static long fullCollections() {
        long n = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            String name = gc.getName();
            if (!name.contains("Young") && !name.equals("Copy") && !name.contains("Scavenge") && !name.contains("ParNew")
                    && !name.contains("Minor") && !name.contains("Pauses")) {
                n += gc.getCollectionCount();
            }
        }
        return n;
    }

    private static long kb(long bytes) {
        return bytes < 0 ? -1 : bytes / 1024;
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static long status(String field) {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream().filter(l -> l.startsWith(field))
                    .mapToLong(l -> Long.parseLong(l.replaceAll("[^0-9]", ""))).findFirst().orElse(-1);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One line of figures, {@code label} first, for a report. */
    public String line(String label) {
        return label + " rss_kb=" + rssKb + " rss_anon_kb=" + rssAnonKb + " heap_committed_kb=" + committedKb
                + " heap_live_kb=" + liveKb + " heap_committed_after_gc_kb=" + committedAfterGcKb
                + " netty_direct_kb=" + nettyDirectKb + " netty_heap_kb=" + nettyHeapKb
                + " netty_direct_counter_kb=" + nettyCounterKb + " jdk_direct_kb=" + jdkDirectKb + " full_gcs=" + fullGcs;
    }
}
