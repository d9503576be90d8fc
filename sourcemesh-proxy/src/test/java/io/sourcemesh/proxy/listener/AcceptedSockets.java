package io.sourcemesh.proxy.listener;

import io.netty.channel.Channel;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.TimeUnit;

/** The socket a listener accepted for a test's own client (to read its options back). */
final class AcceptedSockets {
    private AcceptedSockets() {}

    /** {@code client}'s connection as {@code listener} holds it, once accepted (not one an earlier client closed). */
    static Channel of(ListenerRuntime listener, Socket client) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            for (Channel ch : listener.openConnections()) {
                if (((InetSocketAddress) ch.remoteAddress()).getPort() == client.getLocalPort()) {
                    return ch;
                }
            }
            Thread.sleep(5);
        }
        throw new AssertionError("listener " + listener.name() + " shows no connection from port " + client.getLocalPort());
    }
}
