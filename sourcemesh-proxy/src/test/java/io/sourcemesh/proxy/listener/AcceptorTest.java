package io.sourcemesh.proxy.listener;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.embedded.EmbeddedChannel;
import java.io.IOException;
import org.junit.jupiter.api.Test;

/**
 * The listening channel's {@link Acceptor} on an accept error: what Netty's bootstrap acceptor did, which it
 * replaces — accepting pauses for a second (a loop would otherwise spin on, e.g., no file descriptors left), and
 * the error goes on down the pipeline. Accepting itself is covered end to end by every test that serves a
 * connection ({@code TransportEndToEndTest}, {@code ProxyProtocolEndToEndTest}, ...).
 */
class AcceptorTest {
    @Test
    void anAcceptErrorPausesAcceptingForASecondAndIsPassedOn() {
        EmbeddedChannel server = new EmbeddedChannel(new Acceptor(null, null)); // an error needs neither
        server.freezeTime(); // the loop's clock moves only when the test moves it
        IOException failure = new IOException("accept: too many open files");

        server.pipeline().fireExceptionCaught(failure);
        assertFalse(server.config().isAutoRead());
        server.advanceTimeBy(999, MILLISECONDS);
        server.runScheduledPendingTasks();
        assertFalse(server.config().isAutoRead(), "still paused before the second is up");
        server.advanceTimeBy(1, MILLISECONDS);
        server.runScheduledPendingTasks();
        assertTrue(server.config().isAutoRead(), "accepting again after a second");
        assertSame(failure, assertThrows(IOException.class, server::checkException));
        server.finishAndReleaseAll();
    }
}
