package io.sourcemesh.cli;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * When each phase of the daemon's start ended, in milliseconds since its JVM started (the process's
 * start time, as the kernel has it), and the process's CPU time (all threads, user + system) by then:
 * the line in daemon.log that says where {@code up}'s time goes. The CPU figures are the steadier ones
 * on a loaded machine, where a phase's wall time is mostly waiting for a core.
 */
final class StartTimeline {
    private final long start;
    private final List<String> marks = new ArrayList<>();
    private final List<String> cpu = new ArrayList<>();

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
        cpu.add(phase + " " + cpuMillis());
    }

    private static long cpuMillis() {
        return ProcessHandle.current().info().totalCpuDuration().map(Duration::toMillis).orElse(-1L);
    }

    /** "N ms after the JVM started (phase ms, …); N ms of CPU (phase ms, …)". */
    @Override
    public String toString() {
        return (System.currentTimeMillis() - start) + " ms after the JVM started (" + String.join(", ", marks) + " ms); "
                + cpuMillis() + " ms of CPU (" + String.join(", ", cpu) + " ms)";
    }
}
