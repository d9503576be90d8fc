package io.sourcemesh.cli;

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

    private static long cpuMillis() {
        return ProcessHandle.current().info().totalCpuDuration().orElseThrow().toMillis();
    }
}
