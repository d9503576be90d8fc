package io.sourcemesh.cluster.network;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.sourcemesh.l4.transport.Transport;
import io.sourcemesh.l4.SourceBinding;
import io.sourcemesh.l4.UpstreamConnector;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The embedded istio-iptables: a redirected connection's original destination is on record exactly while someone may look it up. */
class EmbeddedInterceptionTest {
    private final Transport transport = Transport.create(1);
    private final Conntrack conntrack = new Conntrack();
    private final InetAddress pod = AddressPlan.ip("127.77." + ThreadLocalRandom.current().nextInt(1, 250) + "."
            + ThreadLocalRandom.current().nextInt(2, 250));
    private final UpstreamConnector connector = new UpstreamConnector(transport, new EmbeddedInterception(conntrack, ip -> true, null),
            Optional.empty());

    @AfterEach
    void close() {
        transport.close();
    }

    private ChannelFuture connect(int port) {
        return connector.connect(transport.group().next(), new InetSocketAddress(pod, port), SourceBinding.NONE, Duration.ofSeconds(2),
                new ChannelInboundHandlerAdapter()).awaitUninterruptibly();
    }

    @Test
    void aConnectionToAnInjectedPodGoesTo15006WithItsOriginalDestinationOnRecord() throws Exception {
        try (ServerSocket sidecar = new ServerSocket(15006, 50, pod)) {
            ChannelFuture f = connect(8000);
            assertTrue(f.isSuccess(), String.valueOf(f.cause()));
            try (Socket accepted = sidecar.accept()) {
                assertEquals(1, conntrack.size());
                assertEquals(new InetSocketAddress(pod, 15006), f.channel().remoteAddress());
            }
            f.channel().close().syncUninterruptibly();
        }
    }

    @Test
    void aRedirectedConnectionThatFailsLeavesNothingOnRecord() {
        // Nothing listens on the pod's 15006: refused, as a pod whose sidecar is gone.
        for (int i = 0; i < 3; i++) {
            ChannelFuture f = connect(8000 + i);
            assertFalse(f.isSuccess());
        }
        assertEquals(0, conntrack.size(), "a failed connect is forgotten, not leaked");
    }
}
