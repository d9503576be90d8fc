package io.sourcemesh.proxy.stats;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.FastThreadLocalThread;
import io.netty.util.internal.ThreadExecutorMap;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The proxy's counters and gauges, named as Envoy names them (e.g.
 * {@code listener.0.0.0.0_15006.downstream_cx_total}, {@code cluster.NAME.upstream_cx_total}).
 * Look a stat up once when a config version is built and keep it.
 *
 * <p>Updates on an event loop thread go to that loop's own cells (Envoy's thread-local stats): a
 * plain add of the loop's slot, no lock-prefixed instruction (a full fence each, several per proxied
 * request). Any other thread (control plane, timers of their own) adds to a shared {@link LongAdder}.
 * A read sums the shared part and every loop's cell: it may miss an add still in flight on a loop,
 * never one that finished.
 */
public final class Stats {
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();
    private final Map<String, Gauge> gauges = new ConcurrentHashMap<>();
    private final AtomicInteger nextId = new AtomicInteger();
    /** Every loop's cells that updated a stat of this instance; copied on write (a new loop is rare). */
    private volatile LoopCells[] loops = new LoopCells[0];
    private final FastThreadLocal<LoopCells> mine = new FastThreadLocal<>() {
        @Override
        protected LoopCells initialValue() {
            return ThreadExecutorMap.currentExecutor() instanceof EventLoop ? register() : NOT_A_LOOP;
        }
    };

    public Counter counter(String name) {
        return counters.computeIfAbsent(name, n -> new Counter(this, nextId.getAndIncrement()));
    }

    public Gauge gauge(String name) {
        return gauges.computeIfAbsent(name, n -> new Gauge(this, nextId.getAndIncrement()));
    }

    /** Counters by name, sorted. */
    public Map<String, Long> counters() {
        Map<String, Long> out = new TreeMap<>();
        counters.forEach((k, v) -> out.put(k, v.value()));
        return out;
    }

    /** Gauges by name, sorted. */
    public Map<String, Long> gauges() {
        Map<String, Long> out = new TreeMap<>();
        gauges.forEach((k, v) -> out.put(k, v.value()));
        return out;
    }

    /** The calling thread's cells when it is an event loop; null otherwise (the shared part then). */
    private LoopCells cells() {
        // Only Netty's own threads can be loops: any other is answered without a thread-local look-up.
        if (!(Thread.currentThread() instanceof FastThreadLocalThread)) {
            return null;
        }
        LoopCells c = mine.get();
        return c == NOT_A_LOOP ? null : c;
    }

    private synchronized LoopCells register() {
        LoopCells c = new LoopCells(nextId.get());
        LoopCells[] more = Arrays.copyOf(loops, loops.length + 1);
        more[more.length - 1] = c;
        loops = more;
        return c;
    }

    /** Whether the calling thread holds cells of this instance in its thread-local slot (a test's measure). */
    boolean cellsOnThisThread() {
        return mine.isSet();
    }

    /** How many loops have cells of their own here (a test's measure). */
    int loopsWithCells() {
        return loops.length;
    }

    /** One stat's value over every loop (and not the shared part). */
    private long loopsSum(int id) {
        long sum = 0;
        for (LoopCells c : loops) {
            sum += c.get(id);
        }
        return sum;
    }

    private static final LoopCells NOT_A_LOOP = new LoopCells(0);

    /**
     * The proxy stops on loops that live on (a shared transport): each forgets its cells' thread-local
     * slot, so they do not stay reachable from the loop's thread. Their counts stay in the sums.
     */
    public void leave(Iterable<? extends EventExecutor> loops) {
        for (EventExecutor loop : loops) {
            if (loop.isShuttingDown()) {
                continue;
            }
            try {
                loop.execute(mine::remove);
            } catch (RejectedExecutionException stopping) {
                // the loop and its thread locals go away with it
            }
        }
    }

    /**
     * One loop's values of this instance's stats, by stat id, written by that loop only: a read of
     * its own cell and a write back, each opaque (whole, never torn; plain moves on x86). Grown by
     * its loop when a stat made later is first updated; another thread reads the newest array it
     * sees: an older one holds the values copied so far, which only ever fall behind.
     */
    private static final class LoopCells {
        private static final VarHandle CELL = MethodHandles.arrayElementVarHandle(long[].class);
        private volatile long[] cells;

        LoopCells(int size) {
            this.cells = new long[Math.max(16, size)];
        }

        void add(int id, long n) {
            long[] c = cells;
            if (id >= c.length) {
                c = grow(id);
            }
            CELL.setOpaque(c, id, (long) CELL.getOpaque(c, id) + n);
        }

        private long[] grow(int id) {
            long[] bigger = new long[Math.max(id + 1, cells.length * 2)];
            long[] old = cells;
            for (int i = 0; i < old.length; i++) {
                bigger[i] = (long) CELL.getOpaque(old, i);
            }
            cells = bigger;
            return bigger;
        }

        long get(int id) {
            long[] c = cells;
            return id < c.length ? (long) CELL.getOpaque(c, id) : 0;
        }
    }

    /** Only ever goes up. */
    public static final class Counter {
        private final Stats stats;
        private final int id;
        private final LongAdder shared = new LongAdder();

        private Counter(Stats stats, int id) {
            this.stats = stats;
            this.id = id;
        }

        public void inc() {
            add(1);
        }

        public void add(long n) {
            LoopCells c = stats.cells();
            if (c != null) {
                c.add(id, n);
            } else {
                shared.add(n);
            }
        }

        public long value() {
            return shared.sum() + stats.loopsSum(id);
        }
    }

    /**
     * Goes up and down ({@link #inc}/{@link #dec}, e.g. connections active: opened on one loop and
     * closed on another, each loop's moves summed are still exact), or is {@link #set} (a size, a
     * flag). A gauge is one or the other: a value set is added to the moves.
     */
    public static final class Gauge {
        private final Stats stats;
        private final int id;
        private final LongAdder shared = new LongAdder();
        private volatile long set;

        private Gauge(Stats stats, int id) {
            this.stats = stats;
            this.id = id;
        }

        public void inc() {
            add(1);
        }

        public void dec() {
            add(-1);
        }

        private void add(long n) {
            LoopCells c = stats.cells();
            if (c != null) {
                c.add(id, n);
            } else {
                shared.add(n);
            }
        }

        /** Written only when it changes: a volatile write is a full fence. */
        public void set(long v) {
            if (set != v) {
                set = v;
            }
        }

        public long value() {
            return set + shared.sum() + stats.loopsSum(id);
        }
    }
}
