package io.sourcemesh.proxy.tcp;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.util.Optional;

/**
 * The system calls {@link Splice} makes itself, through the FFM API: pipe2, fcntl(F_SETPIPE_SZ),
 * splice and close. Netty's own {@code Native.splice} reports EAGAIN as 0, the same as an end of
 * stream, so it cannot drive a loop that must tell the two apart. Each call returns its result, or
 * minus errno on failure.
 */
final class SpliceCalls {
    static final int EAGAIN = 11;
    private static final int O_NONBLOCK = 0x800;
    private static final int O_CLOEXEC = 0x80000;
    private static final int F_SETPIPE_SZ = 1031;
    private static final int SPLICE_F_MOVE = 1;
    private static final int SPLICE_F_NONBLOCK = 2;
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle PIPE2;
    private static final MethodHandle FCNTL;
    private static final MethodHandle SPLICE;
    private static final MethodHandle CLOSE;
    private static final String UNAVAILABLE;

    static {
        MethodHandle pipe2 = null, fcntl = null, splice = null, close = null;
        String why = null;
        try {
            Linker linker = Linker.nativeLinker();
            var libc = linker.defaultLookup();
            Linker.Option errno = Linker.Option.captureCallState("errno");
            pipe2 = linker.downcallHandle(libc.find("pipe2").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), errno);
            fcntl = linker.downcallHandle(libc.find("fcntl").orElseThrow(),
                    FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), errno, Linker.Option.firstVariadicArg(2));
            splice = linker.downcallHandle(libc.find("splice").orElseThrow(),
                    FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), errno);
            close = linker.downcallHandle(libc.find("close").orElseThrow(), FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        } catch (RuntimeException | LinkageError e) {
            why = String.valueOf(e); // not Linux's libc, or native access refused: the relay carries the bytes
        }
        PIPE2 = pipe2;
        FCNTL = fcntl;
        SPLICE = splice;
        CLOSE = close;
        UNAVAILABLE = why;
    }

    /** Why these calls cannot be made here, if they cannot. */
    static Optional<String> unavailable() {
        return Optional.ofNullable(UNAVAILABLE);
    }

    private final MemorySegment state;
    private final MemorySegment fds;

    /** One per pump: the errno slot and pipe2's two descriptors are this instance's own. */
    SpliceCalls() {
        Arena arena = Arena.ofAuto();
        this.state = arena.allocate(CAPTURE);
        this.fds = arena.allocate(JAVA_INT, 2);
    }

    /**
     * A non-blocking pipe of at most {@code size} bytes: read end in the low 32 bits, write end in
     * the high ones; or minus errno. A size the user's pipe quota refuses leaves the default (64 KB).
     */
    long pipe(int size) {
        try {
            int r = (int) PIPE2.invokeExact(state, fds, O_NONBLOCK | O_CLOEXEC);
            if (r < 0) {
                return -errno();
            }
            int read = fds.getAtIndex(JAVA_INT, 0);
            int write = fds.getAtIndex(JAVA_INT, 1);
            int ignored = (int) FCNTL.invokeExact(state, write, F_SETPIPE_SZ, size);
            return (read & 0xffffffffL) | ((long) write << 32);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** The pipe's capacity (F_GETPIPE_SZ), or minus errno. */
    int pipeSize(int fd) {
        try {
            int r = (int) FCNTL.invokeExact(state, fd, F_SETPIPE_SZ + 1, 0);
            return r < 0 ? -errno() : r;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** splice(2) of up to {@code len} bytes, moving pages and never blocking: bytes moved, 0 at end of stream, or minus errno. */
    long splice(int in, int out, long len) {
        try {
            long r = (long) SPLICE.invokeExact(state, in, MemorySegment.NULL, out, MemorySegment.NULL, len,
                    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
            return r < 0 ? -errno() : r;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    static void close(int fd) {
        try {
            int ignored = (int) CLOSE.invokeExact(fd);
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    private int errno() {
        return (int) ERRNO.get(state, 0L);
    }
}
