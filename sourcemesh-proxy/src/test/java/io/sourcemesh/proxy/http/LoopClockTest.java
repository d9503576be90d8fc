package io.sourcemesh.proxy.http;

import static org.junit.jupiter.api.Assertions.*;

import io.netty.channel.embedded.EmbeddedChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** One heap of checks per event loop: each entry fires once at its due time, earliest first, and a cancelled one never. */
class LoopClockTest {
    private static final class Probe extends LoopClock.Entry {
        final int id;
        final List<Probe> fired;

        Probe(int id, List<Probe> fired) {
            this.id = id;
            this.fired = fired;
        }

        @Override
        void fire() {
            fired.add(this);
        }
    }

    @Test
    void entriesFireInDueOrderAndCancelledOnesNever() throws Exception {
        EmbeddedChannel channel = new EmbeddedChannel();
        LoopClock clock = LoopClock.of(channel.eventLoop());
        assertSame(clock, LoopClock.of(channel.eventLoop()), "one clock per loop");
        List<Probe> fired = new ArrayList<>();
        Random random = new Random(7);
        long base = System.nanoTime();
        List<Probe> probes = new ArrayList<>();
        for (int i = 0; i < 2000; i++) {
            Probe p = new Probe(i, fired);
            clock.schedule(p, base + random.nextInt(50_000_000)); // within 50 ms
            probes.add(p);
        }
        // Moved later, moved earlier, cancelled: the heap keeps its order through each.
        for (int i = 0; i < 2000; i += 3) {
            clock.schedule(probes.get(i), probes.get(i).due + random.nextInt(20_000_000) - 10_000_000);
        }
        List<Probe> cancelled = new ArrayList<>();
        for (int i = 1; i < 2000; i += 7) {
            clock.cancel(probes.get(i));
            cancelled.add(probes.get(i));
        }
        assertEquals(2000 - cancelled.size(), clock.size());
        long until = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (clock.size() > 0 && System.nanoTime() < until) {
            Thread.sleep(5);
            channel.runScheduledPendingTasks();
        }
        assertEquals(0, clock.size());
        assertEquals(2000 - cancelled.size(), fired.size());
        for (int i = 1; i < fired.size(); i++) {
            assertTrue(fired.get(i).due - fired.get(i - 1).due >= 0, "fired out of order at " + i);
        }
        for (Probe p : cancelled) {
            assertFalse(fired.contains(p), "cancelled entry " + p.id + " fired");
        }
        channel.finishAndReleaseAll();
    }

    @Test
    void nothingFiresBeforeItIsDue() {
        EmbeddedChannel channel = new EmbeddedChannel();
        LoopClock clock = LoopClock.of(channel.eventLoop());
        List<Probe> fired = new ArrayList<>();
        Probe later = new Probe(1, fired);
        clock.schedule(later, System.nanoTime() + Duration.ofHours(1).toNanos());
        Probe now = new Probe(2, fired);
        clock.schedule(now, System.nanoTime());
        channel.runScheduledPendingTasks();
        assertEquals(List.of(now), fired);
        assertEquals(1, clock.size());
        clock.cancel(later);
        assertEquals(0, clock.size());
        channel.finishAndReleaseAll();
    }

    /** A check that throws does not stop the others due with it, nor those due later. */
    @Test
    void aFailingCheckLeavesTheOthersRunning() throws Exception {
        EmbeddedChannel channel = new EmbeddedChannel();
        LoopClock clock = LoopClock.of(channel.eventLoop());
        List<Probe> fired = new ArrayList<>();
        LoopClock.Entry failing = new LoopClock.Entry() {
            @Override
            void fire() {
                throw new IllegalStateException("a broken connection");
            }
        };
        long now = System.nanoTime();
        clock.schedule(failing, now);
        Probe alongside = new Probe(1, fired);
        clock.schedule(alongside, now + 1);
        Probe after = new Probe(2, fired);
        clock.schedule(after, now + Duration.ofMillis(30).toNanos());
        channel.runScheduledPendingTasks();
        assertEquals(alongside, fired.isEmpty() ? null : fired.getFirst(), "due with the failing check, fired after it");
        long until = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (clock.size() > 0 && System.nanoTime() < until) {
            Thread.sleep(5);
            channel.runScheduledPendingTasks();
        }
        assertEquals(List.of(alongside, after), fired);
        channel.finishAndReleaseAll();
    }

    @Test
    void idleConnectionsShareTheLoopsOneCheckAndLeaveNoEntryWhenClosed() {
        EmbeddedChannel channel = new EmbeddedChannel();
        Optional<Duration> hour = Optional.of(Duration.ofHours(1));
        List<ConnectionTimers> connections = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            ConnectionTimers timers = new ConnectionTimers(new HttpConnection(null, null), channel.eventLoop(), hour, hour, hour, hour);
            timers.connectionIdle();
            assertTrue(timers.checkPending());
            connections.add(timers);
        }
        LoopClock clock = LoopClock.of(channel.eventLoop());
        assertEquals(1000, clock.size(), "one entry per idle connection, not a timer task each");
        connections.forEach(ConnectionTimers::stop);
        assertEquals(0, clock.size(), "a closed connection is out of the heap at once");
        channel.finishAndReleaseAll();
    }
}
