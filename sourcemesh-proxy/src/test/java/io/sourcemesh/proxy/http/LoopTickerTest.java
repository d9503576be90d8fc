package io.sourcemesh.proxy.http;

import static io.sourcemesh.proxy.testing.Configs.*;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.channel.EventLoop;
import io.netty.channel.uring.IoUring;
import io.sourcemesh.l4.transport.RingSubmissions;
import io.sourcemesh.l4.transport.Transport;
import io.sourcemesh.proxy.Proxy;
import io.sourcemesh.proxy.testing.Http1Response;
import io.sourcemesh.proxy.testing.Origin;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * io_uring loops keep their connections' checks out of their own timer queue: a proxied keep-alive request
 * submits its six I/O operations (a one-shot POLLIN, a recv and a writev each way) and no TIMEOUT (Netty
 * adds one to every wait of a loop whose timer queue holds a task), counted from the ring's submission tail
 * in /proc; and the checks still fire, in order, never early, and a cancelled one never.
 */
class LoopTickerTest {
    private static final int REQUESTS = 400;

    @Test
    void aKeepAliveRequestSubmitsItsIoAndNoTimeout() throws Exception {
        assumeTrue(IoUring.isAvailable(), () -> "io_uring: " + IoUring.unavailabilityCause());
        Set<Path> before = RingSubmissions.rings();
        try (Origin origin = Origin.start();
                Proxy proxy = Proxy.start(proxy(List.of(listener("http", "127.0.0.1", List.of(), chain(hcm(routeAll("origin"), false, List.of())))),
                        List.of(staticCluster("origin", origin.address()))), 1)) {
            assertEquals(Transport.Kind.IO_URING, proxy.transport().kind());
            Set<Path> proxyRings = RingSubmissions.rings();
            proxyRings.removeAll(before);
            assertFalse(proxyRings.isEmpty(), "the proxy's loop has a ring");
            InetSocketAddress listener = proxy.listenerAddress("http");
            try (Socket client = new Socket(listener.getAddress(), listener.getPort())) {
                client.setSoTimeout(10_000);
                for (int i = 0; i < 50; i++) {
                    assertEquals(200, get(client));
                }
                long sqes = RingSubmissions.submitted(proxyRings);
                for (int i = 0; i < REQUESTS; i++) {
                    assertEquals(200, get(client));
                }
                double perRequest = (double) (RingSubmissions.submitted(proxyRings) - sqes) / REQUESTS;
                // Per request: a POLLIN, a recv and a writev each way (6.0: the POLLIN is one-shot,
                // Transport.POLL_ADD_MULTISHOT_PROPERTY; 4.0 with Netty's multishot one, which stays armed). A TIMEOUT
                // on each of the loop's two waits would make it 8.
                assertTrue(perRequest < 6.5, "ring submissions per proxied request: " + perRequest);

                EventLoop loop = proxy.transport().group().next(); // the one worker's
                boolean[] clock = loop.submit(() -> {
                    LoopClock c = LoopClock.of(loop);
                    return new boolean[] {c.size() > 0, c.inLoopTimerQueue()};
                }).get(10, TimeUnit.SECONDS);
                assertTrue(clock[0], "the open connection's checks are on the loop's clock");
                assertFalse(clock[1], "and the clock is not in the loop's timer queue");
            }
        }
    }

    @Test
    void checksFireInOrderNeverEarlyAndCancelledOnesNever() throws Exception {
        assumeTrue(IoUring.isAvailable(), () -> "io_uring: " + IoUring.unavailabilityCause());
        try (Transport transport = Transport.create("io_uring", 1)) {
            EventLoop loop = transport.group().next();
            List<long[]> fired = new CopyOnWriteArrayList<>(); // {id, due, fired at}
            List<LoopClock.Entry> entries = new ArrayList<>();
            loop.submit(() -> {
                LoopClock clock = LoopClock.of(loop);
                assertTrue(LoopClock.wokenFromOutside(loop));
                long base = System.nanoTime();
                for (int i = 0; i < 40; i++) {
                    int id = i;
                    LoopClock.Entry e = new LoopClock.Entry() {
                        @Override
                        void fire() {
                            assertTrue(loop.inEventLoop(), "fired on its loop");
                            fired.add(new long[] {id, due, System.nanoTime()});
                        }
                    };
                    // Later ones first: each new entry moves the clock's wake-up earlier.
                    clock.schedule(e, base + TimeUnit.MILLISECONDS.toNanos(400 - i * 8L));
                    entries.add(e);
                }
                for (int i = 1; i < 40; i += 5) {
                    clock.cancel(entries.get(i));
                }
                assertFalse(clock.inLoopTimerQueue(), "the ticker wakes it, not the loop's timer queue");
            }).get(10, TimeUnit.SECONDS);
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (fired.size() < 32 && System.nanoTime() < until) {
                Thread.sleep(20);
            }
            Thread.sleep(100); // a cancelled entry that fired would show by now
            assertEquals(32, fired.size(), "every entry not cancelled fired, once");
            for (int i = 0; i < fired.size(); i++) {
                long[] f = fired.get(i);
                assertNotEquals(1, f[0] % 5, "cancelled entry " + f[0] + " fired");
                assertTrue(f[2] - f[1] >= 0, "entry " + f[0] + " fired before it was due");
                if (i > 0) {
                    assertTrue(f[1] - fired.get(i - 1)[1] >= 0, "fired out of order at " + i);
                }
            }
            assertEquals(0, (int) loop.submit(() -> LoopClock.of(loop).size()).get(10, TimeUnit.SECONDS));
        }
    }

    /** One GET on a kept-alive socket; the status. */
    private static int get(Socket s) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write("GET /echo HTTP/1.1\r\nhost: example\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        return Http1Response.status(s.getInputStream());
    }
}
