package io.sourcemesh.l4;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ByteRelayTest {
    /**
     * A client that sends and closes before the upstream connected (io_uring reads it on POLLRDHUP
     * before the relay asks): its bytes still reach the peer, then the peer is closed.
     */
    @Test
    void bytesReadBeforeThePeerCameAreSentEvenAfterThisSideClosed() {
        ByteRelay relay = ByteRelay.pending(n -> { }, () -> { });
        EmbeddedChannel down = new EmbeddedChannel(relay);
        down.writeInbound(Unpooled.copiedBuffer("hello", StandardCharsets.US_ASCII));
        down.close();
        EmbeddedChannel up = new EmbeddedChannel();
        relay.peer(null, up);
        ByteBuf sent = up.readOutbound();
        assertEquals("hello", sent.toString(StandardCharsets.US_ASCII));
        sent.release();
        up.runPendingTasks();
        assertFalse(up.isOpen(), "the peer is closed once the held bytes are written");
    }

    @Test
    void abandonReleasesWhatWasHeld() {
        ByteRelay relay = ByteRelay.pending(n -> { }, () -> { });
        EmbeddedChannel down = new EmbeddedChannel(relay);
        ByteBuf held = Unpooled.copiedBuffer("hello", StandardCharsets.US_ASCII);
        down.writeInbound(held);
        down.close();
        relay.abandon();
        assertEquals(0, held.refCnt());
        assertNull(down.readInbound());
    }
}
