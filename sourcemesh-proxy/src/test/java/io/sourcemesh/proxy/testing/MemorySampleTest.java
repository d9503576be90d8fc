package io.sourcemesh.proxy.testing;

import static org.junit.jupiter.api.Assertions.*;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The soak tests' memory figures see what is retained and stop seeing it once it is let go. */
class MemorySampleTest {

    @Test
    void liveHeapCountsWhatIsStillReferencedAfterAFullCollection() {
        MemorySample before = MemorySample.take();
        List<byte[]> retained = new ArrayList<>();
        for (int i = 0; i < 4096; i++) {
            retained.add(new byte[1024]);
        }
        MemorySample holding = MemorySample.take();
        assertTrue(holding.liveKb() - before.liveKb() >= 4000, "4 MB retained: " + before + " -> " + holding);
        assertEquals(4096, retained.size());
        retained = null;
        MemorySample after = MemorySample.take();
        assertTrue(after.liveKb() - before.liveKb() < 1024, "4 MB let go: " + before + " -> " + after);
        assertTrue(after.committedKb() > 0 && after.rssKb() > after.liveKb(), after.toString());
    }

    @Test
    void nettyDirectMemoryCountsBuffersNotReleased() {
        MemorySample before = MemorySample.take();
        List<ByteBuf> held = new ArrayList<>();
        for (int i = 0; i < 64; i++) {
            held.add(ByteBufAllocator.DEFAULT.directBuffer(64 * 1024));
        }
        MemorySample holding = MemorySample.take();
        // The allocator counts whole chunks, and earlier tests in this JVM may have left free room in
        // some: what it holds must cover the 4 MB in use, not necessarily grow by all of it.
        assertTrue(holding.nettyDirectKb() >= 4096,
                "4 MB of buffers held: " + before + " -> " + holding);
        held.forEach(ByteBuf::release);
    }
}
