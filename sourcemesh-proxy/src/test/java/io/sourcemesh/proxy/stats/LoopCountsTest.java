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
import org.junit.jupiter.api.Test;

/** Counts moved on two loops (each in its own cells) and on two other threads at once: exact once they finish. */
class LoopCountsTest {
    private static final int ADDS = 200_000;

    @Test
    void loopsAndOtherThreadsAddUpExactly() throws Exception {
        LoopCounts counts = new LoopCounts(2);
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(2, NioIoHandler.newFactory());
        try {
            EventLoop starts = group.next();
            EventLoop ends = group.next();
            assertNotSame(starts, ends);
            CountDownLatch go = new CountDownLatch(1);
            List<Future<?>> loops = new ArrayList<>();
            for (EventLoop loop : List.of(starts, ends)) {
                loops.add(loop.submit(() -> {
                    await(go);
                    for (int i = 0; i < ADDS; i++) {
                        counts.add(0, loop == starts ? 1 : -1); // a request started on one loop, ended on the other
                        counts.add(1, 1);
                    }
                }));
            }
            List<Thread> others = new ArrayList<>();
            for (int t = 0; t < 2; t++) {
                Thread other = new Thread(() -> {
                    await(go);
                    for (int i = 0; i < ADDS; i++) {
                        counts.add(1, 2);
                    }
                });
                other.start();
                others.add(other);
            }
            go.countDown();
            for (Future<?> f : loops) {
                f.get(30, TimeUnit.SECONDS);
            }
            for (Thread t : others) {
                t.join(30_000);
            }
            assertEquals(2, counts.loopsWithCells(), "each loop counted in cells of its own");
            assertEquals(0, counts.get(0), "the two loops' moves cancel out");
            assertEquals(2L * ADDS + 2L * 2 * ADDS, counts.get(1));
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
