package io.sourcemesh.proxy.stats;

import io.netty.channel.EventLoop;
import io.netty.util.internal.ThreadExecutorMap;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A few counts of one object (an upstream host's active and total requests, its connections) kept as
 * {@link Stats} keeps its stats: each event loop adds to cells of its own (no lock-prefixed instruction),
 * any other thread to a shared array; a read sums them. Found by the loop's thread in a list as long as
 * the loops that touched the object (one or a few), so an object made per host needs no thread-local
 * slot of its own.
 */
public final class LoopCounts {
    private static final VarHandle CELL = MethodHandles.arrayElementVarHandle(long[].class);
    private static final Cells[] NONE = new Cells[0];

    private final int width;
    private final AtomicLongArray shared;
    private volatile Cells[] loops = NONE;

    /** One loop's counts, written by that loop only. */
    private record Cells(Thread owner, long[] values) {}

    public LoopCounts(int width) {
        this.width = width;
        this.shared = new AtomicLongArray(width);
    }

    public void add(int which, long n) {
        Thread me = Thread.currentThread();
        for (Cells c : loops) {
            if (c.owner == me) {
                CELL.setOpaque(c.values, which, (long) CELL.getOpaque(c.values, which) + n);
                return;
            }
        }
        Cells mine = ThreadExecutorMap.currentExecutor() instanceof EventLoop ? join(me) : null;
        if (mine != null) {
            CELL.setOpaque(mine.values, which, (long) CELL.getOpaque(mine.values, which) + n);
        } else {
            shared.addAndGet(which, n);
        }
    }

    private synchronized Cells join(Thread me) {
        Cells c = new Cells(me, new long[width]);
        Cells[] more = Arrays.copyOf(loops, loops.length + 1);
        more[more.length - 1] = c;
        loops = more;
        return c;
    }

    /** How many loops have cells of their own here (a test's measure). */
    int loopsWithCells() {
        return loops.length;
    }

    /** The sum over every loop and the shared part: it may miss an add in flight, never one that finished. */
    public long get(int which) {
        long sum = shared.get(which);
        for (Cells c : loops) {
            sum += (long) CELL.getOpaque(c.values, which);
        }
        return sum;
    }
}
