package io.sourcemesh.cluster.netns;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadFactory;

/**
 * Threads of this JVM inside another network namespace, by {@code setns(2)} on the calling thread
 * (it moves only that thread). A socket belongs to the namespace it was created in for its whole
 * life, so a server bound from such a thread (kube-proxy's health-check port on a node) keeps
 * serving from any event loop, and a probe made from one (the load balancer's health check) leaves
 * from that namespace — without a helper process per namespace.
 */
public final class NetnsThreads {
    private static final int CLONE_NEWNET = 0x40000000;
    private static final int O_RDONLY_CLOEXEC = 0x80000;
    private static final MethodHandle OPEN;
    private static final MethodHandle SETNS;
    private static final MethodHandle CLOSE;
    private static final VarHandle ERRNO;

    static {
        Linker linker = Linker.nativeLinker();
        Linker.Option errno = Linker.Option.captureCallState("errno");
        OPEN = linker.downcallHandle(linker.defaultLookup().find("open").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT), errno);
        SETNS = linker.downcallHandle(linker.defaultLookup().find("setns").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT), errno);
        CLOSE = linker.downcallHandle(linker.defaultLookup().find("close").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        ERRNO = Linker.Option.captureStateLayout().varHandle(MemoryLayout.PathElement.groupElement("errno"));
    }

    private NetnsThreads() {
    }

    /** Runs {@code task} on a new platform thread inside {@code netns} (a name {@code ip netns} knows) and returns its result. */
    public static <T> T call(String netns, Callable<T> task) {
        CompletableFuture<T> result = new CompletableFuture<>();
        Thread t = Thread.ofPlatform().name("netns-" + netns).daemon().unstarted(() -> {
            try {
                enter(netns);
                result.complete(task.call());
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        });
        t.start();
        try {
            return result.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new NetnsException("interrupted while working in " + netns, e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new NetnsException("in " + netns + ": " + e.getCause().getMessage(), e.getCause());
        }
    }

    /** Daemon platform threads that enter {@code netns} before running anything. */
    public static ThreadFactory factory(String netns, String name) {
        return r -> Thread.ofPlatform().name(name).daemon().unstarted(() -> {
            enter(netns);
            r.run();
        });
    }

    /** Moves the calling (platform) thread into {@code netns}. */
    public static void enter(String netns) {
        if (Thread.currentThread().isVirtual()) {
            throw new IllegalStateException("a virtual thread cannot enter a network namespace (its carrier would)");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(Linker.Option.captureStateLayout());
            int fd = (int) OPEN.invokeExact(state, arena.allocateFrom("/var/run/netns/" + netns), O_RDONLY_CLOEXEC);
            if (fd < 0) {
                throw new NetnsException("cannot open network namespace " + netns + ": errno " + (int) ERRNO.get(state, 0L));
            }
            try {
                int r = (int) SETNS.invokeExact(state, fd, CLONE_NEWNET);
                if (r != 0) {
                    throw new NetnsException("cannot enter network namespace " + netns + ": errno " + (int) ERRNO.get(state, 0L));
                }
            } finally {
                int ignored = (int) CLOSE.invokeExact(fd);
            }
        } catch (NetnsException e) {
            throw e;
        } catch (Throwable e) {
            throw new NetnsException("cannot enter network namespace " + netns + ": " + e, e);
        }
    }
}
