package io.sourcemesh.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * When each phase of the daemon's start ended, in milliseconds since its JVM started (the process's
 * start time, as the kernel has it: {@link #processStart}), and the process's CPU time (all threads, user + system) by then:
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
        StartTimeline t = new StartTimeline(processStart(now));
        t.mark("main");
        return t;
    }

    /**
     * The process's start in epoch milliseconds, to the kernel's 10 ms tick: its age is the system's uptime less
     * its start in ticks since boot (/proc/self/stat field 22). {@code ProcessHandle}'s start instant adds those
     * ticks to the boot time, which the kernel gives in whole seconds: up to a second early, which made every
     * phase of {@code up} look up to a second later than it was.
     */
    static long processStart(long nowMillis) {
        try {
            return processStart(nowMillis, Files.readString(Path.of("/proc/self/stat")), Files.readString(Path.of("/proc/uptime")));
        } catch (IOException | RuntimeException e) {
            return ProcessHandle.current().info().startInstant().map(java.time.Instant::toEpochMilli).orElse(nowMillis);
        }
    }

    /** {@code nowMillis} less the age /proc's {@code stat} and {@code uptime} give (USER_HZ = 100 on Linux). */
    static long processStart(long nowMillis, String stat, String uptime) {
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" "); // the name may hold spaces
        long startTicks = Long.parseLong(fields[19]); // field 22; fields[0] is field 3
        long uptimeMillis = Math.round(Double.parseDouble(uptime.substring(0, uptime.indexOf(' '))) * 1000);
        return nowMillis - (uptimeMillis - startTicks * 10);
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
