package io.sourcemesh.cluster.kubelet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ContainerLifeTest {
    private static final Instant T0 = Instant.parse("2026-11-26T10:00:00Z");

    @Test
    void theFirstExitRestartsAtOnceThenTheBackOffDoublesUpToFiveMinutes() {
        ContainerLife life = new ContainerLife(RestartPolicy.ALWAYS, BackOff.KUBELET);
        life.started(T0);
        assertEquals(Optional.empty(), life.restartAt(), "running");
        life.exited(1, T0.plusSeconds(1));
        assertEquals(Optional.of(T0.plusSeconds(1)), life.restartAt(), "no back-off before the first restart");
        long[] expected = {10, 20, 40, 80, 160, 300, 300};
        Instant now = T0.plusSeconds(1);
        for (long seconds : expected) {
            life.started(now);
            now = now.plusSeconds(2);
            life.exited(2, now);
            assertEquals(Optional.of(now.plusSeconds(seconds)), life.restartAt());
        }
        assertEquals(7, life.restarts());
    }

    @Test
    void anInjectedBackOffDoublesFromItsFirstToItsMax() {
        ContainerLife life = new ContainerLife(RestartPolicy.ALWAYS, new BackOff(Duration.ofMillis(100), Duration.ofMillis(300)));
        Instant now = T0;
        long[] expected = {0, 100, 200, 300, 300};
        for (long ms : expected) {
            life.started(now);
            life.exited(0, now);
            assertEquals(Optional.of(now.plusMillis(ms)), life.restartAt());
        }
    }

    @Test
    void aStatusShowsTheCountTheStateAndHowTheLastRunEnded() {
        ContainerLife life = new ContainerLife(RestartPolicy.ALWAYS, BackOff.KUBELET);
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

    @Test
    void onFailureRestartsOnlyAnErrorAndNeverNothingTheEndedRunIsTheState() {
        ContainerLife onFailure = new ContainerLife(RestartPolicy.ON_FAILURE, BackOff.KUBELET);
        onFailure.started(T0);
        onFailure.exited(3, T0.plusSeconds(1));
        assertEquals(Optional.of(T0.plusSeconds(1)), onFailure.restartAt());
        onFailure.started(T0.plusSeconds(1));
        onFailure.exited(0, T0.plusSeconds(2));
        assertEquals(Optional.empty(), onFailure.restartAt(), "a clean exit is not restarted");
        assertTrue(onFailure.done());
        ObjectNode status = JsonNodeFactory.instance.objectNode();
        onFailure.write(status, "job", T0.plusSeconds(3));
        assertEquals("{\"restartCount\":1,\"state\":{\"terminated\":{\"exitCode\":0,\"reason\":\"Completed\","
                + "\"startedAt\":\"2026-11-26T10:00:01Z\",\"finishedAt\":\"2026-11-26T10:00:02Z\"}}}", status.toString());

        ContainerLife never = new ContainerLife(RestartPolicy.NEVER, BackOff.KUBELET);
        never.started(T0);
        never.exited(1, T0.plusSeconds(1));
        assertEquals(Optional.empty(), never.restartAt());
        assertEquals("Failed", ContainerLife.phase(List.of(onFailure, never)));
        assertEquals("Succeeded", ContainerLife.phase(List.of(onFailure)));
        ContainerLife running = new ContainerLife(RestartPolicy.NEVER, BackOff.KUBELET);
        running.started(T0);
        assertEquals("Running", ContainerLife.phase(List.of(onFailure, running)));
    }
}
