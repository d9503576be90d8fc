package io.sourcemesh.cluster.apps;

import java.util.List;

/**
 * The stand-in for a container whose whole job is {@code sleep} (the sleep sample's curlimages/curl):
 * it owns no socket and runs nothing; the pod exists so that {@code exec} has somewhere to run.
 */
public final class SleepApp implements AutoCloseable {
    private final List<String> command;
    private volatile boolean running = true;

    private SleepApp(List<String> command) {
        this.command = List.copyOf(command);
    }

    /** @param command the container's command and args, kept for display (ps, describe) */
    public static SleepApp start(List<String> command) {
        return new SleepApp(command == null ? List.of() : command);
    }

    public List<String> command() {
        return command;
    }

    public boolean running() {
        return running;
    }

    @Override
    public void close() {
        running = false;
    }
}
