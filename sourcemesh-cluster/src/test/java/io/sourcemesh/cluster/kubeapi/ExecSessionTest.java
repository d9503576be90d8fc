package io.sourcemesh.cluster.kubeapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The end of an exec session, on an embedded channel: the Status and our Close go out, then we wait
 * for the client's Close (RFC 6455 §7.1.1) at most {@link ExecSession#CLOSE_WAIT_SECONDS} — and when
 * the client's Close comes, no timer is left behind for that session.
 */
class ExecSessionTest {

    private static EmbeddedChannel finished() {
        ExecSession session = new ExecSession(null, "default", "p", null, List.of("true"), false, false, true, true);
        EmbeddedChannel ch = new EmbeddedChannel(session);
        session.finish(ch, ExecSession.success());
        WebSocketFrame status = ch.readOutbound();
        assertInstanceOf(BinaryWebSocketFrame.class, status);
        assertEquals(3, status.content().getByte(0), "the Status on channel 3");
        status.release();
        CloseWebSocketFrame close = ch.readOutbound();
        assertEquals(1000, close.statusCode());
        close.release();
        return ch;
    }

    @Test
    void theClientsCloseLeavesNoTimerBehind() {
        EmbeddedChannel ch = finished();
        assertTrue(ch.runScheduledPendingTasks() > 0, "waiting for the client's Close");
        ch.writeInbound(new CloseWebSocketFrame(1000, ""));
        assertFalse(ch.isOpen(), "the client's Close ends the session");
        assertEquals(-1, ch.runScheduledPendingTasks(), "no close timer left for a session that already closed");
    }

    @Test
    void aClientThatNeverAnswersIsClosedAfterTheWait() {
        EmbeddedChannel ch = finished();
        ch.advanceTimeBy(ExecSession.CLOSE_WAIT_SECONDS - 1, TimeUnit.SECONDS);
        ch.runScheduledPendingTasks();
        assertTrue(ch.isOpen(), "still waiting");
        ch.advanceTimeBy(1, TimeUnit.SECONDS);
        ch.runScheduledPendingTasks();
        assertFalse(ch.isOpen(), "closed after " + ExecSession.CLOSE_WAIT_SECONDS + " s without the client's Close");
    }
}
