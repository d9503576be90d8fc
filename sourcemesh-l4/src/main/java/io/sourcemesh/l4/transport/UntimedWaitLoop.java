package io.sourcemesh.l4.transport;

import io.netty.channel.IoEventLoop;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SingleThreadIoEventLoop;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadFactory;

/**
 * An io_uring event loop that waits without a deadline while its timer queue is empty. Netty's loop
 * always has one (a second ahead, to purge cancelled timers, of which an empty queue has none), and the
 * io_uring handler turns a deadline into a TIMEOUT operation submitted with every wait: with one
 * keep-alive connection, two per proxied request (the loop waits for the client, then for the origin),
 * each a kernel timer armed and cancelled. A loop with a timer still waits for it as before.
 */
final class UntimedWaitLoop extends SingleThreadIoEventLoop {
    private UntimedWaitLoop(IoEventLoopGroup parent, Executor executor, IoHandlerFactory factory) {
        super(parent, executor, factory);
    }

    /** A group of {@code workers} such loops. */
    static MultiThreadIoEventLoopGroup group(int workers, ThreadFactory threads, IoHandlerFactory factory) {
        return new MultiThreadIoEventLoopGroup(workers, threads, factory) {
            @Override
            protected IoEventLoop newChild(Executor executor, IoHandlerFactory ioHandlerFactory, Object... args) {
                return new UntimedWaitLoop(this, executor, ioHandlerFactory);
            }
        };
    }

    /** The next timer's deadline; -1 (wait until woken) when there is none. */
    @Override
    protected long deadlineNanos() {
        return nextScheduledTaskDeadlineNanos();
    }
}
