package io.sourcemesh.l4.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelConfig;
import io.netty.channel.MaxMessagesRecvByteBufAllocator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.util.UncheckedBooleanSupplier;

/**
 * Netty's adaptive read-size guess (as {@link io.netty.channel.AdaptiveRecvByteBufAllocator}: the same
 * size table, steps and stop rules) in one small handle per channel. Netty's handle is three objects
 * (the handle, its calculator and a supplier; 112 bytes), which every idle connection keeps; this one is
 * one object of 40 bytes. Bounds must be entries of the size table, so the guess is always one of them.
 */
public final class CompactRecvAllocator implements MaxMessagesRecvByteBufAllocator {
    /** 16, 32, ... 496, then 512, 1024, ... up to 2^30: Netty's table. */
    private static final int[] SIZES = sizes();

    private final byte minIndex;
    private final byte initialIndex;
    private final byte maxIndex;
    private volatile int maxMessagesPerRead;

    /** Netty's defaults: 64 to 65,536 bytes from 2,048, up to {@code maxMessagesPerRead} reads per read(). */
    public CompactRecvAllocator(int maxMessagesPerRead) {
        this(64, 2048, 65536, maxMessagesPerRead);
    }

    public CompactRecvAllocator(int minimum, int initial, int maximum, int maxMessagesPerRead) {
        if (!(minimum <= initial && initial <= maximum)) {
            throw new IllegalArgumentException("need minimum <= initial <= maximum: " + minimum + ", " + initial + ", " + maximum);
        }
        this.minIndex = tableIndex(minimum);
        this.initialIndex = tableIndex(initial);
        this.maxIndex = tableIndex(maximum);
        maxMessagesPerRead(maxMessagesPerRead);
    }

    private static int[] sizes() {
        int[] table = new int[31 + 22];
        int n = 0;
        for (int s = 16; s < 512; s += 16) {
            table[n++] = s;
        }
        for (int s = 512; s > 0; s <<= 1) {
            table[n++] = s;
        }
        return table;
    }

    private static byte tableIndex(int size) {
        int i = java.util.Arrays.binarySearch(SIZES, size);
        if (i < 0) {
            throw new IllegalArgumentException("not a size of the table: " + size);
        }
        return (byte) i;
    }

    @Override
    public int maxMessagesPerRead() {
        return maxMessagesPerRead;
    }

    @Override
    public MaxMessagesRecvByteBufAllocator maxMessagesPerRead(int maxMessagesPerRead) {
        if (maxMessagesPerRead <= 0) {
            throw new IllegalArgumentException("maxMessagesPerRead: " + maxMessagesPerRead);
        }
        this.maxMessagesPerRead = maxMessagesPerRead;
        return this;
    }

    @Override
    public RecvByteBufAllocator.Handle newHandle() {
        return new Handle(this);
    }

    /** One channel's guess and the counts of its current read loop. */
    private static final class Handle implements RecvByteBufAllocator.ExtendedHandle {
        private final CompactRecvAllocator allocator;
        private ChannelConfig config;
        private int totalMessages;
        private int totalBytesRead;
        private int attemptedBytesRead;
        private int lastBytesRead;
        private byte index;
        private boolean decreaseNow;

        Handle(CompactRecvAllocator allocator) {
            this.allocator = allocator;
            this.index = allocator.initialIndex;
        }

        @Override
        public ByteBuf allocate(ByteBufAllocator alloc) {
            return alloc.ioBuffer(guess());
        }

        @Override
        public int guess() {
            return SIZES[index];
        }

        @Override
        public void reset(ChannelConfig config) {
            this.config = config;
            totalMessages = 0;
            totalBytesRead = 0;
        }

        @Override
        public void incMessagesRead(int numMessages) {
            totalMessages += numMessages;
        }

        @Override
        public void lastBytesRead(int bytes) {
            // A read that filled what it asked for: check at once whether the next guess should grow.
            if (bytes == attemptedBytesRead) {
                record(bytes);
            }
            lastBytesRead = bytes;
            if (bytes > 0) {
                totalBytesRead += bytes;
            }
        }

        @Override
        public int lastBytesRead() {
            return lastBytesRead;
        }

        @Override
        public void attemptedBytesRead(int bytes) {
            attemptedBytesRead = bytes;
        }

        @Override
        public int attemptedBytesRead() {
            return attemptedBytesRead;
        }

        @Override
        public boolean continueReading() {
            return config.isAutoRead() && lastBytesRead > 0 && attemptedBytesRead == lastBytesRead && totalMessages < allocator.maxMessagesPerRead;
        }

        @Override
        public boolean continueReading(UncheckedBooleanSupplier maybeMoreData) {
            return config.isAutoRead() && maybeMoreData.get() && totalMessages < allocator.maxMessagesPerRead;
        }

        @Override
        public void readComplete() {
            record(totalBytesRead < 0 ? Integer.MAX_VALUE : totalBytesRead);
        }

        /** Netty's rule: down one step after two small reads in a row, up four after a read of the guess or more. */
        private void record(int bytes) {
            if (bytes <= SIZES[Math.max(0, index - 1)]) {
                if (decreaseNow) {
                    index = (byte) Math.max(index - 1, allocator.minIndex);
                    decreaseNow = false;
                } else {
                    decreaseNow = true;
                }
            } else if (bytes >= SIZES[index]) {
                index = (byte) Math.min(index + 4, allocator.maxIndex);
                decreaseNow = false;
            }
        }
    }
}
