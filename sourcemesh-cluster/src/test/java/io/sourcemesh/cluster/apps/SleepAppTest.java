package io.sourcemesh.cluster.apps;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class SleepAppTest {
    @Test
    void gnuSleepOperandsAreSummedInfinityAndUnknownNeverEnd() {
        assertEquals(Optional.of(Duration.ofSeconds(30)), SleepApp.duration(List.of("sleep", "30")));
        assertEquals(Optional.of(Duration.ofMillis(90_500)), SleepApp.duration(List.of("/bin/sleep", "1m", "30.5s")));
        assertEquals(Optional.of(Duration.ofDays(3650)), SleepApp.duration(List.of("sh", "-c", "sleep 3650d")));
        assertEquals(Optional.of(Duration.ofHours(2)), SleepApp.duration(List.of("sleep", "2h")));
        assertEquals(Optional.empty(), SleepApp.duration(List.of("sleep", "infinity")));
        assertEquals(Optional.empty(), SleepApp.duration(List.of("sh", "-c", "sleep 1; exit 3")), "more than a sleep: not ours to end");
        assertEquals(Optional.empty(), SleepApp.duration(List.of("sleep")));
    }

    @Test
    void aFiniteSleepExitsZeroWhenItIsOver() throws Exception {
        SleepApp app = SleepApp.start(List.of("sleep", "0.2"));
        assertTrue(app.running());
        assertEquals(0, app.exit().toCompletableFuture().get(5, TimeUnit.SECONDS));
        assertFalse(app.running());
        SleepApp endless = SleepApp.start(List.of("sleep", "infinity"));
        assertFalse(endless.exit().toCompletableFuture().isDone());
        endless.close();
    }

    /** A pod deleted before its sleep is over: the stopped sleep reports no exit of its own when its time comes. */
    @Test
    void aSleepStoppedEarlyNeverExits() throws Exception {
        SleepApp app = SleepApp.start(List.of("sleep", "0.2"));
        app.close();
        assertFalse(app.running());
        Thread.sleep(600);
        assertFalse(app.exit().toCompletableFuture().isDone(), "the timer was cancelled with the container");
    }

    /** Its timer is gone with it: a stopped {@code sleep 3650d} is not held for ten years (a pod per deletion, else). */
    @Test
    void aStoppedSleepIsNotKeptByItsTimer() throws Exception {
        SleepApp app = SleepApp.start(List.of("/bin/sleep", "3650d"));
        WeakReference<SleepApp> ref = new WeakReference<>(app);
        app.close();
        app = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (ref.get() != null && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(50);
        }
        assertTrue(ref.get() == null, "the stopped sleep was collected");
    }
}
