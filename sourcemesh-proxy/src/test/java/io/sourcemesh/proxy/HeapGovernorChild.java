package io.sourcemesh.proxy;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

/** HeapGovernorTest's JVM: grows the heap with objects that outlive young collections, drops them, checks once. */
final class HeapGovernorChild {
    static volatile byte[] last;

    private HeapGovernorChild() {
    }

    public static void main(String[] args) {
        HeapGovernor governor = HeapGovernor.forSerialGc(0).orElseThrow(() -> new IllegalStateException("not SerialGC"));
        long start = committedMb();
        List<byte[]> kept = new ArrayList<>();
        for (int i = 0; i < 120 * 1024; i++) {
            kept.add(new byte[1024]);
        }
        long grown = committedMb();
        kept = null;
        long fullBefore = fullCollections();
        HeapGovernor.Decision d = governor.check();
        System.out.println("start_mb=" + start + " grown_mb=" + grown + " full_before=" + fullBefore + " decision=" + d
                + " full_after=" + fullCollections() + " after_mb=" + committedMb() + " kept_" + (kept == null));
        // Then 4 MB of short-lived garbage, less than the launcher's eden: the next reading counts it.
        long sink = 0;
        for (int i = 0; i < 4 * 1024; i++) {
            last = new byte[1000]; // escapes: not optimised away
            sink += last.length;
        }
        HeapGovernor.Reading r = governor.read();
        System.out.println("garbage_kb=" + (sink >> 10) + " young_since=" + r.youngCollections() + " allocated_kb=" + (r.allocated() >> 10));
    }

    private static long committedMb() {
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getCommitted() >> 20;
    }

    private static long fullCollections() {
        return ManagementFactory.getGarbageCollectorMXBeans().stream().filter(g -> g.getName().equals("MarkSweepCompact"))
                .mapToLong(GarbageCollectorMXBean::getCollectionCount).sum();
    }
}
