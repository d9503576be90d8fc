package io.sourcemesh.proxy.http;

import io.netty.channel.EventLoop;
import io.netty.channel.IoEventLoop;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.concurrent.ScheduledFuture;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One timer for all the HTTP connections of an event loop. Each connection's clocks
 * ({@link ConnectionTimers}) are an entry in a min-heap ordered by when they next need a look; the
 * loop's timer queue holds one task, at the earliest. An idle keep-alive connection thus holds a
 * heap slot instead of a task of its own in Netty's queue (a {@code ScheduledFutureTask}, 64 bytes,
 * per connection and per route timeout), and moving a connection's check earlier or later allocates
 * nothing. Event-loop confined: one instance per event loop thread.
 *
 * <p>On an io_uring loop that one task is not in the loop's timer queue either: {@link LoopTicker}'s thread
 * wakes the clock (a task in the queue costs a TIMEOUT ring operation on each of the loop's waits, two per
 * proxied request). Other loops schedule it themselves (epoll arms its timerfd only when the deadline moves).
 */
final class LoopClock implements Runnable {
    private static final Logger LOG = Logger.getLogger(LoopClock.class.getName());
    private static final FastThreadLocal<LoopClock> CLOCKS = new FastThreadLocal<>();

    /** Something the clock runs at {@link #due}: in the heap while {@code index >= 0}. */
    abstract static class Entry {
        long due;
        int index = -1;

        /** Due now: may schedule itself (or others) again. */
        abstract void fire();
    }

    static final VarHandle WAKE_AT;

    static {
        try {
            WAKE_AT = MethodHandles.lookup().findVarHandle(LoopClock.class, "wakeAt", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final EventLoop loop;
    /** Non-null on an io_uring loop: who wakes this clock instead of the loop's timer queue. */
    private final LoopTicker ticker;
    private Entry[] heap = new Entry[16];
    private int size;
    private ScheduledFuture<?> task;
    /** With a ticker: a wake-up is asked for at {@link #taskAt} (or was handed to the loop and will run). */
    private boolean tickerArmed;
    private long taskAt;
    private boolean running;
    /** How many times an entry was put in (or moved within) the heap (a test's measure). */
    private int schedules;
    /** With a ticker: when it should run this clock ({@link LoopTicker#NONE}: never); written on the loop, taken by the ticker. */
    volatile long wakeAt = LoopTicker.NONE;

    private LoopClock(EventLoop loop) {
        this.loop = loop;
        this.ticker = wokenFromOutside(loop) ? LoopTicker.get() : null;
        if (ticker != null) {
            ticker.register(this);
        }
    }

    /** io_uring loops: their timer queue costs a ring operation per wait, so the ticker wakes their clock. */
    static boolean wokenFromOutside(EventLoop loop) {
        return loop instanceof IoEventLoop io && io.isIoType(IoUringIoHandler.class);
    }

    EventLoop loop() {
        return loop;
    }

    /** Whether the loop's own timer queue holds this clock's task (a test's measure). */
    boolean inLoopTimerQueue() {
        return task != null;
    }

    /** Whether an I/O event is being handled ({@link #eventStarted}), and how deeply (a handler may run another's). */
    private int eventDepth;
    /** The time the current event began, read on its first {@link #now} (0: not read yet). */
    private long eventNanos;
    private boolean eventNanosRead;
    /** How many times the monotonic clock was read for {@link #now} (a test's measure). */
    private long reads;

    /**
     * Now, as the connections' clocks, the router's service time and the access log's durations take it:
     * within an I/O event ({@link #eventStarted}) the time the event's first reader saw, so an event reads
     * the clock once however many of them ask (Envoy's dispatcher keeps such an approximate time per
     * loop iteration); outside one, the clock itself. An event is a read of a few microseconds' work:
     * what it timestamps happened at its start as much as anywhere within it.
     */
    long now() {
        if (eventDepth == 0) {
            return read();
        }
        if (!eventNanosRead) {
            eventNanos = read();
            eventNanosRead = true;
        }
        return eventNanos;
    }

    /**
     * An I/O event begins on this loop (a read from a client or an upstream, a response's last write done):
     * {@link #now} is its time until it ends.
     */
    void eventStarted() {
        if (eventDepth++ == 0) {
            eventNanosRead = false;
        }
    }

    /** The event begun by the matching {@link #eventStarted} ends (call it in a finally). */
    void eventEnded() {
        eventDepth--;
    }

    private long read() {
        reads++;
        return System.nanoTime();
    }

    /** How many times {@link #now} read the clock (a test's measure). */
    long reads() {
        return reads;
    }

    /** The clock of {@code loop}, called on its thread. */
    static LoopClock of(EventLoop loop) {
        LoopClock c = CLOCKS.getIfExists();
        if (c == null || c.loop != loop) { // a new loop on this thread (EmbeddedEventLoop in tests)
            c = new LoopClock(loop);
            CLOCKS.set(c);
        }
        return c;
    }

    /** {@code e} runs at {@code due} (and not at any time it was scheduled for before). */
    void schedule(Entry e, long due) {
        schedules++;
        e.due = due;
        if (e.index < 0) {
            if (size == heap.length) {
                heap = Arrays.copyOf(heap, size * 2);
            }
            e.index = size++;
            heap[e.index] = e;
            up(e.index);
        } else if (!up(e.index)) {
            down(e.index);
        }
        arm();
    }

    void cancel(Entry e) {
        int i = e.index;
        if (i < 0) {
            return;
        }
        e.index = -1;
        Entry last = heap[--size];
        heap[size] = null;
        if (i < size) {
            heap[i] = last;
            last.index = i;
            if (!up(i)) {
                down(i);
            }
        }
        if (heap.length > 64 && size < heap.length >>> 2) {
            heap = Arrays.copyOf(heap, heap.length >>> 1); // the connections went away: so does their room
        }
        if (size == 0 && task != null) {
            task.cancel(false); // nothing left to check: the loop's timer queue holds nothing of ours
            task = null;
        }
        if (size == 0 && tickerArmed) {
            tickerArmed = false;
            ticker.cancel(this);
        }
    }

    int schedules() {
        return schedules;
    }

    /** How many entries wait (a test's measure). */
    int size() {
        return size;
    }

    @Override
    public void run() {
        task = null;
        tickerArmed = false;
        running = true;
        try {
            long now = System.nanoTime();
            while (size > 0 && heap[0].due - now <= 0) {
                Entry e = heap[0];
                cancel(e);
                try {
                    e.fire();
                } catch (RuntimeException | Error failure) {
                    // One connection's failure must not stop the clocks of every other connection on this loop.
                    LOG.log(Level.WARNING, "a connection's timer check failed", failure);
                }
            }
        } finally {
            running = false;
        }
        arm();
    }

    /** The loop's task runs no later than the earliest entry. */
    private void arm() {
        if (running || size == 0) {
            return;
        }
        long first = heap[0].due;
        if (ticker != null) {
            if (tickerArmed && first - taskAt >= 0) {
                return;
            }
            tickerArmed = true;
            taskAt = first;
            ticker.wakeAt(this, first);
            return;
        }
        if (task != null) {
            if (first - taskAt >= 0) {
                return;
            }
            task.cancel(false);
        }
        taskAt = first;
        task = loop.schedule(this, Math.max(0, first - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    private boolean up(int i) {
        Entry e = heap[i];
        int start = i;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            Entry p = heap[parent];
            if (e.due - p.due >= 0) {
                break;
            }
            heap[i] = p;
            p.index = i;
            i = parent;
        }
        heap[i] = e;
        e.index = i;
        return i != start;
    }

    private void down(int i) {
        Entry e = heap[i];
        int half = size >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            int right = child + 1;
            if (right < size && heap[right].due - heap[child].due < 0) {
                child = right;
            }
            if (heap[child].due - e.due >= 0) {
                break;
            }
            heap[i] = heap[child];
            heap[i].index = i;
            i = child;
        }
        heap[i] = e;
        e.index = i;
    }
}
