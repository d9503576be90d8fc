package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The daemon.log line that says where `up`'s time went: each phase once, in order, in non-decreasing milliseconds since the JVM started. */
class StartTimelineTest {
    @Test
    void phasesAreListedInOrderWithTheirTimeSinceTheJvmStarted() throws Exception {
        StartTimeline t = StartTimeline.sinceJvmStart();
        t.mark("the cluster");
        Thread.sleep(20);
        t.mark("settled");
        String line = t.toString();
        Matcher m = Pattern.compile("(\\d+) ms after the JVM started \\(main (\\d+), the cluster (\\d+), settled (\\d+) ms\\)").matcher(line);
        assertTrue(m.matches(), line);
        long main = Long.parseLong(m.group(2));
        long cluster = Long.parseLong(m.group(3));
        long settled = Long.parseLong(m.group(4));
        long total = Long.parseLong(m.group(1));
        assertTrue(main > 0 && main <= cluster && cluster + 20 <= settled && settled <= total, line);
    }
}
