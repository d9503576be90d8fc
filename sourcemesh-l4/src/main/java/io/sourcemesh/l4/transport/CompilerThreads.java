package io.sourcemesh.l4.transport;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

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
    /**
     * Looks between two listings of the threads. HotSpot starts its C2 threads with the JVM (on larger machines it adds
     * and ends some as its queue grows and shrinks); a look in between reads only the watched threads' schedstat,
     * through descriptors kept open. Listing every thread and reading each one's files once a second, the governor
     * itself ran ~0.9 ms each second in a sidecar (and C1 compiled its code meanwhile): a stall of its own, every
     * second, that {@code perf sched} in the mesh found beside the slow requests.
     */
    static final int LISTING_PERIODS = 30;
    static final String PROPERTY = "sourcemesh.compilerThreads";
    static final String WARM_PROPERTY = "sourcemesh.compilerThreads.warmMillis";

    /**
     * A governed thread: the policy this governor gave it, its quiet periods in a row, its schedstat at the last look
     * (none yet: -1), and that file, open.
     */
    static final class Watched {
        int policy = SCHED_OTHER;
        int quiet;
        long run = -1;
        long wait;
        FileChannel schedstat;
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
    /** One schedstat's bytes ("RUN WAIT SLICES\n"). */
    private final ByteBuffer read = ByteBuffer.allocate(80);
    private final long[] stat = new long[2];
    private int looks;
    /** Threads listed, and schedstat files read, since this governor began (a test's measure of a look's cost). */
    int listings;
    int reads;

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
            CompilerThreads g = create(new C2Threads(), Rules.process());
            if (g != null) { // else not Linux's libc, or native access refused: the compiler threads stay ordinary
                g.run();
            }
        });
    }

    /**
     * A governor of the threads {@code threads} lists (at its first look and every {@link #LISTING_PERIODS} looks), or
     * null when sched_setscheduler cannot be called.
     */
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

    /**
     * One look: each watched thread's last period decides whether its policy changes. An idle-policy thread is not
     * read where it may not return: nothing it does can change its policy.
     */
    void look() {
        if (looks++ % LISTING_PERIODS == 0) {
            list();
        }
        for (Iterator<Map.Entry<Integer, Watched>> it = watched.entrySet().iterator(); it.hasNext();) {
            Map.Entry<Integer, Watched> e = it.next();
            Watched w = e.getValue();
            if (w.policy == SCHED_IDLE && !rules.mayReturn()) {
                continue;
            }
            if (!read(w.schedstat)) {
                close(w);
                it.remove(); // ended
                continue;
            }
            if (w.run >= 0) {
                int next = step(w, rules, stat[0], stat[0] - w.run, stat[1] - w.wait);
                if (next != w.policy && set(e.getKey(), next)) {
                    w.policy = next;
                    w.quiet = 0;
                }
            }
            w.run = stat[0];
            w.wait = stat[1];
        }
    }

    /** The threads to watch now: those gone are let go, new ones watched (their schedstat opened). */
    private void list() {
        listings++;
        List<Integer> now = threads.get();
        for (Iterator<Map.Entry<Integer, Watched>> it = watched.entrySet().iterator(); it.hasNext();) {
            Map.Entry<Integer, Watched> e = it.next();
            if (!now.contains(e.getKey())) {
                close(e.getValue());
                it.remove();
            }
        }
        for (int tid : now) {
            if (!watched.containsKey(tid)) {
                try {
                    Watched w = new Watched();
                    w.schedstat = FileChannel.open(schedstatPath(tid), StandardOpenOption.READ);
                    watched.put(tid, w);
                } catch (IOException | RuntimeException ended) {
                    // gone since the listing
                }
            }
        }
    }

    /** Reads a schedstat file from its start into {@link #stat} (run, wait ns); false when the thread is gone. */
    private boolean read(FileChannel schedstat) {
        reads++;
        try {
            read.clear();
            if (schedstat.read(read, 0) <= 0) {
                return false;
            }
        } catch (IOException e) {
            return false;
        }
        int at = 0;
        for (int field = 0; field < 2; field++) {
            long v = 0;
            int digits = 0;
            for (byte b; at < read.position() && (b = read.get(at)) >= '0' && b <= '9'; at++, digits++) {
                v = v * 10 + (b - '0');
            }
            if (digits == 0) {
                return false;
            }
            stat[field] = v;
            at++; // the space
        }
        return true;
    }

    private static void close(Watched w) {
        try {
            w.schedstat.close();
        } catch (IOException ignored) {
            // a /proc file: nothing was written
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

    /** {@code tid}'s CPU time at this governor's last read of it, or -1 when it watches no such thread. */
    long ran(int tid) {
        Watched w = watched.get(tid);
        return w == null ? -1 : w.run;
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

    private static Path schedstatPath(int tid) {
        return Path.of("/proc/self/task", Integer.toString(tid), "schedstat");
    }

    /**
     * HotSpot's C2 compiler threads ("C2 CompilerThread0", cut to 15 characters), listed from {@code /proc/self/task}:
     * a thread's name is read once, when it first appears in a listing.
     */
    static final class C2Threads implements Supplier<List<Integer>> {
        private Set<Integer> others = new HashSet<>();
        private Set<Integer> c2 = new HashSet<>();

        @Override
        public List<Integer> get() {
            Set<Integer> nowOthers = new HashSet<>();
            Set<Integer> nowC2 = new HashSet<>();
            try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
                for (Path t : tasks) {
                    int tid = Integer.parseInt(t.getFileName().toString());
                    if (c2.contains(tid)) {
                        nowC2.add(tid);
                        continue;
                    }
                    if (others.contains(tid)) {
                        nowOthers.add(tid);
                        continue;
                    }
                    String comm;
                    try {
                        comm = Files.readString(t.resolve("comm")).strip();
                    } catch (IOException gone) {
                        continue; // the thread ended
                    }
                    (comm.startsWith("C2 CompilerThre") ? nowC2 : nowOthers).add(tid);
                }
            } catch (IOException | RuntimeException e) {
                return List.of(); // no /proc
            }
            others = nowOthers;
            c2 = nowC2;
            return new ArrayList<>(nowC2);
        }
    }
}
