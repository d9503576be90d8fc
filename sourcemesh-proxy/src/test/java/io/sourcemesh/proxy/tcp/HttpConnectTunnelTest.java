package io.sourcemesh.proxy.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.Future;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The CONNECT response as the network splits it: a head in many reads, a head over Envoy's 60 KB limit. */
class HttpConnectTunnelTest {
    private final List<ByteBuf> relayed = new ArrayList<>();
    private final EmbeddedChannel upstream = new EmbeddedChannel();
    private Future<Void> established;

    private void open() {
        upstream.pipeline().addLast("relay", new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                relayed.add((ByteBuf) msg);
            }
        });
        established = HttpConnectTunnel.open(upstream, upstream.pipeline().context("relay"), "example.com:443");
        ByteBuf request = upstream.readOutbound();
        assertEquals("CONNECT example.com:443 HTTP/1.1\r\nhost: example.com:443\r\n\r\n", request.toString(StandardCharsets.US_ASCII));
        request.release();
    }

    private void receive(String bytes) {
        upstream.writeInbound(Unpooled.copiedBuffer(bytes, StandardCharsets.US_ASCII));
    }

    @Test
    void aHeadSentOneByteAtATimeOpensTheTunnelAtItsBlankLine() {
        open();
        String response = "HTTP/1.1 200 Connection established\r\nx-a: 1\r\n\r\nfirst";
        for (int i = 0; i < response.length() - "first".length(); i++) {
            assertFalse(established.isDone(), "not before the blank line's last byte, at byte " + i);
            receive(response.substring(i, i + 1));
        }
        assertTrue(established.isSuccess());
        receive("first");
        assertEquals("first", text(relayed));
        assertNull(upstream.pipeline().get(HttpConnectTunnel.class), "the handler removed itself");
    }

    @Test
    void theBytesAfterTheHeadInTheSameReadAreTheTunnels() {
        open();
        receive("HTTP/1.1 20");
        receive("0 OK\r\n\r");
        receive("\nwelcome");
        assertTrue(established.isSuccess());
        assertEquals("welcome", text(relayed));
    }

    @Test
    void aHeadOverSixtyKilobytesIsRefusedAndTheUpstreamClosed() {
        open();
        receive("HTTP/1.1 200 OK\r\n");
        String filler = "x-filler: " + "a".repeat(1000) + "\r\n";
        for (int i = 0; i < 61 && !established.isDone(); i++) {
            receive(filler);
        }
        assertFalse(established.isSuccess());
        assertInstanceOf(HttpConnectTunnel.Refused.class, established.cause());
        assertEquals("the CONNECT response's head is over 61440 bytes", established.cause().getMessage());
        assertFalse(upstream.isOpen());
        assertTrue(relayed.isEmpty());
    }

    @Test
    void aCompleteHeadOverTheLimitInOneReadIsRefusedToo() {
        open();
        receive("HTTP/1.1 200 OK\r\nx-filler: " + "a".repeat(HttpConnectTunnel.MAX_HEAD) + "\r\n\r\n");
        assertEquals("the CONNECT response's head is over 61440 bytes", established.cause().getMessage());
        assertFalse(upstream.isOpen());
    }

    @Test
    void aHeadJustUnderTheLimitOpensTheTunnel() {
        open();
        String line = "HTTP/1.1 200 OK\r\n";
        String pad = "x-filler: " + "a".repeat(HttpConnectTunnel.MAX_HEAD - line.length() - 16) + "\r\n";
        receive(line + pad.substring(0, 30000));
        receive(pad.substring(30000) + "\r\n");
        assertTrue(established.isSuccess(), String.valueOf(established.cause()));
    }

    private static String text(List<ByteBuf> buffers) {
        StringBuilder s = new StringBuilder();
        for (ByteBuf b : buffers) {
            s.append(b.toString(StandardCharsets.US_ASCII));
            b.release();
        }
        buffers.clear();
        return s.toString();
    }
}
