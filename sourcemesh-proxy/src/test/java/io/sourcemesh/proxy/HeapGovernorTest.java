package io.sourcemesh.proxy;

import static io.sourcemesh.proxy.HeapGovernor.Decision.*;
import static org.junit.jupiter.api.Assertions.*;

import io.sourcemesh.proxy.HeapGovernor.Reading;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class HeapGovernorTest {
    private static final long MB = 1 << 20;
    private static final long MINUTE = 60_000;

    @Test
    void collectsWhenTheHeapGrewByHalfBusyOrNot() {
        assertEquals(GROWN, HeapGovernor.decide(new Reading(30 * MB, 20 * MB, 25, 0, MINUTE), MINUTE));
        assertEquals(NONE, HeapGovernor.decide(new Reading(29 * MB, 20 * MB, 25, 0, MINUTE), MINUTE));
        // A small heap still has 8 MB of room before a busy proxy is paused for it.
        assertEquals(NONE, HeapGovernor.decide(new Reading(20 * MB - 1, 12 * MB, 25, 0, 10 * MINUTE), MINUTE));
        assertEquals(GROWN, HeapGovernor.decide(new Reading(20 * MB, 12 * MB, 25, 0, 10 * MINUTE), MINUTE));
    }

    @Test
    void collectsASmallerGrowthOnlyWhenNoYoungCollectionRanSinceTheLastCheck() {
        assertEquals(IDLE, HeapGovernor.decide(new Reading(25 * MB, 20 * MB, 0, 0, MINUTE), MINUTE));
        assertEquals(NONE, HeapGovernor.decide(new Reading(25 * MB, 20 * MB, 1, 0, MINUTE), MINUTE));
        assertEquals(NONE, HeapGovernor.decide(new Reading(24 * MB, 20 * MB, 0, 0, MINUTE), MINUTE)); // under a quarter
        assertEquals(NONE, HeapGovernor.decide(new Reading(11 * MB, 8 * MB, 0, 0, MINUTE), MINUTE)); // under 4 MB
        assertEquals(IDLE, HeapGovernor.decide(new Reading(12 * MB, 8 * MB, 0, 0, MINUTE), MINUTE));
    }

    /**
     * A proxy at a low rate fills a 32 MB young generation only every ~12 s, so a check can see no
     * young collection while it is serving: what it allocated since the last check tells it apart
     * from an idle one, and it is not paused for a full collection.
     */
    @Test
    void aProxyThatAllocatesIsNotIdleWithoutAYoungCollection() {
        assertEquals(IDLE, HeapGovernor.decide(new Reading(25 * MB, 20 * MB, 0, HeapGovernor.IDLE_ALLOCATION_BYTES - 1, MINUTE), MINUTE));
        assertEquals(NONE, HeapGovernor.decide(new Reading(25 * MB, 20 * MB, 0, HeapGovernor.IDLE_ALLOCATION_BYTES, MINUTE), MINUTE));
        assertEquals(NONE, HeapGovernor.decide(new Reading(25 * MB, 20 * MB, 0, 22 * MB, MINUTE), MINUTE)); // 1,000 req/s for 10 s
        // Growth by half is collected busy or not.
        assertEquals(GROWN, HeapGovernor.decide(new Reading(30 * MB, 20 * MB, 0, 22 * MB, MINUTE), MINUTE));
    }

    @Test
    void neverSoonerThanTheIntervalAfterTheLastFullCollection() {
        assertEquals(NONE, HeapGovernor.decide(new Reading(400 * MB, 20 * MB, 0, 0, MINUTE - 1), MINUTE));
        assertEquals(NONE, HeapGovernor.decide(new Reading(400 * MB, 20 * MB, 9, 0, MINUTE - 1), MINUTE));
    }

    /**
     * The launcher's proxy heap flags, in a JVM of their own: a heap grown to over 100 MB by objects
     * that outlived young collections (SerialGC expands the old generation for them rather than
     * collecting it) is collected by one check and given back at once — with ShrinkHeapInSteps (the
     * JVM's default) the first full collection would return none of it.
     */
    @Test
    void oneCheckReturnsTheHeapUnderTheLaunchersFlags() throws Exception {
        List<String> flags = launcherProxyHeapFlags();
        assertTrue(flags.contains("-XX:+UseSerialGC"), "the launcher runs proxies with SerialGC: " + flags);
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(flags);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), HeapGovernorChild.class.getName()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out;
        try {
            out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the child JVM ended");
        } finally {
            p.destroyForcibly();
        }
        assertEquals(0, p.exitValue(), out);
        Map<String, Long> f = figures(out);
        assertTrue(f.get("grown_mb") >= 100, "the heap grew first: " + out);
        assertEquals(0, f.get("full_before"), "SerialGC grew the heap without a full collection: " + out);
        assertTrue(out.contains("decision=GROWN"), out);
        assertEquals(1, f.get("full_after"), "the check ran one full collection: " + out);
        assertTrue(f.get("after_mb") <= 48, "and the heap was given back (to -Xms40m and the live set): " + out);
        // The next reading saw the 4 MB of garbage the child made after: a busy proxy is not idle.
        assertEquals(0, f.get("young_since"), "no young collection in 4 MB of a 32 MB young generation: " + out);
        assertTrue(f.get("allocated_kb") >= 4_000 && f.get("allocated_kb") < 6_000, "what was allocated: " + out);
    }

    private static Map<String, Long> figures(String out) {
        Matcher m = Pattern.compile("(\\w+)=(\\d+)").matcher(out);
        Map<String, Long> f = new java.util.HashMap<>();
        while (m.find()) {
            f.put(m.group(1), Long.parseLong(m.group(2)));
        }
        return f;
    }

    /** The -X heap and collector flags of the launcher script's proxy branch ({@code sourcemesh proxy}). */
    static List<String> launcherProxyHeapFlags() throws IOException {
        String script = Files.readString(Path.of("..", "sourcemesh"));
        int from = script.indexOf("if [ \"${1:-}\" = \"proxy\" ]; then");
        int to = script.indexOf("\nelif ", from);
        assertTrue(from >= 0 && to > from, "the launcher's proxy branch");
        return script.substring(from, to).lines().map(String::strip).filter(l -> l.startsWith("jvm+=("))
                .flatMap(l -> Pattern.compile("\\s+").splitAsStream(l.substring(6, l.lastIndexOf(')'))))
                .filter(t -> t.startsWith("-XX:") && !t.contains("Shared") || t.startsWith("-Xm"))
                .collect(Collectors.toList());
    }
}
