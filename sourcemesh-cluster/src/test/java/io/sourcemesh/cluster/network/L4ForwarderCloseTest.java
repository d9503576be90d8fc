package io.sourcemesh.cluster.network;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import io.sourcemesh.l4.SourceBinding;
import io.sourcemesh.l4.UpstreamConnector;
import io.sourcemesh.l4.transport.Transport;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A side the forwarder closes because the other side closed reaches its peer at once (well within 1 s), on io_uring
 * as on epoll, with the waiting peer sending nothing more: the client when the origin answered and closed, the origin
 * when the client closed, also with the other direction's bytes still in flight (a peer that has not read them yet).
 */
class L4ForwarderCloseTest {
    private static final int BOUND_MILLIS = 1_000;

    @ParameterizedTest
    @CsvSource({
        "io_uring,originCloses", "io_uring,clientCloses", "io_uring,originClosesMidStream", "io_uring,clientClosesMidStream",
        "epoll,originCloses", "epoll,clientCloses", "epoll,originClosesMidStream", "epoll,clientClosesMidStream"})
    void aCloseOfOneSideReachesTheOtherAtOnce(String kind, String how) throws Exception {
        assumeTrue(!kind.equals("io_uring") || IoUring.isAvailable(), () -> "io_uring unavailable: " + IoUring.unavailabilityCause());
        assumeTrue(!kind.equals("epoll") || Epoll.isAvailable(), () -> "epoll unavailable: " + Epoll.unavailabilityCause());
        try (Transport t = Transport.create(kind, 1);
                ServerSocket origin = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            UpstreamConnector connector = new UpstreamConnector(t);
            InetSocketAddress to = (InetSocketAddress) origin.getLocalSocketAddress();
            try (L4Forwarder forwarder = L4Forwarder.start(t, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                            client -> Optional.of(new L4Forwarder.Decision(to, SourceBinding.NONE, connector)));
                    Socket client = new Socket()) {
                client.connect(forwarder.address());
                client.getOutputStream().write("hello".getBytes(StandardCharsets.US_ASCII));
                try (Socket up = origin.accept()) {
                    assertArrayEquals("hello".getBytes(StandardCharsets.US_ASCII), up.getInputStream().readNBytes(5));
                    boolean midStream = how.endsWith("MidStream");
                    if (how.startsWith("origin")) {
                        // the origin's last bytes, then its close; midStream: more than the client reads at once
                        up.getOutputStream().write(midStream ? new byte[4 << 20] : "bye".getBytes(StandardCharsets.US_ASCII));
                        up.close();
                        if (midStream) {
                            Thread.sleep(200); // the forwarder's write to the client stays in flight meanwhile
                        }
                        assertClosedSoon(client, kind + " " + how + ": the client");
                    } else {
                        if (midStream) {
                            // more than the origin reads at once, then the client's close while that is in flight
                            client.getOutputStream().write(new byte[4 << 20]);
                        }
                        client.close();
                        if (midStream) {
                            Thread.sleep(200);
                        }
                        assertClosedSoon(up, kind + " " + how + ": the origin");
                    }
                }
            } finally {
                connector.closeAll();
            }
        }
    }

    /** Reads {@code s} to its end (FIN or RST); fails if no byte and no end came for the bound. */
    private static void assertClosedSoon(Socket s, String who) throws IOException {
        s.setSoTimeout(BOUND_MILLIS);
        InputStream in = s.getInputStream();
        byte[] buf = new byte[64 << 10];
        long start = System.nanoTime();
        try {
            while (in.read(buf) >= 0) {
                start = System.nanoTime(); // what was sent before the close
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError(who + " still open " + (System.nanoTime() - start) / 1_000_000 + " ms after its last byte", e);
        } catch (IOException e) {
            // RST: closed
        }
    }
}
