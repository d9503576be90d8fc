package io.sourcemesh.proxy.http;

import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.LockSupport;

/**
 * One thread per process that wakes the io_uring loops' {@link LoopClock}s when their checks are due, so
 * those loops keep nothing in their own timer queue. Netty's io_uring loop adds a TIMEOUT operation to
 * every wait while its timer queue holds a task, however far away: with a connection open that was two
 * ring operations (and a kernel timer armed and cancelled) per proxied request, the loop waiting once for
 * the client and once for the origin. The checks are seconds apart; here they cost this thread's sleep
 * and, when one is due, one task handed to its loop.
 *
 * <p>A clock asks for a wake-up with {@link #wakeAt} from its loop; the wake-up runs the clock on that loop
 * ({@link io.netty.channel.EventLoop#execute}), at or after the time asked for, once.
 */
final class LoopTicker implements Runnable {
    /** {@link LoopClock#wakeAt} when the clock asks for nothing. */
    static final long NONE = Long.MIN_VALUE;
    /** {@link #sleepingUntil} while the thread looks at the clocks: anyone asking wakes it. */
    private static final long SCANNING = Long.MIN_VALUE;
    /** {@link #sleepingUntil} while the thread sleeps with nothing to wait for. */
    private static final long FOREVER = Long.MAX_VALUE;

    private static final class Holder {
        static final LoopTicker TICKER = new LoopTicker();
    }

    private final CopyOnWriteArrayList<LoopClock> clocks = new CopyOnWriteArrayList<>();
    private final Thread thread;
    private volatile long sleepingUntil = SCANNING;

    private LoopTicker() {
        thread = Thread.ofPlatform().name("sourcemesh-loop-ticker").daemon().unstarted(this);
        thread.start();
    }

    static LoopTicker get() {
        return Holder.TICKER;
    }

    /** Called once per clock, on its loop: the ticker watches it from now on (until its loop stops). */
    void register(LoopClock clock) {
        clocks.add(clock);
    }

    /** On {@code clock}'s loop: run it there at {@code at} (a nanoTime), in place of any earlier request. */
    void wakeAt(LoopClock clock, long at) {
        clock.wakeAt = at;
        long until = sleepingUntil;
        if (until == SCANNING || until == FOREVER || at - until < 0) {
            LockSupport.unpark(thread);
        }
    }

    /** On {@code clock}'s loop: it needs no wake-up (one already handed to the loop still runs, harmlessly). */
    void cancel(LoopClock clock) {
        clock.wakeAt = NONE;
    }

    @Override
    public void run() {
        for (;;) {
            sleepingUntil = SCANNING;
            long now = System.nanoTime();
            long next = FOREVER;
            for (LoopClock c : clocks) {
                long at = c.wakeAt;
                if (at == NONE) {
                    if (c.loop().isShuttingDown()) {
                        clocks.remove(c);
                    }
                    continue;
                }
                if (at - now <= 0) {
                    if (LoopClock.WAKE_AT.compareAndSet(c, at, NONE)) {
                        try {
                            c.loop().execute(c);
                        } catch (RejectedExecutionException stopped) {
                            clocks.remove(c); // its loop is gone, and its connections with it
                        }
                    }
                } else if (next == FOREVER || at - next < 0) {
                    next = at;
                }
            }
            sleepingUntil = next;
            if (next == FOREVER) {
                LockSupport.park(this);
            } else {
                LockSupport.parkNanos(this, next - System.nanoTime());
            }
        }
    }
}
