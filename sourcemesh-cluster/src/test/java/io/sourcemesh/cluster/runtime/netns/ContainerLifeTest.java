package io.sourcemesh.cluster.runtime.netns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class ContainerLifeTest {
    private static final Instant T0 = Instant.parse("2026-11-26T10:00:00Z");

    @Test
    void theFirstExitRestartsAtOnceThenTheBackOffDoublesUpToFiveMinutes() {
        ContainerLife life = new ContainerLife();
        life.started(T0);
        life.exited(1, T0.plusSeconds(1));
        assertEquals(T0.plusSeconds(1), life.restartAt(), "no back-off before the first restart");
        long[] expected = {10, 20, 40, 80, 160, 300, 300};
        Instant now = T0.plusSeconds(1);
        for (long seconds : expected) {
            life.started(now);
            now = now.plusSeconds(2);
            life.exited(2, now);
            assertEquals(now.plusSeconds(seconds), life.restartAt());
        }
        assertEquals(7, life.restarts());
    }

    @Test
    void aStatusShowsTheCountTheStateAndHowTheLastRunEnded() {
        ContainerLife life = new ContainerLife();
        life.started(T0);
        ObjectNode first = JsonNodeFactory.instance.objectNode();
        life.write(first, "httpbin", T0);
        assertEquals("{\"restartCount\":0,\"state\":{\"running\":{\"startedAt\":\"2026-11-26T10:00:00Z\"}}}", first.toString());

        life.exited(137, T0.plusSeconds(5));
        life.exited(0, T0.plusSeconds(6)); // the same run: ignored
        life.started(T0.plusSeconds(5));
        life.exited(1, T0.plusSeconds(7));
        ObjectNode waiting = JsonNodeFactory.instance.objectNode();
        life.write(waiting, "httpbin", T0.plusSeconds(8));
        assertEquals("{\"restartCount\":1,\"state\":{\"waiting\":{\"reason\":\"CrashLoopBackOff\",\"message\":\"back-off 10s restarting"
                + " failed container=httpbin\"}},\"lastState\":{\"terminated\":{\"exitCode\":1,\"reason\":\"Error\","
                + "\"startedAt\":\"2026-11-26T10:00:05Z\",\"finishedAt\":\"2026-11-26T10:00:07Z\"}}}", waiting.toString());
        assertFalse(life.running());
    }
}
