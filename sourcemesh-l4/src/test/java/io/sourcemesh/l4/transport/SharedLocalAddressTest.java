package io.sourcemesh.l4.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.uring.IoUring;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Accepted connections on a real loopback listener, each native transport: one local-address object, at no allocation. */
class SharedLocalAddressTest {
    private static final int CALLS = 20_000;

    @Test
    void ioUringConnectionsShareOneLocalAddressAndSharingAllocatesNothing() throws Exception {
        assumeTrue(IoUring.isAvailable(), () -> "io_uring: " + IoUring.unavailabilityCause());
        check("io_uring");
    }

    @Test
    void epollConnectionsShareOneLocalAddressAndSharingAllocatesNothing() throws Exception {
        assumeTrue(Epoll.isAvailable());
        check("epoll");
    }

    private static void check(String kind) throws Exception {
        Transport t = Transport.create(kind, 1);
        LinkedBlockingQueue<Channel> accepted = new LinkedBlockingQueue<>();
        try {
            Channel server = new ServerBootstrap().group(t.group()).channel(t.serverChannelType())
                    .childHandler(new ChannelInitializer<>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            accepted.add(ch);
                        }
                    })
                    .bind(new InetSocketAddress("127.0.0.1", 0)).syncUninterruptibly().channel();
            int port = ((InetSocketAddress) server.localAddress()).getPort();
            try (Socket a = new Socket("127.0.0.1", port); Socket b = new Socket("127.0.0.1", port);
                    Socket c = new Socket("127.0.0.1", port)) {
                Channel first = accepted.poll(10, TimeUnit.SECONDS);
                Channel second = accepted.poll(10, TimeUnit.SECONDS);
                Channel unshared = accepted.poll(10, TimeUnit.SECONDS);
                SharedLocalAddress shared = new SharedLocalAddress();
                shared.share(first); // before anything asks a channel for its address (the channel caches it)
                shared.share(second);
                assertEquals(first.localAddress(), unshared.localAddress());
                assertNotSame(first.localAddress(), unshared.localAddress(), "Netty reads each accepted socket's own address");
                assertSame(first.localAddress(), second.localAddress(), kind + ": the second connection keeps the first's object");

                // Once per accepted connection: the same call again and again must not allocate (it built a
                // list of the field handle's coordinate types, and went through a handle chosen per call).
                for (int i = 0; i < CALLS; i++) {
                    shared.share(second);
                }
                com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
                long before = threads.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < CALLS; i++) {
                    shared.share(second);
                }
                long bytes = threads.getCurrentThreadAllocatedBytes() - before;
                assertTrue(bytes < CALLS / 10, kind + ": " + bytes + " bytes allocated over " + CALLS + " calls");
                assertSame(first.localAddress(), second.localAddress());
                for (Channel ch : new Channel[] {first, second, unshared}) {
                    ch.close().syncUninterruptibly();
                }
            } finally {
                server.close().syncUninterruptibly();
            }
        } finally {
            t.close();
        }
    }
}
