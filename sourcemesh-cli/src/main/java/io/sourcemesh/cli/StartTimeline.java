package io.sourcemesh.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * When each phase of the daemon's start ended, in milliseconds since its JVM started (the process's
 * start time, as the kernel has it): the line in daemon.log that says where {@code up}'s time goes.
 */
final class StartTimeline {
    private final long start;
    private final List<String> marks = new ArrayList<>();

    private StartTimeline(long start) {
        this.start = start;
    }

    static StartTimeline sinceJvmStart() {
        long now = System.currentTimeMillis();
        StartTimeline t = new StartTimeline(ProcessHandle.current().info().startInstant().map(java.time.Instant::toEpochMilli).orElse(now));
        t.mark("main");
        return t;
    }

    void mark(String phase) {
        marks.add(phase + " " + (System.currentTimeMillis() - start));
    }

    /** "N ms after the JVM started (phase ms, …)". */
    @Override
    public String toString() {
        return (System.currentTimeMillis() - start) + " ms after the JVM started (" + String.join(", ", marks) + " ms)";
    }
}
