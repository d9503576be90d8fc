package io.sourcemesh.cluster.runtime.netns;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.time.Instant;

/**
 * What a kubelet knows of one container's life: when it last started, how often it was restarted,
 * how it last ended, and when it may start again — at once after its first exit, then kubelet's
 * crash-loop back-off of 10 s doubling up to 5 min.
 */
final class ContainerLife {
    static final Duration FIRST_BACKOFF = Duration.ofSeconds(10);
    static final Duration MAX_BACKOFF = Duration.ofMinutes(5);

    private Instant startedAt;
    private Instant lastStartedAt;
    private int restarts = -1;
    private Integer lastExit;
    private Instant lastFinished;
    private boolean running;

    void started(Instant now) {
        restarts++;
        startedAt = now;
        running = true;
    }

    /** Records the end of the current run (once; later calls for the same run change nothing). */
    void exited(int code, Instant now) {
        if (running) {
            running = false;
            lastStartedAt = startedAt;
            lastExit = code;
            lastFinished = now;
        }
    }

    int restarts() {
        return Math.max(restarts, 0);
    }

    boolean running() {
        return running;
    }

    /** When an exited container may be started again. */
    Instant restartAt() {
        if (running || lastFinished == null) {
            return Instant.MIN;
        }
        if (restarts == 0) {
            return lastFinished;
        }
        Duration backoff = FIRST_BACKOFF.multipliedBy(1L << Math.min(restarts - 1, 5));
        return lastFinished.plus(backoff.compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff);
    }

    /** restartCount, state and lastState as a container status shows them. */
    void write(ObjectNode status, String name, Instant now) {
        status.put("restartCount", restarts());
        ObjectNode state = status.putObject("state");
        if (running) {
            state.putObject("running").put("startedAt", startedAt.toString());
        } else if (lastFinished != null && now.isBefore(restartAt())) {
            state.putObject("waiting").put("reason", "CrashLoopBackOff").put("message", "back-off "
                    + Duration.between(lastFinished, restartAt()).toSeconds() + "s restarting failed container=" + name);
        } else {
            state.putObject("waiting").put("reason", "ContainerCreating");
        }
        if (lastFinished != null) {
            status.putObject("lastState").putObject("terminated").put("exitCode", lastExit)
                    .put("reason", lastExit == 0 ? "Completed" : "Error").put("startedAt", lastStartedAt.toString())
                    .put("finishedAt", lastFinished.toString());
        }
    }
}
