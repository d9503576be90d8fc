package io.sourcemesh.l4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.sourcemesh.l4.transport.CompactRecvAllocator;
import org.junit.jupiter.api.Test;

/**
 * {@link ByteRelay#tune}: a relayed connection reads up to 256 KB at a time whether it came with Netty's
 * default read sizes or a listener's compact ones; an allocator someone chose on purpose stays.
 */
class ByteRelayTuneTest {
    /** The largest guess the channel's read sizes reach when every read fills what it asked for. */
    private static int largestGuess(EmbeddedChannel ch) {
        RecvByteBufAllocator.Handle h = ch.config().getRecvByteBufAllocator().newHandle();
        int guess = 0;
        for (int i = 0; i < 100; i++) {
            h.reset(ch.config());
            guess = h.guess();
            h.attemptedBytesRead(guess);
            h.lastBytesRead(guess);
            h.readComplete();
        }
        return guess;
    }

    @Test
    void aListenersCompactReadSizesGrowToTheRelaysLimit() {
        EmbeddedChannel ch = new EmbeddedChannel();
        ch.config().setRecvByteBufAllocator(new CompactRecvAllocator(16));
        assertEquals(65536, largestGuess(ch), "the listener's own limit");
        ByteRelay.tune(ch);
        assertEquals(256 * 1024, largestGuess(ch));
        ch.finishAndReleaseAll();
    }

    @Test
    void nettysDefaultGrowsToTheRelaysLimitAndAChosenAllocatorStays() {
        EmbeddedChannel ch = new EmbeddedChannel();
        ByteRelay.tune(ch);
        assertEquals(256 * 1024, largestGuess(ch));
        ch.finishAndReleaseAll();

        EmbeddedChannel fixed = new EmbeddedChannel();
        FixedRecvByteBufAllocator chosen = new FixedRecvByteBufAllocator(4096);
        fixed.config().setRecvByteBufAllocator(chosen);
        ByteRelay.tune(fixed);
        assertSame(chosen, fixed.config().getRecvByteBufAllocator());
        fixed.finishAndReleaseAll();
    }
}
