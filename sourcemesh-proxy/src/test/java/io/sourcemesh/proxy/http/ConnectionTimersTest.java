package io.sourcemesh.proxy.http;

import static org.junit.jupiter.api.Assertions.*;

import io.netty.channel.embedded.EmbeddedChannel;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * A closed connection's clocks stay off: nothing it schedules after the close may sit in the event
 * loop's timer queue (where each task holds the connection and its channel until it fires).
 */
class ConnectionTimersTest {
    private static final Optional<Duration> HOUR = Optional.of(Duration.ofHours(1));

    @Test
    void nothingIsScheduledAfterStop() {
        EmbeddedChannel channel = new EmbeddedChannel();
        ConnectionTimers timers = new ConnectionTimers(new HttpConnection(null, null), channel.eventLoop(), HOUR, HOUR, HOUR, HOUR);
        timers.bytesArrived(false);
        timers.streamStarted();
        assertNotEquals(-1, channel.runScheduledPendingTasks(), "request and stream clocks run while the connection is open");

        timers.stop();
        assertEquals(-1, channel.runScheduledPendingTasks(), "the close cancels them");
        // What a stream that ends after the close does (its upstream answered later): idle_timeout would arm.
        timers.connectionIdle();
        timers.bytesArrived(false);
        timers.streamStarted();
        assertEquals(-1, channel.runScheduledPendingTasks(), "nothing scheduled after the close holds the connection");
        channel.finishAndReleaseAll();
    }

    @Test
    void cancelAllLeavesTheIdleClockFreeToStartAgain() {
        EmbeddedChannel channel = new EmbeddedChannel();
        ConnectionTimers timers = new ConnectionTimers(new HttpConnection(null, null), channel.eventLoop(), HOUR, HOUR, HOUR, HOUR);
        timers.cancelAll(); // after a 101 the connection lives on as raw bytes
        timers.connectionIdle();
        assertNotEquals(-1, channel.runScheduledPendingTasks());
        channel.finishAndReleaseAll();
    }

    @Test
    void keepAliveRequestsScheduleNoTimerEach() {
        // Envoy's defaults: idle_timeout 1 h, stream_idle_timeout 5 min; here also request and headers timeouts.
        EmbeddedChannel channel = new EmbeddedChannel();
        ConnectionTimers timers = new ConnectionTimers(new HttpConnection(null, null), channel.eventLoop(), HOUR,
                Optional.of(Duration.ofSeconds(60)), Optional.of(Duration.ofMinutes(10)), Optional.of(Duration.ofMinutes(5)));
        LoopClock clock = LoopClock.of(channel.eventLoop());
        int before = clock.schedules();
        timers.connectionIdle();
        for (int i = 0; i < 1000; i++) {
            timers.bytesArrived(false);
            timers.streamStarted();
            timers.requestComplete();
            timers.activity();
            timers.connectionIdle();
        }
        // The first request brings the check forward from the idle deadline to its own clocks; every later
        // one finds a check in flight that comes no later than its deadlines.
        int scheduled = clock.schedules() - before;
        assertTrue(scheduled <= 3, "checks scheduled for 1000 requests: " + scheduled);
        assertNotEquals(-1, channel.runScheduledPendingTasks(), "a check is still pending for the idle connection");
        channel.finishAndReleaseAll();
    }
}
