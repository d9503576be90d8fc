package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The daemon.log line that says where `up`'s time went: each phase once, in order, in non-decreasing milliseconds
 * since the JVM started, then the process's CPU time at each phase, non-decreasing too.
 */
class StartTimelineTest {
    @Test
    void phasesAreListedInOrderWithTheirTimeSinceTheJvmStarted() throws Exception {
        StartTimeline t = StartTimeline.sinceJvmStart();
        t.mark("the cluster");
        Thread.sleep(20);
        long spinUntil = cpuMillis() + 30; // CPU the line must count, however loaded the machine
        while (cpuMillis() < spinUntil) {
            Thread.onSpinWait();
        }
        t.mark("settled");
        String line = t.toString();
        Matcher m = Pattern.compile("(\\d+) ms after the JVM started \\(main (\\d+), the cluster (\\d+), settled (\\d+) ms\\); "
                + "(\\d+) ms of CPU \\(main (\\d+), the cluster (\\d+), settled (\\d+) ms\\)").matcher(line);
        assertTrue(m.matches(), line);
        long main = Long.parseLong(m.group(2));
        long cluster = Long.parseLong(m.group(3));
        long settled = Long.parseLong(m.group(4));
        long total = Long.parseLong(m.group(1));
        assertTrue(main > 0 && main <= cluster && cluster + 20 <= settled && settled <= total, line);
        long cpuMain = Long.parseLong(m.group(6));
        long cpuCluster = Long.parseLong(m.group(7));
        long cpuSettled = Long.parseLong(m.group(8));
        long cpuTotal = Long.parseLong(m.group(5));
        assertTrue(cpuMain > 0 && cpuMain <= cpuCluster && cpuCluster + 30 <= cpuSettled && cpuSettled <= cpuTotal, line);
    }

    /** The start from /proc's two files, to the tick; a process name with spaces and a parenthesis does not shift the fields. */
    @Test
    void processStartIsUptimeLessTheStartTicks() {
        String stat = "4242 (java (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 19 0 812345 123456789 2000 18446744073709551615";
        assertEquals(1_000_000L - (8_200_500L - 8_123_450L), StartTimeline.processStart(1_000_000L, stat, "8200.50 15000.10\n"));
    }

    /**
     * This JVM's start by /proc is before the JVM's own record of its creation (the launcher and libjvm come first)
     * and within a few seconds of it; ProcessHandle's start instant, from the boot time in whole seconds, is up to a
     * second earlier still, which this bound alone cannot tell apart — the test above pins the arithmetic.
     */
    @Test
    void processStartPrecedesTheJvmsOwnStartRecord() {
        long jvm = java.lang.management.ManagementFactory.getRuntimeMXBean().getStartTime();
        long start = StartTimeline.processStart(System.currentTimeMillis());
        assertTrue(start <= jvm + 20 && start > jvm - 5_000, "process start " + start + ", the JVM's record " + jvm);
    }

    private static long cpuMillis() {
        return ProcessHandle.current().info().totalCpuDuration().orElseThrow().toMillis();
    }
}
