package io.sourcemesh.proxy;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Keeps the heap a long-running proxy commits bounded and gives it back, under the serial collector
 * the proxies run with (the {@code sourcemesh} launcher, the netns sidecars). SerialGC expands its
 * old generation towards {@code -Xmx} rather than collecting it while it still can, so the few
 * short-lived objects a busy proxy's young collections promote grow the committed heap by MBs a
 * minute with no full collection for hours (RELIABILITY.md "Fuzzing"). Every {@link #CHECK_SECONDS}
 * this compares the committed heap with what the last full collection left committed, and runs one
 * ({@code System.gc()}: with {@code -XX:-ShrinkHeapInSteps} the heap above {@code MaxHeapFreeRatio}
 * is returned at once) when
 * <ul>
 *   <li>the heap grew by half that baseline (at least {@link #GROWN_FLOOR_BYTES}), busy or not —
 *       this is what bounds it under load; or</li>
 *   <li>it grew by a quarter (at least {@link #IDLE_FLOOR_BYTES}) and the proxy is idle: no young
 *       collection ran since the last check and it allocated under {@link #IDLE_ALLOCATION_BYTES} in
 *       that time (so the pause is paid by nobody) — this returns what a burst grew. "No young
 *       collection" alone is not idle with the launcher's 32 MB young generation: at 1,000 requests a
 *       second a proxy fills it only every ~12 s, and a check early in a burst has seen none yet;</li>
 * </ul>
 * never sooner than {@link #MIN_INTERVAL_SECONDS} after the last full collection. One collection
 * of a proxy's heap (about 11 MB live) pauses it for tens of ms; {@link #collections()} and
 * {@link #pauseNanos()} count them. Other collectors size their heap themselves (G1's periodic
 * collection, ZGC's uncommit): the governor runs only under SerialGC. {@code
 * -Dsourcemesh.heapGovernor=false} turns it off.
 */
public final class HeapGovernor {
    private static final Logger LOG = Logger.getLogger(HeapGovernor.class.getName());
    static final long CHECK_SECONDS = 10;
    static final long MIN_INTERVAL_SECONDS = 60;
    static final long GROWN_FLOOR_BYTES = 8L << 20;
    static final long IDLE_FLOOR_BYTES = 4L << 20;
    /** Allocated between two checks (10 s) by an idle proxy at most: ~100 KB/s, a few dozen requests a second. */
    static final long IDLE_ALLOCATION_BYTES = 1L << 20;
    private static final AtomicBoolean STARTED = new AtomicBoolean();
    private static final AtomicLong COLLECTIONS = new AtomicLong();
    private static final AtomicLong PAUSE_NANOS = new AtomicLong();

    /** What a check acts on. */
    enum Decision { NONE, GROWN, IDLE }

    /**
     * One check's view: the heap committed now, and after the last full collection (or at start
     * when there was none); young collections since the previous check; bytes allocated since the
     * previous check (the eden's growth; meaningful only when no young collection ran); time since
     * the last full collection (or the start).
     */
    record Reading(long committed, long baseline, long youngCollections, long allocated, long millisSinceFull) {
    }

    private final GarbageCollectorMXBean young;
    private final GarbageCollectorMXBean full;
    private final long minIntervalMillis;
    private final long startBaseline;
    private final List<MemoryPoolMXBean> heapPools = ManagementFactory.getMemoryPoolMXBeans().stream()
            .filter(p -> p.getType() == MemoryType.HEAP).toList();
    private final Optional<MemoryPoolMXBean> eden = heapPools.stream().filter(p -> p.getName().contains("Eden")).findFirst();
    private long lastYoungCount;
    private long lastEdenUsed;
    private long lastFullCount;
    private long lastFullNanos = System.nanoTime();

    private HeapGovernor(GarbageCollectorMXBean young, GarbageCollectorMXBean full, long minIntervalMillis) {
        this.young = young;
        this.full = full;
        this.minIntervalMillis = minIntervalMillis;
        this.startBaseline = committed();
        this.lastYoungCount = young.getCollectionCount();
        this.lastFullCount = full.getCollectionCount();
        this.lastEdenUsed = edenUsed();
    }

    /**
     * Starts this JVM's governor once, on a daemon thread, if it runs SerialGC and the governor is
     * not turned off; the proxy calls it when it starts.
     */
    public static void processDefault() {
        if (!Boolean.parseBoolean(System.getProperty("sourcemesh.heapGovernor", "true")) || !STARTED.compareAndSet(false, true)) {
            return;
        }
        forSerialGc(TimeUnit.SECONDS.toMillis(MIN_INTERVAL_SECONDS)).ifPresent(governor ->
                Thread.ofPlatform().daemon().name("sourcemesh-heap-governor").start(() -> {
                    try {
                        while (true) {
                            Thread.sleep(TimeUnit.SECONDS.toMillis(CHECK_SECONDS));
                            governor.check();
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }));
    }

    /** A governor of this JVM's heap when it runs SerialGC ("Copy" and "MarkSweepCompact"), else empty. */
    static Optional<HeapGovernor> forSerialGc(long minIntervalMillis) {
        List<GarbageCollectorMXBean> gcs = ManagementFactory.getGarbageCollectorMXBeans();
        Optional<GarbageCollectorMXBean> young = gcs.stream().filter(g -> g.getName().equals("Copy")).findFirst();
        Optional<GarbageCollectorMXBean> full = gcs.stream().filter(g -> g.getName().equals("MarkSweepCompact")).findFirst();
        if (young.isEmpty() || full.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new HeapGovernor(young.get(), full.get(), minIntervalMillis));
    }

    /** What to do on {@code r}, with full collections at least {@code minIntervalMillis} apart. */
    static Decision decide(Reading r, long minIntervalMillis) {
        if (r.millisSinceFull() < minIntervalMillis) {
            return Decision.NONE;
        }
        long grown = r.committed() - r.baseline();
        if (grown >= Math.max(r.baseline() / 2, GROWN_FLOOR_BYTES)) {
            return Decision.GROWN;
        }
        if (r.youngCollections() == 0 && r.allocated() < IDLE_ALLOCATION_BYTES
                && grown >= Math.max(r.baseline() / 4, IDLE_FLOOR_BYTES)) {
            return Decision.IDLE;
        }
        return Decision.NONE;
    }

    /** Reads the heap and collects if {@link #decide} says so; returns what it decided. */
    Decision check() {
        Reading r = read();
        Decision d = decide(r, minIntervalMillis);
        if (d != Decision.NONE) {
            long t0 = System.nanoTime();
            System.gc();
            long took = System.nanoTime() - t0;
            COLLECTIONS.incrementAndGet();
            PAUSE_NANOS.addAndGet(took);
            lastYoungCount = young.getCollectionCount();
            lastEdenUsed = edenUsed();
            noteFullCollections();
            LOG.log(Level.FINE, () -> "heap: " + (r.committed() >> 20) + " MB committed, " + (r.baseline() >> 20)
                    + " MB after the last full collection (" + d + "): collected in " + TimeUnit.NANOSECONDS.toMillis(took)
                    + " ms, now " + (committed() >> 20) + " MB");
        }
        return d;
    }

    /** This check's reading; the next one's young collections and allocation count from now. */
    Reading read() {
        long youngCount = young.getCollectionCount();
        long youngSince = youngCount - lastYoungCount;
        lastYoungCount = youngCount;
        long edenUsed = edenUsed();
        // Between young collections the eden only grows, by what was allocated; across one, unknown.
        long allocated = youngSince == 0 ? Math.max(0, edenUsed - lastEdenUsed) : Long.MAX_VALUE;
        lastEdenUsed = edenUsed;
        noteFullCollections();
        // What each heap pool had committed after its last collection: the old generation's is the
        // last full collection's (only a full one collects it); the young pools' size changes only then.
        long baseline = lastFullCount == 0 ? startBaseline : heapPools.stream().mapToLong(p -> {
            MemoryUsage u = p.getCollectionUsage();
            return (u != null ? u : p.getUsage()).getCommitted();
        }).sum();
        return new Reading(committed(), baseline, youngSince, allocated,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastFullNanos));
    }

    /** A full collection seen since the last check (anyone's) restarts the interval, from when it was seen. */
    private void noteFullCollections() {
        long n = full.getCollectionCount();
        if (n != lastFullCount) {
            lastFullCount = n;
            lastFullNanos = System.nanoTime();
        }
    }

    /** The eden's bytes in use: between young collections it grows by what the proxy allocates. */
    private long edenUsed() {
        return eden.map(p -> p.getUsage().getUsed()).orElse(0L);
    }

    private static long committed() {
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getCommitted();
    }

    /** Full collections the governor ran in this JVM. */
    public static long collections() {
        return COLLECTIONS.get();
    }

    /** Their total time, as the calling thread saw it (the stop-the-world pause and the safepoint). */
    public static long pauseNanos() {
        return PAUSE_NANOS.get();
    }
}
