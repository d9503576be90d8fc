package io.sourcemesh.l4.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.ChannelConfig;
import io.netty.channel.RecvByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The compact handle guesses exactly as Netty's adaptive one: the same read loops (random burst
 * sizes, short reads, EOFs, auto-read turned off mid-loop, both continueReading forms) give the same
 * sequence of guesses and the same stop decisions, from Netty's defaults and from a relay's bounds.
 */
class CompactRecvAllocatorTest {
    @Test
    void guessesAsNettysAdaptiveHandleOverRandomBursts() {
        for (int seed = 0; seed < 20; seed++) {
            assertSameGuesses(seed, new AdaptiveRecvByteBufAllocator().maxMessagesPerRead(16), new CompactRecvAllocator(16));
            assertSameGuesses(seed, new AdaptiveRecvByteBufAllocator(64, 2048, 256 << 10).maxMessagesPerRead(16),
                    new CompactRecvAllocator(64, 2048, 256 << 10, 16));
        }
    }

    @Test
    void boundsOutsideTheSizeTableAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new CompactRecvAllocator(100, 2048, 65536, 16));
        assertThrows(IllegalArgumentException.class, () -> new CompactRecvAllocator(64, 32, 65536, 16));
    }

    private static void assertSameGuesses(int seed, RecvByteBufAllocator netty, RecvByteBufAllocator compact) {
        List<String> expected = loops(new Random(seed), netty.newHandle());
        List<String> actual = loops(new Random(seed), compact.newHandle());
        assertEquals(expected.size(), actual.size(), "seed " + seed);
        for (int i = 0; i < expected.size(); i++) {
            assertEquals(expected.get(i), actual.get(i), "seed " + seed + ", step " + i);
        }
    }

    /** 2,000 read loops as a transport runs them; each step's guess and decision, in order. */
    private static List<String> loops(Random random, RecvByteBufAllocator.Handle handle) {
        RecvByteBufAllocator.ExtendedHandle h = (RecvByteBufAllocator.ExtendedHandle) handle;
        ChannelConfig config = new EmbeddedChannel().config();
        List<String> seen = new ArrayList<>();
        for (int burst = 0; burst < 2000; burst++) {
            int waiting = switch (random.nextInt(4)) {
                case 0 -> random.nextInt(100);
                case 1 -> random.nextInt(4096);
                case 2 -> random.nextInt(300_000);
                default -> random.nextInt(2_000_000);
            };
            boolean supplierForm = random.nextBoolean();
            config.setAutoRead(true);
            h.reset(config);
            boolean more;
            do {
                int guess = h.guess();
                h.attemptedBytesRead(guess);
                int read = waiting == 0 ? (random.nextInt(10) == 0 ? -1 : 0) : Math.min(waiting, guess);
                if (read > 0 && random.nextInt(8) == 0) {
                    read = 1 + random.nextInt(read); // a short read although more is waiting
                }
                h.lastBytesRead(read);
                if (read <= 0) {
                    seen.add(guess + "/" + read + "/stop");
                    break;
                }
                waiting -= read;
                h.incMessagesRead(1);
                if (random.nextInt(50) == 0) {
                    config.setAutoRead(false);
                }
                more = supplierForm ? h.continueReading(() -> waiting(random)) : h.continueReading();
                seen.add(guess + "/" + read + "/" + more + "/" + h.lastBytesRead() + "/" + h.attemptedBytesRead());
            } while (more);
            h.readComplete();
            seen.add("next " + h.guess());
        }
        return seen;
    }

    private static boolean waiting(Random random) {
        return random.nextInt(3) != 0;
    }
}
