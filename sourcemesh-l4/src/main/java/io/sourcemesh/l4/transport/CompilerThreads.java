package io.sourcemesh.l4.transport;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * Runs the JIT's C2 compiler threads under Linux's {@code SCHED_IDLE} policy once the warm-up is over, so that a
 * late compilation never keeps a woken thread waiting.
 *
 * <p>Why: a C2 compilation runs for milliseconds at a time, and a thread woken on the CPU it occupies — an event
 * loop, or the app or client beside a sidecar on a small node — waited until the compiler's slice ran out at a
 * scheduler tick, the other CPU sometimes idle meanwhile. {@code perf sched} in {@code sourcemesh-bench/mesh.sh}
 * showed the load generator queued 3.4 ms behind "C2 CompilerThre": the mesh's millisecond stalls that two
 * HAProxy hops do not have (BENCHMARKS.md, the mesh section). A {@code SCHED_IDLE} thread is preempted by any
 * ordinary thread's wake-up, and its CPU counts as free when the kernel places one (a shorter slice,
 * {@code sched_runtime}, was tried: it does neither).
 *
 * <p>But under full load an idle-policy thread gets ~0.3% of a CPU, and the code it would compile runs in C1's
 * slower tier meanwhile. So: a C2 thread stays ordinary until it has compiled for {@link #WARM_NANOS} in all (a
 * proxy's start-up takes a quarter of that; its first traffic brings the rest) and then been quiet for
 * {@link #QUIET_PERIODS} periods in a row (ran and waited less than {@link #DONE} of each); starved as an
 * idle-policy thread (waiting for a CPU more than {@link #STARVED} of a period), it is made ordinary again, and
 * waits for the next quiet spell. Linux lets a thread leave {@code SCHED_IDLE} only with CAP_SYS_NICE or an
 * RLIMIT_NICE of 20 ({@link #mayReturn}); without either (a sidecar as uid 1337) the last step cannot happen, and a
 * compilation that comes under full load after the warm-up waits for spare CPU. C1's compilations are short (no
 * millisecond stall was one of them) and keep the ordinary policy.
 */
public final class CompilerThreads {
    static final int SCHED_OTHER = 0;
    static final int SCHED_IDLE = 5;
    static final long PERIOD_MILLIS = 1000;
    /** Waiting for a CPU more than this share of a period: starved. */
    static final double STARVED = 0.2;
    /** Running and waiting less than this share of a period: a quiet period. */
    static final double DONE = 0.01;
    /** Quiet periods in a row before a compiler thread goes idle-policy. */
    static final int QUIET_PERIODS = 3;
    /** CPU time a compiler thread must have had before it may go idle-policy: the warm-up has happened. */
    static final long WARM_NANOS = 1_000_000_000L;
    static final String PROPERTY = "sourcemesh.compilerThreads";
    static final String WARM_PROPERTY = "sourcemesh.compilerThreads.warmMillis";

    /** A governed thread: the policy this governor gave it, its quiet periods in a row, its schedstat at the last look. */
    static final class Watched {
        int policy = SCHED_OTHER;
        int quiet;
        long run;
        long wait;
    }

    /**
     * How a governor decides: its period, the CPU time a thread must have had before it may go idle-policy, and
     * whether this process may make an idle-policy thread ordinary again.
     */
    record Rules(long periodNanos, long warmNanos, boolean mayReturn) {
        /** A proxy process's: {@code -Dsourcemesh.compilerThreads.warmMillis} overrides {@link #WARM_NANOS}. */
        static Rules process() {
            long warm = Long.getLong(WARM_PROPERTY, WARM_NANOS / 1_000_000) * 1_000_000;
            return new Rules(PERIOD_MILLIS * 1_000_000, warm, CompilerThreads.mayReturn(Path.of("/proc/self")));
        }
    }

    private final Supplier<List<Integer>> threads;
    private final Rules rules;
    private final MethodHandle setScheduler;
    private final Map<Integer, Watched> watched = new HashMap<>();

    private CompilerThreads(Supplier<List<Integer>> threads, Rules rules, MethodHandle setScheduler) {
        this.threads = threads;
        this.rules = rules;
        this.setScheduler = setScheduler;
    }

    /**
     * For a proxy process's entry point: governs this JVM's C2 threads from a daemon thread, once a period, unless
     * {@code -Dsourcemesh.compilerThreads=ordinary}.
     */
    public static void processDefault() {
        if ("ordinary".equals(System.getProperty(PROPERTY))) {
            return;
        }
        Thread.ofPlatform().name("sourcemesh-compiler-policy").daemon().start(() -> {
            CompilerThreads g = create(CompilerThreads::compilerThreads, Rules.process());
            if (g != null) { // else not Linux's libc, or native access refused: the compiler threads stay ordinary
                g.run();
            }
        });
    }

    /** A governor of the threads {@code threads} lists (at each look), or null when sched_setscheduler cannot be called. */
    static CompilerThreads create(Supplier<List<Integer>> threads, Rules rules) {
        try {
            Linker linker = Linker.nativeLinker();
            MethodHandle h = linker.downcallHandle(linker.defaultLookup().find("sched_setscheduler").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
            return new CompilerThreads(threads, rules, h);
        } catch (RuntimeException | LinkageError e) {
            return null;
        }
    }

    /** Looks once a period until interrupted. */
    void run() {
        while (!Thread.currentThread().isInterrupted()) {
            look();
            try {
                Thread.sleep(rules.periodNanos() / 1_000_000);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** One look: each thread's last period decides whether its policy changes. */
    void look() {
        List<Integer> now = threads.get();
        watched.keySet().retainAll(now);
        for (int tid : now) {
            long[] stat = schedstat(tid);
            if (stat == null) {
                continue; // ended
            }
            Watched w = watched.get(tid);
            if (w == null) {
                w = new Watched();
                watched.put(tid, w);
            } else {
                int next = step(w, rules, stat[0], stat[0] - w.run, stat[1] - w.wait);
                if (next != w.policy && set(tid, next)) {
                    w.policy = next;
                    w.quiet = 0;
                }
            }
            w.run = stat[0];
            w.wait = stat[1];
        }
    }

    /**
     * The policy {@code w} should have after a period in which it ran {@code ran} ns (of {@code total} since it
     * began) and waited {@code waited} ns for a CPU; counts its quiet periods.
     */
    static int step(Watched w, Rules rules, long total, long ran, long waited) {
        if (w.policy == SCHED_OTHER) {
            w.quiet = total >= rules.warmNanos() && ran + waited < DONE * rules.periodNanos() ? w.quiet + 1 : 0;
            return w.quiet >= QUIET_PERIODS ? SCHED_IDLE : SCHED_OTHER;
        }
        return rules.mayReturn() && waited > STARVED * rules.periodNanos() ? SCHED_OTHER : SCHED_IDLE;
    }

    /** The policy this governor last gave {@code tid}, or -1 when it watches no such thread. */
    int policy(int tid) {
        Watched w = watched.get(tid);
        return w == null ? -1 : w.policy;
    }

    private boolean set(int tid, int policy) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment param = arena.allocate(JAVA_INT); // sched_priority: 0 for both policies
            return (int) setScheduler.invokeExact(tid, policy, param) == 0;
        } catch (Throwable t) {
            return false;
        }
    }

    /**
     * Whether the process at {@code proc} may move a thread from {@code SCHED_IDLE} back to {@code SCHED_OTHER}:
     * CAP_SYS_NICE in its effective set, or a soft RLIMIT_NICE of 20 (nice 0 is 20 in that limit's scale).
     */
    static boolean mayReturn(Path proc) {
        try {
            if (Capabilities.read(proc.resolve("status")).has(Capabilities.CAP_SYS_NICE)) {
                return true;
            }
            for (String line : Files.readAllLines(proc.resolve("limits"))) {
                if (line.startsWith("Max nice priority")) {
                    String soft = line.substring("Max nice priority".length()).strip().split("\\s+")[0];
                    return soft.equals("unlimited") || Long.parseLong(soft) >= 20;
                }
            }
        } catch (IOException | RuntimeException e) {
            return false;
        }
        return false;
    }

    /** Run and runqueue-wait nanoseconds of {@code tid} ({@code /proc/self/task/TID/schedstat}), or null. */
    static long[] schedstat(int tid) {
        try {
            String[] f = Files.readString(Path.of("/proc/self/task", Integer.toString(tid), "schedstat")).strip().split(" ");
            return new long[] {Long.parseLong(f[0]), Long.parseLong(f[1])};
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** HotSpot's C2 compiler threads ("C2 CompilerThread0", cut to 15 characters). */
    static List<Integer> compilerThreads() {
        List<Integer> tids = new ArrayList<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            for (Path t : (Iterable<Path>) tasks::iterator) {
                String comm;
                try {
                    comm = Files.readString(t.resolve("comm")).strip();
                } catch (IOException gone) {
                    continue; // the thread ended
                }
                if (comm.startsWith("C2 CompilerThre")) {
                    tids.add(Integer.parseInt(t.getFileName().toString()));
                }
            }
        } catch (IOException e) {
            return List.of(); // no /proc
        }
        return tids;
    }
}
