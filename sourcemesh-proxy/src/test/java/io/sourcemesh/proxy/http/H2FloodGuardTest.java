package io.sourcemesh.proxy.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import io.sourcemesh.proxy.config.Http2FloodLimits;
import io.sourcemesh.proxy.stats.Stats;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link H2FloodGuard}'s outbound counts on an {@link EmbeddedChannel} (Envoy's max_outbound_frames and
 * max_outbound_control_frames): frames count from their write until the socket takes them (the write's promise
 * completes, in order or not), one over a limit terminates the connection, and counting allocates nothing per write.
 */
class H2FloodGuardTest {
    private static final int DATA = 0x0;
    private static final int PING = 0x6;
    private final Stats stats = new Stats();
    private final H2Stats h2 = new H2Stats(stats, "http.test.");

    private H2FloodGuard guard(int maxFrames, int maxControlFrames) {
        return new H2FloodGuard(new Http2FloodLimits(maxFrames, maxControlFrames, 1, 100, 10), h2);
    }

    /** {@code n} frames of {@code type} (an 8-byte payload; flags ACK for a PING) in one buffer, as the codec writes them. */
    private static ByteBuf frames(int n, int type) {
        ByteBuf b = Unpooled.buffer();
        for (int i = 0; i < n; i++) {
            b.writeMedium(8).writeByte(type).writeByte(type == PING ? 0x1 : 0).writeInt(type == PING ? 0 : 1).writeLong(i);
        }
        return b;
    }

    private long counter(String name) {
        return stats.counters().getOrDefault(name, 0L);
    }

    @Test
    void framesCountUntilTheSocketTakesThemAndOneOverTheLimitTerminates() {
        H2FloodGuard guard = guard(10, 5);
        EmbeddedChannel ch = new EmbeddedChannel(guard);
        ch.write(frames(4, DATA));
        ch.write(frames(3, PING));
        assertEquals(7, guard.outboundFrames());
        assertEquals(3, guard.outboundControlFrames());
        ch.flush(); // the socket takes them
        assertEquals(0, guard.outboundFrames());
        assertEquals(0, guard.outboundControlFrames());
        ch.write(frames(10, DATA)); // at the limit, not over it: the ones taken no longer count
        assertTrue(ch.isActive());
        assertEquals(10, guard.outboundFrames());
        ChannelPromise over = ch.newPromise();
        ch.write(frames(1, DATA), over);
        assertFalse(ch.isActive(), "the 11th frame queued terminates the connection");
        assertFalse(over.isSuccess());
        assertEquals(1, counter("http2.outbound_flood"));
        assertEquals(0, counter("http2.outbound_control_flood"));
        assertEquals(0, guard.outboundFrames(), "the dropped writes leave the counts");
        ch.finishAndReleaseAll();
    }

    @Test
    void controlFramesHaveTheirOwnLimit() {
        H2FloodGuard guard = guard(100, 3);
        EmbeddedChannel ch = new EmbeddedChannel(guard);
        ch.write(frames(3, PING));
        ch.write(frames(20, DATA));
        assertTrue(ch.isActive());
        ch.flush();
        ch.write(frames(3, PING));
        assertTrue(ch.isActive(), "the acknowledgements taken no longer count");
        ch.write(frames(1, PING));
        assertFalse(ch.isActive());
        assertEquals(1, counter("http2.outbound_control_flood"));
        assertEquals(0, counter("http2.outbound_flood"));
        ch.finishAndReleaseAll();
    }

    /** Holds the writes that reach it; the test completes their promises in the order it likes. */
    private static final class Held extends ChannelOutboundHandlerAdapter {
        final List<ChannelPromise> promises = new ArrayList<>();

        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            ReferenceCountUtil.release(msg);
            promises.add(promise);
        }
    }

    @Test
    void writesTakenOutOfOrderEachGiveBackTheirOwnFrames() {
        H2FloodGuard guard = guard(1000, 1000);
        Held held = new Held();
        EmbeddedChannel ch = new EmbeddedChannel(held, guard);
        for (int i = 1; i <= 40; i++) { // past the ring's first size
            ch.write(frames(i, i % 2 == 0 ? PING : DATA));
        }
        assertEquals(40 * 41 / 2, guard.outboundFrames());
        assertEquals(2 * (20 * 21 / 2), guard.outboundControlFrames());
        long frames = guard.outboundFrames();
        long control = guard.outboundControlFrames();
        for (int k : new int[] {39, 1, 20, 0, 2, 38}) { // the newest, the second, one between, then the oldest...
            held.promises.get(k).setSuccess();
            frames -= k + 1;
            control -= (k + 1) % 2 == 0 ? k + 1 : 0;
            assertEquals(frames, guard.outboundFrames(), "after write " + k);
            assertEquals(control, guard.outboundControlFrames(), "after write " + k);
        }
        held.promises.get(3).setFailure(new java.nio.channels.ClosedChannelException()); // a dropped write gives back too
        frames -= 4;
        control -= 4;
        assertEquals(frames, guard.outboundFrames());
        for (int k = 0; k < 40; k++) {
            held.promises.get(k).trySuccess();
        }
        assertEquals(0, guard.outboundFrames());
        assertEquals(0, guard.outboundControlFrames());
        ch.write(frames(5, DATA)); // and the ring goes on after being emptied
        assertEquals(5, guard.outboundFrames());
        held.promises.getLast().setSuccess();
        assertEquals(0, guard.outboundFrames());
        ch.finishAndReleaseAll();
    }

    /** Takes every write at once, as a socket with room does. */
    private static final class Taken extends ChannelOutboundHandlerAdapter {
        @Override
        public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
            ReferenceCountUtil.release(msg);
            promise.setSuccess();
        }
    }

    /** A listener object per write, as before, is 24 bytes at least: the counting now makes none. */
    @Test
    void countingAWriteAllocatesNothing() {
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        H2FloodGuard guard = guard(10_000, 1_000);
        EmbeddedChannel ch = new EmbeddedChannel(new Taken(), guard);
        ByteBuf frame = Unpooled.wrappedBuffer(new byte[] {0, 0, 0, DATA, 0, 0, 0, 0, 1});
        int writes = 100_000;
        ChannelPromise[] promises = new ChannelPromise[2 * writes];
        for (int i = 0; i < promises.length; i++) {
            promises[i] = ch.newPromise();
        }
        for (int i = 0; i < writes; i++) { // warm up
            ch.write(frame.retain(), promises[i]);
        }
        long thread = Thread.currentThread().threadId();
        long before = threads.getThreadAllocatedBytes(thread);
        for (int i = writes; i < 2 * writes; i++) {
            ch.write(frame.retain(), promises[i]);
        }
        long allocated = threads.getThreadAllocatedBytes(thread) - before;
        assertEquals(0, guard.outboundFrames());
        assertTrue(promises[promises.length - 1].isSuccess());
        assertTrue(allocated < writes, allocated + " bytes allocated for " + writes + " writes");
        frame.release();
        ch.finishAndReleaseAll();
    }
}
