package io.sourcemesh.proxy;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

/** HeapGovernorTest's JVM: grows the heap with objects that outlive young collections, drops them, checks once. */
final class HeapGovernorChild {
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
    }

    private static long committedMb() {
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getCommitted() >> 20;
    }

    private static long fullCollections() {
        return ManagementFactory.getGarbageCollectorMXBeans().stream().filter(g -> g.getName().equals("MarkSweepCompact"))
                .mapToLong(GarbageCollectorMXBean::getCollectionCount).sum();
    }
}
