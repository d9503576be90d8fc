package io.sourcemesh.l4.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The governor on real threads and the kernel's own account of them ({@code /proc/self/task/TID/sched}'s
 * {@code policy}): a thread it watches goes {@code SCHED_IDLE} after quiet periods; starved by ordinary threads
 * busy on every CPU it is made ordinary again when the process may do that, and stays idle-policy when it may not.
 */
class CompilerThreadsTest {

    @Test
    void aQuietThreadGoesIdlePolicyThenOrdinaryWhileStarvedThenIdlePolicyWhenQuietAgain() throws Exception {
        assumeTrue(CompilerThreads.mayReturn(Path.of("/proc/self")), "needs CAP_SYS_NICE or RLIMIT_NICE 20 (CI runs as root)");
        try (Victim v = new Victim()) {
            CompilerThreads g = CompilerThreads.create(() -> List.of(v.tid), new CompilerThreads.Rules(100_000_000, 0, true));
            assertNotNull(g, "sched_setscheduler through the FFM linker");
            g.look();
            assertEquals(CompilerThreads.SCHED_OTHER, policy(v.tid), "a new thread keeps its policy");
            assertTrue(lookUntil(g, v.tid, CompilerThreads.SCHED_IDLE, 5), "a quiet thread goes idle-policy");

            v.spinBesideHogs();
            assertTrue(lookUntil(g, v.tid, CompilerThreads.SCHED_OTHER, 5), "a starved thread is made ordinary");

            v.rest();
            assertTrue(lookUntil(g, v.tid, CompilerThreads.SCHED_IDLE, 5), "quiet again: idle-policy again");
        }
    }

    @Test
    void withoutLeaveToReturnAStarvedThreadStaysIdlePolicy() throws Exception {
        try (Victim v = new Victim()) {
            CompilerThreads g = CompilerThreads.create(() -> List.of(v.tid), new CompilerThreads.Rules(100_000_000, 0, false));
            assertNotNull(g);
            g.look();
            assertTrue(lookUntil(g, v.tid, CompilerThreads.SCHED_IDLE, 5), "a quiet thread goes idle-policy");
            v.spinBesideHogs();
            long[] before = schedstat(v.tid);
            // The kernel adds up a thread's wait when it next runs, and an idle-policy thread beside busy ones may not run
            // for a second: the governor looks until the wait shows (a fixed 0.8 s saw 192 ms once, on a loaded machine).
            long waited = 0;
            for (int i = 0; i < 50 && waited <= 200_000_000L; i++) {
                Thread.sleep(100);
                g.look();
                waited = schedstat(v.tid)[1] - before[1];
            }
            long starved = waited;
            assertTrue(starved > 200_000_000L, () -> "it was starved: waited " + starved / 1_000_000 + " ms in 5 s");
            assertEquals(CompilerThreads.SCHED_IDLE, policy(v.tid));
            assertEquals(CompilerThreads.SCHED_IDLE, g.policy(v.tid));
        }
    }

    @Test
    void thePolicyFollowsTheLastPeriods() {
        long warm = CompilerThreads.WARM_NANOS;
        CompilerThreads.Rules r = new CompilerThreads.Rules(1_000_000_000L, warm, true);
        CompilerThreads.Rules stay = new CompilerThreads.Rules(1_000_000_000L, warm, false);
        CompilerThreads.Watched w = new CompilerThreads.Watched();
        for (int i = 0; i < 5; i++) { // quiet, but not warmed up: a start-up's compilations, no traffic yet
            assertEquals(CompilerThreads.SCHED_OTHER, CompilerThreads.step(w, r, warm / 4, 0, 0));
        }
        assertEquals(CompilerThreads.SCHED_OTHER, CompilerThreads.step(w, r, warm, 5_000_000, 1_000_000)); // quiet 1
        assertEquals(CompilerThreads.SCHED_OTHER, CompilerThreads.step(w, r, warm, 900_000_000, 0)); // busy: quiet 0
        assertEquals(CompilerThreads.SCHED_OTHER, CompilerThreads.step(w, r, warm, 0, 0));
        assertEquals(CompilerThreads.SCHED_OTHER, CompilerThreads.step(w, r, warm, 0, 0));
        assertEquals(CompilerThreads.SCHED_IDLE, CompilerThreads.step(w, r, warm, 0, 0)); // the third quiet one in a row
        w.policy = CompilerThreads.SCHED_IDLE;
        assertEquals(CompilerThreads.SCHED_IDLE, CompilerThreads.step(w, r, warm, 900_000_000, 100_000_000)); // ran: fine
        assertEquals(CompilerThreads.SCHED_OTHER, CompilerThreads.step(w, r, warm, 10_000_000, 300_000_000)); // starved
        assertEquals(CompilerThreads.SCHED_IDLE, CompilerThreads.step(w, stay, warm, 10_000_000, 300_000_000)); // may not return
    }

    @Test
    void returningFromIdlePolicyNeedsCapSysNiceOrANiceLimitOf20(@TempDir Path proc) throws IOException {
        Files.writeString(proc.resolve("status"), "Name:\tjava\nCapEff:\t0000000000003000\n"); // NET_ADMIN, NET_RAW
        Files.writeString(proc.resolve("limits"), "Limit                     Soft Limit           Hard Limit           Units\n"
                + "Max nice priority         0                    0                    \n");
        assertFalse(CompilerThreads.mayReturn(proc));
        Files.writeString(proc.resolve("limits"), "Max nice priority         20                   20                   \n");
        assertTrue(CompilerThreads.mayReturn(proc));
        Files.writeString(proc.resolve("limits"), "Max nice priority         0                    0                    \n");
        Files.writeString(proc.resolve("status"), "CapEff:\t0000000000803000\n"); // + SYS_NICE (23)
        assertTrue(CompilerThreads.mayReturn(proc));
    }

    @Test
    void betweenListingsALookReadsOnlyTheWatchedThreadsSchedstatThroughAnOpenDescriptor() throws Exception {
        try (Victim v = new Victim()) {
            AtomicInteger listings = new AtomicInteger();
            CompilerThreads g = CompilerThreads.create(() -> {
                listings.incrementAndGet();
                return List.of(v.tid);
            }, new CompilerThreads.Rules(100_000_000, Long.MAX_VALUE, true)); // never warm: stays ordinary
            assertNotNull(g);
            g.look();
            long fds = openDescriptors();
            int looks = 2 * CompilerThreads.LISTING_PERIODS;
            for (int i = 1; i < looks; i++) {
                g.look();
            }
            assertEquals(2, listings.get(), "listed at the first look and after " + CompilerThreads.LISTING_PERIODS);
            assertEquals(looks, g.reads, "one read per look of the one thread");
            assertEquals(fds, openDescriptors(), "no file opened by a look");
            // The descriptor kept open reads the kernel's figures of now, not those of its opening.
            // The spin lasts until the thread has run 200 ms by a fresh read (a loaded machine may give it a CPU for
            // a quarter of the wall time); the kept descriptor must then show that time too.
            long before = g.ran(v.tid);
            long fresh = schedstat(v.tid)[0];
            v.spin.set(true);
            for (long end = System.nanoTime() + 10_000_000_000L; schedstat(v.tid)[0] - fresh < 200_000_000L
                    && System.nanoTime() < end; ) {
                Thread.sleep(20);
            }
            v.spin.set(false);
            g.look();
            assertTrue(g.ran(v.tid) - before >= 200_000_000L, () -> "ran " + (g.ran(v.tid) - before) / 1_000_000 + " ms");
        }
    }

    @Test
    void anIdlePolicyThreadThatMayNotReturnIsNotReadAgain() throws Exception {
        try (Victim v = new Victim()) {
            CompilerThreads g = CompilerThreads.create(() -> List.of(v.tid), new CompilerThreads.Rules(100_000_000, 0, false));
            assertNotNull(g);
            g.look();
            assertTrue(lookUntil(g, v.tid, CompilerThreads.SCHED_IDLE, 5), "a quiet thread goes idle-policy");
            int reads = g.reads;
            for (int i = 0; i < 5; i++) {
                g.look();
            }
            assertEquals(reads, g.reads, "nothing it does can change its policy");
            assertEquals(CompilerThreads.SCHED_IDLE, policy(v.tid));
        }
    }

    @Test
    void thisJvmsC2ThreadsAreFound() throws IOException {
        List<Integer> tids = new CompilerThreads.C2Threads().get();
        assertFalse(tids.isEmpty());
        for (int tid : tids) {
            String comm = Files.readString(Path.of("/proc/self/task", Integer.toString(tid), "comm"));
            assertTrue(comm.startsWith("C2 CompilerThre"), comm);
        }
    }

    /** A thread that sleeps, or spins beside ordinary spinners on every CPU. */
    private static final class Victim implements AutoCloseable {
        final AtomicBoolean spin = new AtomicBoolean();
        final AtomicBoolean stop = new AtomicBoolean();
        final AtomicBoolean hogging = new AtomicBoolean();
        final List<Thread> hogs = new ArrayList<>();
        final Thread thread;
        final int tid;

        Victim() throws Exception {
            CompletableFuture<Integer> id = new CompletableFuture<>();
            thread = Thread.ofPlatform().name("governed").daemon().start(() -> {
                id.complete(tid());
                while (!stop.get()) {
                    if (!spin.get()) {
                        sleep(50);
                    }
                }
            });
            tid = id.get(5, TimeUnit.SECONDS);
        }

        /** Spins, with ordinary spinners on every CPU: an idle-policy thread gets ~0.3% of one. */
        void spinBesideHogs() {
            hogging.set(true);
            for (int i = 0; i <= Runtime.getRuntime().availableProcessors(); i++) {
                hogs.add(Thread.ofPlatform().name("hog-" + i).daemon().start(() -> {
                    while (hogging.get()) {
                        Thread.onSpinWait();
                    }
                }));
            }
            spin.set(true);
        }

        void rest() throws InterruptedException {
            hogging.set(false);
            spin.set(false);
            for (Thread h : hogs) {
                h.join(5000);
            }
        }

        @Override
        public void close() throws InterruptedException {
            rest();
            stop.set(true);
            thread.join(5000);
        }
    }

    private static boolean lookUntil(CompilerThreads g, int tid, int policy, int seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            Thread.sleep(100);
            g.look();
            if (policy(tid) == policy && g.policy(tid) == policy) {
                return true;
            }
        }
        return false;
    }

    /** Run and runqueue-wait nanoseconds of {@code tid}, as the kernel has them now. */
    private static long[] schedstat(int tid) throws IOException {
        String[] f = Files.readString(Path.of("/proc/self/task", Integer.toString(tid), "schedstat")).strip().split(" ");
        return new long[] {Long.parseLong(f[0]), Long.parseLong(f[1])};
    }

    /**
     * This process's open descriptors on /proc files, the only kind a look opens (a task listing, a schedstat): not
     * every descriptor, which a socket or jar of another test's closing or opening in this JVM would change meanwhile.
     */
    private static long openDescriptors() throws IOException {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    return target.startsWith("/proc/") && !target.equals("/proc/" + ProcessHandle.current().pid() + "/fd");
                } catch (IOException closed) {
                    return false; // closed while listed
                }
            }).count();
        }
    }

    private static int tid() {
        try {
            return Integer.parseInt(Files.readSymbolicLink(Path.of("/proc/thread-self")).getFileName().toString());
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static int policy(int tid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/task", Integer.toString(tid), "sched"))) {
            if (line.startsWith("policy")) {
                return Integer.parseInt(line.substring(line.indexOf(':') + 1).strip());
            }
        }
        throw new AssertionError("no policy in the sched file of " + tid);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
