package io.sourcemesh.proxy.tcp;

import io.netty.channel.Channel;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.util.UncheckedBooleanSupplier;
import java.util.Optional;

/**
 * Counts every byte a channel takes from its socket, read into a buffer or spliced into a pipe:
 * Netty reports both to the channel's receive-allocator handle, and splice reports nothing else
 * (no buffer reaches the pipeline). Installed per channel before its first read — the handle is
 * made once and kept, so a channel that already read cannot be counted this way.
 */
final class ReadCounter implements RecvByteBufAllocator {
    private final RecvByteBufAllocator delegate;
    private boolean handleMade;
    private long bytes;

    private ReadCounter(RecvByteBufAllocator delegate) {
        this.delegate = delegate;
    }

    /** A counter of everything {@code ch} reads from now on; empty when the channel already read (its handle is made). */
    static Optional<ReadCounter> install(Channel ch) {
        RecvByteBufAllocator previous = ch.config().getRecvByteBufAllocator();
        ReadCounter counter = new ReadCounter(previous);
        ch.config().setRecvByteBufAllocator(counter);
        counter.handleMade = false; // the epoll config makes a handle to check its type
        ch.unsafe().recvBufAllocHandle(); // makes the channel's handle now, from this allocator, unless it exists
        if (!counter.handleMade) {
            ch.config().setRecvByteBufAllocator(previous);
            return Optional.empty();
        }
        return Optional.of(counter);
    }

    /** Bytes read from the socket since the channel was created. */
    long bytes() {
        return bytes;
    }

    @Override
    public Handle newHandle() {
        Handle h = delegate.newHandle();
        if (!(h instanceof ExtendedHandle extended)) {
            return h; // the epoll transport needs an ExtendedHandle; without one nothing is counted
        }
        handleMade = true;
        return new Counting(extended);
    }

    private final class Counting extends DelegatingHandle implements ExtendedHandle {
        private final ExtendedHandle extended;

        Counting(ExtendedHandle delegate) {
            super(delegate);
            this.extended = delegate;
        }

        @Override
        public void lastBytesRead(int n) {
            if (n > 0) {
                bytes += n;
            }
            super.lastBytesRead(n);
        }

        @Override
        public boolean continueReading(UncheckedBooleanSupplier maybeMoreDataSupplier) {
            return extended.continueReading(maybeMoreDataSupplier);
        }
    }
}
