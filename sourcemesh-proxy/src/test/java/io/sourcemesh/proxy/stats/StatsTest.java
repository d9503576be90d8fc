package io.sourcemesh.proxy.stats;

import static org.junit.jupiter.api.Assertions.*;

import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Counters and gauges updated on event loops (each loop's own cells) and on other threads (the shared
 * part) at once: after they finish, every read is exact; while they run, a counter never goes back.
 */
class StatsTest {
    private static final int ADDS = 200_000;

    @Test
    void loopsAndOtherThreadsAddUpExactly() throws Exception {
        Stats stats = new Stats();
        Stats.Counter total = stats.counter("total");
        Stats.Gauge active = stats.gauge("active");
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        try {
            EventLoop opener = group.next();
            EventLoop closer = group.next();
            assertNotSame(opener, closer);
            CountDownLatch go = new CountDownLatch(1);
            AtomicBoolean running = new AtomicBoolean(true);
            List<Future<?>> loops = new ArrayList<>();
            for (EventLoop loop : List.of(opener, closer)) {
                loops.add(loop.submit(() -> {
                    await(go);
                    for (int i = 0; i < ADDS; i++) {
                        total.inc();
                        if (loop == opener) {
                            active.inc(); // opened on one loop ...
                        } else {
                            active.dec(); // ... closed on the other
                        }
                        if (i % 2_000 == 0) {
                            stats.counter("made.later." + i).add(2); // a stat made after the loop's cells were sized
                        }
                    }
                }));
            }
            List<Thread> others = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                Thread other = new Thread(() -> {
                    await(go);
                    for (int i = 0; i < ADDS; i++) {
                        total.add(3);
                        active.inc();
                    }
                });
                other.start();
                others.add(other);
            }
            AtomicReference<String> wentBack = new AtomicReference<>();
            Thread reader = new Thread(() -> {
                long last = 0;
                while (running.get()) {
                    long now = total.value();
                    if (now < last) {
                        wentBack.set(last + " then " + now);
                    }
                    last = now;
                }
            });
            reader.start();
            go.countDown();
            for (Future<?> f : loops) {
                f.get(30, TimeUnit.SECONDS);
            }
            for (Thread t : others) {
                t.join(30_000);
            }
            running.set(false);
            reader.join(30_000);

            assertNull(wentBack.get(), "a counter read never goes back");
            assertEquals(2, stats.loopsWithCells(), "each loop counted in cells of its own");
            assertEquals(2L * ADDS + 2L * 3 * ADDS, total.value());
            assertEquals(2L * ADDS, active.value(), "the loops' moves cancel out, the other threads' stay");
            for (int i = 0; i < ADDS; i += 2_000) {
                assertEquals(4, stats.counters().get("made.later." + i));
            }
            assertEquals(2L * ADDS + 2L * 3 * ADDS, stats.counters().get("total"));
            assertEquals(2L * ADDS, stats.gauges().get("active"));
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void aSetGaugeShowsWhatWasSetLastFromAnyThread() throws Exception {
        Stats stats = new Stats();
        Stats.Gauge size = stats.gauge("size");
        size.set(5);
        assertEquals(5, size.value());
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            group.next().submit(() -> size.set(7)).get(10, TimeUnit.SECONDS);
            assertEquals(7, size.value());
            size.set(0);
            assertEquals(0, stats.gauges().get("size"));
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    @Test
    void loopsThatLiveOnForgetTheCellsOfAProxyThatLeftButTheCountsStay() throws Exception {
        Stats stats = new Stats();
        Stats.Counter total = stats.counter("total");
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        try {
            EventLoop loop = group.next();
            loop.submit(() -> total.add(5)).get(10, TimeUnit.SECONDS);
            assertTrue(loop.submit(stats::cellsOnThisThread).get(10, TimeUnit.SECONDS));
            stats.leave(group);
            assertFalse(loop.submit(stats::cellsOnThisThread).get(10, TimeUnit.SECONDS),
                    "a shared loop keeps nothing of a stopped proxy's stats");
            assertEquals(5, total.value());
            loop.submit(total::inc).get(10, TimeUnit.SECONDS); // a late update still counts
            assertEquals(6, total.value());
        } finally {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    private static void await(CountDownLatch go) {
        try {
            go.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
