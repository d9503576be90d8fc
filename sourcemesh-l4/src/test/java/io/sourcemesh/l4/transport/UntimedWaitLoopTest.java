package io.sourcemesh.l4.transport;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoop;
import io.netty.channel.uring.IoUring;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * An io_uring loop with nothing in its timer queue waits without a deadline, so without the TIMEOUT operation
 * Netty's own loop submits with every wait (counted from the ring's submission head in /proc); a timer
 * still sets one and still wakes it.
 */
class UntimedWaitLoopTest {
    private static final int EXCHANGES = 300;

    @Test
    void aLoopWithoutTimersWaitsWithoutADeadlineAndATimerSetsOne() throws Exception {
        assumeTrue(IoUring.isAvailable(), () -> "io_uring: " + IoUring.unavailabilityCause());
        try (Transport transport = Transport.create("io_uring", 1)) {
            EventLoop loop = transport.group().next();
            // Netty's loop answers now + 1 s here, and its io_uring handler submits that as a TIMEOUT with each wait.
            assertEquals(-1L, (long) loop.submit(() -> ((UntimedWaitLoop) loop).deadlineNanos()).get(10, TimeUnit.SECONDS));
            CompletableFuture<Long> fired = new CompletableFuture<>();
            long at = System.nanoTime();
            // With timers, the earliest one's deadline (on the loop's own clock): an hour's, then half an hour's.
            ScheduledFuture<?> hour = loop.schedule(() -> { }, 1, TimeUnit.HOURS);
            long hourDeadline = loop.submit(() -> ((UntimedWaitLoop) loop).deadlineNanos()).get(10, TimeUnit.SECONDS);
            assertNotEquals(-1L, hourDeadline);
            ScheduledFuture<?> halfHour = loop.schedule(() -> { }, 30, TimeUnit.MINUTES);
            long halfHourDeadline = loop.submit(() -> ((UntimedWaitLoop) loop).deadlineNanos()).get(10, TimeUnit.SECONDS);
            long earlier = hourDeadline - halfHourDeadline;
            assertTrue(earlier > TimeUnit.MINUTES.toNanos(29) && earlier < TimeUnit.MINUTES.toNanos(31), "moved earlier by " + earlier);
            hour.cancel(false);
            halfHour.cancel(false);
            assertEquals(-1L, (long) loop.submit(() -> ((UntimedWaitLoop) loop).deadlineNanos()).get(10, TimeUnit.SECONDS));
            // A timer still ends a wait that began without one.
            Thread.sleep(50);
            loop.schedule(() -> fired.complete(System.nanoTime()), 50, TimeUnit.MILLISECONDS);
            assertTrue(fired.get(10, TimeUnit.SECONDS) - at >= TimeUnit.MILLISECONDS.toNanos(50));
        }
    }

    /** A task a timer queues on its own loop runs at once, not when some I/O next wakes the loop. */
    @Test
    void aTaskATimerQueuesRunsWithoutIo() throws Exception {
        assumeTrue(IoUring.isAvailable(), () -> "io_uring: " + IoUring.unavailabilityCause());
        try (Transport transport = Transport.create("io_uring", 1)) {
            EventLoop loop = transport.group().next();
            for (int i = 0; i < 5; i++) {
                CompletableFuture<Long> ran = new CompletableFuture<>();
                long at = System.nanoTime();
                loop.schedule(() -> loop.execute(() -> ran.complete(System.nanoTime())), 20, TimeUnit.MILLISECONDS);
                long took = ran.get(10, TimeUnit.SECONDS) - at;
                assertTrue(took < TimeUnit.MILLISECONDS.toNanos(1_000), "ran after " + took / 1_000_000 + " ms");
            }
        }
    }

    /** A timer set from another thread, later than Netty's own one-second deadline, still wakes a loop waiting without one. */
    @Test
    void aLateTimerSetFromAnotherThreadFires() throws Exception {
        assumeTrue(IoUring.isAvailable(), () -> "io_uring: " + IoUring.unavailabilityCause());
        try (Transport transport = Transport.create("io_uring", 1)) {
            EventLoop loop = transport.group().next();
            loop.submit(() -> { }).get(10, TimeUnit.SECONDS);
            Thread.sleep(100); // the loop waits, without a deadline
            CompletableFuture<Long> fired = new CompletableFuture<>();
            long at = System.nanoTime();
            loop.schedule(() -> fired.complete(System.nanoTime()), 1500, TimeUnit.MILLISECONDS);
            long took = fired.get(10, TimeUnit.SECONDS) - at;
            assertTrue(took < TimeUnit.MILLISECONDS.toNanos(3_000), "fired after " + took / 1_000_000 + " ms");
        }
    }

    @Test
    void anEchoExchangeSubmitsItsRecvAndWriteOnly() throws Exception {
        assumeTrue(IoUring.isAvailable(), () -> "io_uring: " + IoUring.unavailabilityCause());
        Set<Path> before = RingSubmissions.rings();
        try (Transport transport = Transport.create("io_uring", 1)) {
            Channel server = new ServerBootstrap().group(transport.group()).channel(transport.serverChannelType())
                    .childHandler(new ChannelInboundHandlerAdapter() {
                        @Override
                        public void channelRead(ChannelHandlerContext ctx, Object msg) {
                            ctx.writeAndFlush(msg); // echo
                        }
                    })
                    .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
            Set<Path> loopRings = RingSubmissions.rings();
            loopRings.removeAll(before);
            assertFalse(loopRings.isEmpty(), "the loop has a ring");
            InetSocketAddress address = (InetSocketAddress) server.localAddress();
            try (Socket client = new Socket(address.getAddress(), address.getPort())) {
                client.setSoTimeout(10_000);
                for (int i = 0; i < 20; i++) {
                    exchange(client);
                }
                long sqes = RingSubmissions.submitted(loopRings);
                for (int i = 0; i < EXCHANGES; i++) {
                    exchange(client);
                }
                double perExchange = (double) (RingSubmissions.submitted(loopRings) - sqes) / EXCHANGES;
                // A POLLIN, a recv and a writev (the POLLIN is one-shot: Transport.POLL_ADD_MULTISHOT_PROPERTY; 2 with
                // Netty's multishot one, which stays armed), and no wait adds a TIMEOUT.
                assertTrue(perExchange < 3.05, "ring submissions per echoed exchange: " + perExchange);
            }
            server.close().sync();
        }
    }

    private static void exchange(Socket client) throws IOException {
        OutputStream out = client.getOutputStream();
        out.write(new byte[] {'p', 'i', 'n', 'g'});
        out.flush();
        InputStream in = client.getInputStream();
        assertEquals(4, in.readNBytes(4).length);
    }
}
