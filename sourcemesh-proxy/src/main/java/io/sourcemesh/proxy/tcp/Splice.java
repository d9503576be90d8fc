package io.sourcemesh.proxy.tcp;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandler;
import io.netty.channel.ChannelOutboundHandler;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.AbstractEpollStreamChannel;
import io.netty.channel.epoll.EpollIoEvent;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.socket.ChannelInputShutdownEvent;
import io.netty.channel.unix.RawUnixChannelOption;
import io.sourcemesh.l4.ByteRelay;
import io.sourcemesh.l4.transport.Transport;
import io.sourcemesh.proxy.network.ByteTransparent;
import io.sourcemesh.proxy.stats.Stats;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ClosedChannelException;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongConsumer;
import java.util.logging.Logger;

/**
 * One direction of a tcp_proxy connection moved in the kernel with splice(2) (Netty's epoll
 * {@code spliceTo}) instead of through user space, once nothing but tcp_proxy's own bookkeeping
 * sits on the path: both sockets on epoll, no TLS, no filter still reading the bytes, no PROXY
 * header still to send. Until then, and whenever splice fails while both sides are open, the
 * {@link ByteRelay} carries the bytes as before.
 *
 * <p>What Netty's splice leaves to its caller, and how it is done here:
 * <ul>
 * <li>Counting: the source's {@link ReadCounter} sees every byte spliced in; the count is handed
 *     to the access log and stats after each read batch and when the source closes.</li>
 * <li>Backpressure: the source reads with auto-read on; Netty turns it off while the pipe to the
 *     target has not drained and back on once it has.</li>
 * <li>End of stream: Netty closes a splicing source as soon as it sees the peer's FIN, dropping
 *     what the socket still holds. So the source splices with half-closure allowed; after its FIN
 *     it is drained here, a pipe at a time as the target takes it, not by epoll readiness (Netty
 *     4.2.18 may have taken it out of epoll, see {@link #drainSoon}), and closed once the kernel's
 *     count of bytes received (TCP_INFO {@code tcpi_bytes_received}, the FIN counting one) exceeds
 *     the bytes taken from the socket by no more than that FIN. Then the relay's close handling
 *     runs as before: the other side is closed once what is queued to it is written.</li>
 * <li>Target closed: Netty would go on splicing into the closed target's pipe (its descriptor
 *     number may already be reused), so the source stops reading the moment the target closes.</li>
 * </ul>
 */
final class Splice {
    private static final Logger LOG = Logger.getLogger(Splice.class.getName());
    /** getsockopt(IPPROTO_TCP=6, TCP_INFO=11): struct tcp_info up to tcpi_bytes_received (Linux 4.1+). */
    private static final RawUnixChannelOption TCP_INFO = new RawUnixChannelOption("TCP_INFO", 6, 11, 136);
    private static final int BYTES_RECEIVED_OFFSET = 128;
    private static volatile boolean offEpollWarned;
    /**
     * Opt-in, {@code -Dsourcemesh.tcpProxy.splice=true}, read when a tcp_proxy config is built:
     * measured on the 2-core bench machine, splice moved bulk TCP at 0.69–0.83 of the user-space
     * relay (one 64 KB pipe per wake-up against up to 16 reads), with no lower CPU per byte
     * (BENCHMARKS.md, "Bulk TCP"; measured before the FIN fix, not since).
     */
    static boolean enabled() {
        return Boolean.getBoolean(Transport.SPLICE_PROPERTY);
    }

    private final Channel source;
    private final Channel target;
    private final ReadCounter counter;
    private final LongConsumer onRead;
    private final Runnable activity;
    private final SpliceStats stats;
    private boolean splicing;
    private boolean done; // started and ended, or failed: never again on this connection
    private long base;
    private long reported;
    private boolean inputShut;
    private boolean draining; // a drain step is scheduled or waits for the target's pipe
    private Splice other = this;

    /** What the tcp_proxy's stats count about splice. */
    record SpliceStats(Stats.Counter started, Stats.Counter bytes, Stats.Counter fallback) {}

    private Splice(Channel source, Channel target, ReadCounter counter, LongConsumer onRead, Runnable activity, SpliceStats stats) {
        this.source = source;
        this.target = target;
        this.counter = counter;
        this.onRead = onRead;
        this.activity = activity;
        this.stats = stats;
    }

    /** A read counter for a channel that may splice (epoll), installed before its first read; else empty. */
    static Optional<ReadCounter> counter(Channel ch) {
        if (!(ch instanceof AbstractEpollStreamChannel)) {
            // Transport picks epoll when splice is opted in; a transport made otherwise cannot splice.
            if (!offEpollWarned) {
                offEpollWarned = true;
                LOG.warning("tcp_proxy splice is on, but connections are " + ch.getClass().getSimpleName()
                        + ", not epoll: their bytes are relayed in user space");
            }
            return Optional.empty();
        }
        return ReadCounter.install(ch);
    }

    /**
     * The direction {@code source → target}, if it could ever be spliced: both on epoll, on one
     * event loop, and the source's reads countable. Adds the tap that watches the source.
     */
    static Optional<Splice> of(Channel source, Channel target, Optional<ReadCounter> counter, LongConsumer onRead,
            Runnable activity, SpliceStats stats) {
        if (counter.isEmpty() || !(source instanceof AbstractEpollStreamChannel)
                || !(target instanceof AbstractEpollStreamChannel) || source.eventLoop() != target.eventLoop()) {
            return Optional.empty();
        }
        Splice s = new Splice(source, target, counter.get(), onRead, activity, stats);
        source.pipeline().addLast("splice", s.new Tap());
        return Optional.of(s);
    }

    /** Ties the two directions of one connection: a change on either side (its upstream becoming active) re-checks both. */
    static void pair(Splice a, Splice b) {
        a.other = b;
        b.other = a;
    }

    /** Starts splicing if nothing in either pipeline needs to see the bytes any more. */
    void tryStart() {
        if (splicing || done || !source.isActive() || !target.isActive()
                || !transparent(source, ChannelInboundHandler.class) || !transparent(target, ChannelOutboundHandler.class)
                || bytesReceived(source) < 0) {
            return;
        }
        splicing = true;
        base = counter.bytes();
        reported = 0;
        source.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, true);
        target.closeFuture().addListener(f -> stopReading());
        source.closeFuture().addListener(f -> settle());
        ChannelFuture f = ((AbstractEpollStreamChannel) source).spliceTo((AbstractEpollStreamChannel) target, Integer.MAX_VALUE);
        f.addListener((ChannelFutureListener) this::ended);
        stats.started().inc();
        source.config().setAutoRead(true); // Netty turns it off and on to follow the target's pipe
    }

    /** Hands the bytes spliced since the last call to the access log and stats. */
    void settle() {
        if (!splicing) {
            return;
        }
        long n = counter.bytes() - base - reported;
        if (n > 0) {
            reported += n;
            onRead.accept(n);
            stats.bytes().add(n);
            activity.run();
        }
    }

    boolean splicing() {
        return splicing;
    }

    private void ended(ChannelFuture f) {
        if (f.isSuccess() || !splicing) {
            return;
        }
        settle();
        splicing = false;
        done = true;
        if (!source.isActive() || !target.isActive() || f.cause() instanceof ClosedChannelException) {
            return; // the connection is closing: the relay's close handling does the rest
        }
        if (inputShut) {
            source.close(); // past the source's FIN: nothing more to relay from it
            return;
        }
        // Splice failed with both sides open: the relay takes over from the next read, after what
        // splice queued to the target (written first, in order). A reset fails the next read too
        // and closes the connection as before; only a failure that leaves it open counts.
        LOG.fine(() -> "splice failed, relaying in user space: " + f.cause());
        source.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, false);
        source.config().setAutoRead(false);
        source.read();
        source.eventLoop().execute(() -> {
            if (source.isActive() && target.isActive()) {
                stats.fallback().inc();
            }
        });
    }

    /** The target closed: splice must not touch its pipe again; the relay closes the source after its writes. */
    private void stopReading() {
        if (source.isOpen() && splicing) {
            settle();
            source.config().setOption(ChannelOption.ALLOW_HALF_CLOSURE, false);
            ((AbstractEpollStreamChannel) source).shutdownInput();
        }
    }

    /**
     * After the source's FIN: closes it once every byte it received has been spliced out of its
     * socket. Runs after each batch (the drain steps make them).
     */
    private void closeIfDrained() {
        // tcpi_bytes_received counts the FIN as one byte (it is in sequence space).
        if (inputShut && source.isOpen() && bytesReceived(source) - counter.bytes() <= 1) {
            settle();
            source.close();
        }
    }

    /**
     * Whether no handler of {@code side} (inbound: what the source reads passes them; outbound:
     * what is written to the target does) would miss the bytes splice moves past it.
     */
    private static boolean transparent(Channel ch, Class<? extends ChannelHandler> side) {
        for (Map.Entry<String, ChannelHandler> e : ch.pipeline()) {
            ChannelHandler h = e.getValue();
            if (side.isInstance(h) && !(h instanceof ByteTransparent) && !(h instanceof ByteRelay)) {
                return false;
            }
        }
        return true;
    }

    /** The kernel's count of bytes this socket received in order, a FIN counting one (tcpi_bytes_received), or -1. */
    static long bytesReceived(Channel ch) {
        try {
            ByteBuffer info = ch.config().getOption(TCP_INFO);
            if (info == null || info.remaining() < BYTES_RECEIVED_OFFSET + 8) {
                return -1;
            }
            return info.order(ByteOrder.nativeOrder()).getLong(info.position() + BYTES_RECEIVED_OFFSET);
        } catch (RuntimeException e) {
            return -1;
        }
    }

    /**
     * After the source's FIN: splices what its socket still holds, one batch at a time, each once
     * the target has taken the previous one (an empty write completes after every splice queued
     * before it). Not driven by epoll: Netty 4.2.18 removes a socket from epoll when its interest
     * set becomes empty — after the FIN its read-hangup interest is gone, and splice's backpressure
     * turns reading off — but keeps the registration "added", so the next re-arm (splice turning
     * reading back on) fails with ENOENT and Netty closes the source with its tail unread. Nothing
     * more can arrive after a FIN, so the socket is readable until drained and needs no readiness.
     */
    private void drainSoon() {
        if (!draining && splicing && source.isOpen()) {
            draining = true;
            source.eventLoop().execute(this::drainStep);
        }
    }

    private void drainStep() {
        if (!splicing || !source.isOpen() || !target.isActive()) {
            draining = false;
            return;
        }
        ((EpollIoHandle) source.unsafe()).handle(null, READABLE); // Netty's own read path: spliceIn, then channelReadComplete
        if (!source.isOpen()) {
            draining = false;
            return;
        }
        target.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(f -> {
            draining = false;
            if (f.isSuccess()) {
                drainSoon();
            }
        });
    }

    /** The readiness epoll would report for a socket holding bytes or a FIN. */
    private static final EpollIoEvent READABLE = () -> EpollIoOps.EPOLLIN;

    /** Watches the source: counts after each read batch, notices its FIN, and starts splicing when it may. */
    private final class Tap extends ChannelDuplexHandler implements ByteTransparent {
        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.fireChannelActive();
            tryStart();
            other.tryStart();
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.fireChannelReadComplete();
            if (splicing) {
                settle();
                closeIfDrained();
            } else {
                tryStart();
            }
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof ChannelInputShutdownEvent && splicing) {
                inputShut = true;
                closeIfDrained();
                drainSoon();
                return;
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void read(ChannelHandlerContext ctx) {
            if (inputShut && splicing) {
                // Past the FIN the drain steps read; re-arming epoll here could fail (see drainSoon) and close the source.
                drainSoon();
                return;
            }
            ctx.read();
        }
    }
}
