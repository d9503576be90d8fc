package io.sourcemesh.cluster.kubelet;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.Optional;

/**
 * What a kubelet knows of one container's life: when it last started, how often it was restarted,
 * how it last ended, and when it may start again — per the pod's {@link RestartPolicy}, at once after
 * its first exit, then after the {@link BackOff}.
 */
public final class ContainerLife {
    private final RestartPolicy policy;
    private final BackOff backOff;
    private Instant startedAt;
    private Instant lastStartedAt;
    private int restarts = -1;
    private Integer lastExit;
    private Instant lastFinished;
    private boolean running;

    public ContainerLife(RestartPolicy policy, BackOff backOff) {
        this.policy = policy;
        this.backOff = backOff;
    }

    public synchronized void started(Instant now) {
        restarts++;
        startedAt = now;
        running = true;
    }

    /** Records the end of the current run (once; later calls for the same run change nothing). */
    public synchronized void exited(int code, Instant now) {
        if (running) {
            running = false;
            lastStartedAt = startedAt;
            lastExit = code;
            lastFinished = now;
        }
    }

    public synchronized int restarts() {
        return Math.max(restarts, 0);
    }

    public synchronized boolean running() {
        return running;
    }

    /** When an exited container may be started again; empty while it runs, or when its policy keeps it down. */
    public synchronized Optional<Instant> restartAt() {
        if (running || lastFinished == null || !policy.restarts(lastExit)) {
            return Optional.empty();
        }
        return Optional.of(lastFinished.plus(backOff.after(restarts)));
    }

    /**
     * Whether it ended for good (its policy does not restart it): the pod is Succeeded or Failed once
     * every container has.
     */
    public synchronized boolean done() {
        return !running && lastFinished != null && !policy.restarts(lastExit);
    }

    /** A pod's phase from its containers' lives: Running until each ended for good, then Succeeded when all exited 0, else Failed. */
    public static String phase(Collection<ContainerLife> containers) {
        if (containers.isEmpty() || !containers.stream().allMatch(ContainerLife::done)) {
            return "Running";
        }
        return containers.stream().allMatch(c -> c.lastExit() == 0) ? "Succeeded" : "Failed";
    }

    /** The exit code of its last run (0 before any). */
    public synchronized int lastExit() {
        return lastExit == null ? 0 : lastExit;
    }

    /** restartCount, state and lastState as a container status shows them. */
    public synchronized void write(ObjectNode status, String name, Instant now) {
        status.put("restartCount", restarts());
        ObjectNode state = status.putObject("state");
        Optional<Instant> restartAt = restartAt();
        if (running) {
            state.putObject("running").put("startedAt", startedAt.toString());
        } else if (done()) {
            // Kept down: the run that ended is the state, as the kubelet shows a Never/OnFailure container.
            terminated(state);
            return;
        } else if (restartAt.isPresent() && now.isBefore(restartAt.get())) {
            state.putObject("waiting").put("reason", "CrashLoopBackOff").put("message", "back-off "
                    + Duration.between(lastFinished, restartAt.get()).toSeconds() + "s restarting failed container=" + name);
        } else {
            state.putObject("waiting").put("reason", "ContainerCreating");
        }
        if (lastFinished != null) {
            terminated(status.putObject("lastState"));
        }
    }

    private void terminated(ObjectNode in) {
        in.putObject("terminated").put("exitCode", lastExit).put("reason", lastExit == 0 ? "Completed" : "Error")
                .put("startedAt", lastStartedAt.toString()).put("finishedAt", lastFinished.toString());
    }
}
