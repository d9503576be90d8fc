package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A proxy the launcher starts runs its C2 compiler threads under {@code SCHED_IDLE} once they have been quiet for a
 * few seconds ({@code l4.transport.CompilerThreads}; here without the warm-up's compile time it first asks for), as the kernel reports it ({@code /proc/PID/task/TID/sched}'s
 * policy), while its C1 thread and its event loop stay ordinary.
 */
class ProxyCompilerThreadsTest {
    static final int SCHED_IDLE = 5;

    @RegisterExtension
    static final LauncherCheckout build = LauncherCheckout.laidOutWithProxyClassPath();

    @Test
    void aProxysC2ThreadsGoIdlePolicyOnceQuietAndItsEventLoopDoesNot() throws Exception {
        // Idle-policy once quiet, without the CPU time a warm-up under traffic would give the compiler first.
        Map<String, Integer> seen = policiesOfAProxy("-Dsourcemesh.compilerThreads.warmMillis=0", 30,
                p -> !compilers(p).findAny().isEmpty() && compilers(p).allMatch(x -> x == SCHED_IDLE));
        assertFalse(compilers(seen).findAny().isEmpty(), () -> "the proxy's threads: " + seen);
        assertEquals(0, compilers(seen).filter(p -> p != SCHED_IDLE).count(), () -> "the proxy's threads' policies: " + seen);
        assertEquals(0, seen.entrySet().stream().filter(e -> !e.getKey().startsWith("C2 CompilerThre") && e.getValue() != 0).count(),
                () -> "every other thread ordinary: " + seen);
        assertTrue(seen.keySet().stream().anyMatch(k -> k.startsWith("sourcemesh-work")) && seen.keySet().stream().anyMatch(k -> k.startsWith("C1 CompilerThre")),
                () -> "the event loop and C1 among " + seen);
    }

    @Test
    void ordinaryTurnsItOff() throws Exception {
        // The same quiet proxy went idle-policy within ~4 s above; given 8 s, this one must not.
        Map<String, Integer> seen = policiesOfAProxy("-Dsourcemesh.compilerThreads=ordinary -Dsourcemesh.compilerThreads.warmMillis=0", 8,
                p -> compilers(p).anyMatch(x -> x != 0));
        assertFalse(compilers(seen).findAny().isEmpty(), () -> "the proxy's threads: " + seen);
        assertEquals(0, seen.values().stream().filter(p -> p != 0).count(), () -> "every thread ordinary: " + seen);
    }

    /** A proxy's threads' policies once {@code done} holds or after {@code seconds} of its serving. */
    private static Map<String, Integer> policiesOfAProxy(String javaOpts, int seconds, Predicate<Map<String, Integer>> done) throws Exception {
        return build.whileProxyServes(javaOpts, proxy -> {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            Map<String, Integer> policies;
            do {
                policies = policies(proxy.pid());
                if (done.test(policies)) {
                    break;
                }
                Thread.sleep(50);
            } while (System.nanoTime() < deadline);
            return policies;
        });
    }

    private static Stream<Integer> compilers(Map<String, Integer> policies) {
        return policies.entrySet().stream()
                .filter(e -> e.getKey().startsWith("C2 CompilerThre"))
                .map(Map.Entry::getValue);
    }

    /** "comm#tid" to the scheduling policy of every thread of {@code pid}. */
    private static Map<String, Integer> policies(long pid) throws IOException {
        Map<String, Integer> out = new TreeMap<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path t : tasks.toList()) {
                try {
                    String comm = Files.readString(t.resolve("comm")).strip();
                    for (String line : Files.readAllLines(t.resolve("sched"))) {
                        if (line.startsWith("policy")) {
                            out.put(comm + "#" + t.getFileName(), Integer.parseInt(line.substring(line.indexOf(':') + 1).strip()));
                        }
                    }
                } catch (IOException gone) {
                    // the thread ended
                }
            }
        }
        return out;
    }
}
