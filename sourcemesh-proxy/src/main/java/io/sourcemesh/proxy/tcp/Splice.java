package io.sourcemesh.proxy.tcp;

import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandler;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelOutboundHandler;
import io.netty.channel.ChannelPromise;
import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoEvent;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.unix.FileDescriptor;
import io.netty.util.concurrent.Future;
import io.sourcemesh.l4.ByteRelay;
import io.sourcemesh.l4.transport.Transport;
import io.sourcemesh.proxy.network.ByteTransparent;
import io.sourcemesh.proxy.stats.Stats;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongConsumer;
import java.util.logging.Logger;

/**
 * A tcp_proxy connection moved in the kernel with splice(2), both ways, once nothing but tcp_proxy's
 * own bookkeeping sits on its path: both sockets on epoll and one event loop, no TLS, no filter still
 * reading the bytes, and no byte held in user space (the relay's writes flushed). Until then the
 * {@link ByteRelay}s carry the bytes, and they do for good where splice cannot start.
 *
 * <p>How: both channels are taken out of Netty's epoll set (deregistered, still open) and their
 * descriptors registered on the same event loop under handles of this class, edge-triggered. Each
 * direction has its own pipe (up to {@link #PIPE_SIZE}): on readiness it splices socket → pipe →
 * socket until the source has nothing more or the target takes nothing more. What that keeps:
 * <ul>
 * <li>Backpressure: a direction reads only while its pipe has room, so a stopped reader holds at
 *     most one pipe in this process; the sockets' buffers and TCP windows do the rest.</li>
 * <li>Counting: the bytes each splice takes from a source go to the access log and stats after each
 *     wake-up; the idle timer hears of them too.</li>
 * <li>End of stream: a source's FIN is read only after every byte before it (reads past it cannot
 *     happen: splice returns 0 there), then what its pipe holds is written out, and the connection
 *     ends as the relay ends it: the channels go back to Netty, the source is closed, and the relay
 *     closes the other side once its writes are out.</li>
 * <li>A close from anywhere else (idle timeout, an error, the proxy stopping) passes this class's
 *     handler first in both pipelines, which hands the channels back to Netty before it proceeds,
 *     so channelInactive and the access log run as for a relayed connection.</li>
 * </ul>
 */
final class Splice {
    private static final Logger LOG = Logger.getLogger(Splice.class.getName());
    /** Each direction's pipe: 1 MiB (the unprivileged maximum, /proc/sys/fs/pipe-max-size), Envoy's per-connection buffer limit. */
    static final int PIPE_SIZE = ByteRelay.BUFFER_LIMIT;
    /** Bytes one direction moves per wake-up before the loop's other work gets a turn (then it goes on in a task). */
    private static final long TURN = 8L * PIPE_SIZE;
    private static final int EPOLLIN = 0x1, EPOLLOUT = 0x4, EPOLLERR = 0x8, EPOLLHUP = 0x10, EPOLLRDHUP = 0x2000;
    private static final EpollIoOps INTEREST = EpollIoOps.EPOLLIN.with(EpollIoOps.EPOLLOUT).with(EpollIoOps.EPOLLRDHUP)
            .with(EpollIoOps.EPOLLET);
    private static volatile boolean unavailableWarned;

    /**
     * Opt-in, {@code -Dsourcemesh.tcpProxy.splice=true}, read when a tcp_proxy config is built; it
     * makes the process run on epoll (io_uring's loops have no readiness to drive this).
     */
    static boolean enabled() {
        return Boolean.getBoolean(Transport.SPLICE_PROPERTY);
    }

    /** What the tcp_proxy's stats count about splice (started and fallback count directions). */
    record SpliceStats(Stats.Counter started, Stats.Counter bytes, Stats.Counter fallback) {}

    private enum State { RELAYING, STARTING, SPLICING, HANDING_BACK, DONE }

    private final Side down;
    private final Side up;
    private final Direction fromClient;
    private final Direction fromUpstream;
    private final Runnable activity;
    private final SpliceStats stats;
    private final IoEventLoop loop;
    private final List<Runnable> afterHandBack = new ArrayList<>();
    private SpliceCalls calls;
    private State state = State.RELAYING;
    private boolean startQueued;

    private Splice(Channel downstream, Channel upstream, LongConsumer received, LongConsumer sent, Runnable activity,
            SpliceStats stats) {
        this.down = new Side(downstream);
        this.up = new Side(upstream);
        this.fromClient = new Direction(down, up, received);
        this.fromUpstream = new Direction(up, down, sent);
        this.activity = activity;
        this.stats = stats;
        this.loop = (IoEventLoop) downstream.eventLoop();
    }

    /**
     * The connection's splice, if it could ever splice: both channels on epoll and one event loop.
     * Adds the handler that watches both pipelines and tries to start.
     */
    static Optional<Splice> of(Channel downstream, Channel upstream, LongConsumer received, LongConsumer sent,
            Runnable activity, SpliceStats stats) {
        if (!(downstream instanceof EpollSocketChannel) || !(upstream instanceof EpollSocketChannel)
                || downstream.eventLoop() != upstream.eventLoop()
                || upstream.pipeline().get(io.netty.handler.ssl.SslHandler.class) != null) { // a TLS cluster's bytes are not the client's
            return Optional.empty();
        }
        Optional<String> unavailable = SpliceCalls.unavailable();
        if (unavailable.isPresent()) {
            if (!unavailableWarned) {
                unavailableWarned = true;
                LOG.warning("tcp_proxy splice is on, but splice(2) cannot be called (" + unavailable.get()
                        + "): bytes are relayed in user space");
            }
            return Optional.empty();
        }
        Splice s = new Splice(downstream, upstream, received, sent, activity, stats);
        downstream.pipeline().addFirst("splice", s.down.tap);
        upstream.pipeline().addFirst("splice", s.up.tap);
        s.startSoon();
        return Optional.of(s);
    }

    /** Tries to start in a task of its own: never from inside Netty's read or write of these channels. */
    private void startSoon() {
        if (state == State.RELAYING && !startQueued) {
            startQueued = true;
            loop.execute(() -> {
                startQueued = false;
                tryStart();
            });
        }
    }

    private void tryStart() {
        if (state != State.RELAYING || !quiet()) {
            return;
        }
        calls = new SpliceCalls();
        if (!fromClient.openPipe() || !fromUpstream.openPipe()) {
            fromClient.closePipe();
            fromUpstream.closePipe();
            state = State.DONE;
            stats.fallback().add(2);
            return;
        }
        state = State.STARTING;
        // Deregistering runs in a later task; Netty may read or write these channels until then.
        Future<?> a = down.channel.deregister();
        Future<?> b = up.channel.deregister();
        a.addListener(f -> b.addListener(g -> taken(f.isSuccess() && g.isSuccess())));
    }

    /** Both channels are out of Netty's epoll set (or one failed to leave it). */
    private void taken(boolean ok) {
        if (!afterHandBack.isEmpty()) {
            // A close came while the channels were leaving Netty: they go back, then it proceeds.
            fromClient.closePipe();
            fromUpstream.closePipe();
            state = State.HANDING_BACK;
            giveBack(() -> state = State.DONE);
            return;
        }
        if (!ok || !quiet()) {
            // Netty moved bytes between the check and the deregistration: the relay carries on, and tries again later.
            fromClient.closePipe();
            fromUpstream.closePipe();
            state = State.HANDING_BACK;
            giveBack(() -> {
                state = State.RELAYING;
                down.channel.read();
                up.channel.read();
            });
            return;
        }
        state = State.SPLICING;
        down.register();
        up.register();
        stats.started().add(2);
        fromClient.srcReady = fromClient.dstReady = fromUpstream.srcReady = fromUpstream.dstReady = true;
        pumpBoth();
    }

    /** True when no byte waits in user space and nothing in either pipeline needs to see the bytes. */
    private boolean quiet() {
        return down.channel.isActive() && up.channel.isActive() && empty(down.channel) && empty(up.channel)
                && transparent(down.channel, ChannelInboundHandler.class) && transparent(up.channel, ChannelOutboundHandler.class)
                && transparent(up.channel, ChannelInboundHandler.class) && transparent(down.channel, ChannelOutboundHandler.class);
    }

    private static boolean empty(Channel ch) {
        ChannelOutboundBuffer out = ch.unsafe().outboundBuffer();
        return out != null && out.isEmpty() && out.totalPendingWriteBytes() == 0;
    }

    /** Whether no handler of {@code side} (inbound or outbound) would miss the bytes splice moves past it. */
    private static boolean transparent(Channel ch, Class<? extends ChannelHandler> side) {
        for (Map.Entry<String, ChannelHandler> e : ch.pipeline()) {
            ChannelHandler h = e.getValue();
            if (side.isInstance(h) && !(h instanceof ByteTransparent) && !(h instanceof ByteRelay)
                    && !(h instanceof io.sourcemesh.l4.transport.NextTurnClose.Handler)) { // an upstream's first: closes only
                return false;
            }
        }
        return true;
    }

    private void ready(Side side, int ops) {
        if (state != State.SPLICING) {
            return;
        }
        Direction out = side == down ? fromClient : fromUpstream; // side is its source
        Direction in = side == down ? fromUpstream : fromClient; // side is its target
        if ((ops & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) != 0) {
            out.srcReady = true;
        }
        if ((ops & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0) {
            in.dstReady = true;
        }
        pumpBoth();
    }

    private void pumpBoth() {
        fromClient.pump();
        if (state == State.SPLICING) {
            fromUpstream.pump();
        }
        fromClient.report();
        fromUpstream.report();
    }

    /** Ends splicing: the channels go back to Netty, then {@code then} runs (a close, as the relay would make it). */
    private void end(Runnable then) {
        if (state == State.STARTING) {
            afterHandBack.add(then); // taken() hands the channels back first
        } else if (state == State.SPLICING) {
            fromClient.report();
            fromUpstream.report();
            fromClient.closePipe();
            fromUpstream.closePipe();
            state = State.HANDING_BACK;
            down.unregister();
            up.unregister();
            // Back to Netty after this epoll batch: an event of it for either socket must not reach a channel.
            loop.execute(() -> giveBack(() -> {
                state = State.DONE;
                then.run();
            }));
        } else if (state == State.HANDING_BACK) {
            afterHandBack.add(then);
        } else {
            then.run();
        }
    }

    /** Cancels this class's registrations and registers both channels with Netty again (autoRead stays off). */
    private void giveBack(Runnable first) {
        afterHandBack.add(0, first);
        down.unregister();
        up.unregister();
        Future<?> a = down.giveBack();
        Future<?> b = up.giveBack();
        a.addListener(f -> b.addListener(g -> {
            List<Runnable> todo = List.copyOf(afterHandBack);
            afterHandBack.clear();
            todo.forEach(Runnable::run);
        }));
    }

    /** One socket of the connection, as this class watches it while splicing. */
    private final class Side implements EpollIoHandle {
        final Channel channel;
        final int fd;
        final Tap tap = new Tap(this);
        private IoRegistration registration;

        Side(Channel channel) {
            this.channel = channel;
            this.fd = ((EpollSocketChannel) channel).fd().intValue();
        }

        void register() {
            loop.register(this).addListener(f -> {
                if (!f.isSuccess()) {
                    end(() -> channel.close());
                    return;
                }
                registration = (IoRegistration) f.getNow();
                if (state != State.SPLICING) {
                    registration.cancel();
                    return;
                }
                registration.submit(INTEREST);
            });
        }

        void unregister() {
            if (registration != null) {
                registration.cancel();
                registration = null;
            }
        }

        Future<?> giveBack() {
            if (channel.isRegistered() || !channel.isOpen()) {
                return loop.newSucceededFuture(null);
            }
            return loop.register(channel);
        }

        @Override
        public FileDescriptor fd() {
            return ((EpollSocketChannel) channel).fd();
        }

        @Override
        public void handle(IoRegistration registration, IoEvent event) {
            ready(this, ((EpollIoEvent) event).ops().value());
        }

        @Override
        public void close() {
            // The event loop is shutting down with this socket still ours: close it as Netty would have.
            unregister();
            channel.unsafe().close(channel.voidPromise());
        }
    }

    /** One direction: its source, its target and the pipe between them. */
    private final class Direction {
        final Side src;
        final Side dst;
        final LongConsumer onRead;
        int pipeRead = -1;
        int pipeWrite = -1;
        int capacity;
        long inPipe;
        boolean srcReady;
        boolean dstReady;
        boolean eof;
        long unreported;

        Direction(Side src, Side dst, LongConsumer onRead) {
            this.src = src;
            this.dst = dst;
            this.onRead = onRead;
        }

        boolean openPipe() {
            long p = calls.pipe(PIPE_SIZE);
            if (p < 0) {
                LOG.fine(() -> "tcp_proxy splice: no pipe (errno " + -p + "): relayed in user space");
                return false;
            }
            pipeRead = (int) p;
            pipeWrite = (int) (p >>> 32);
            capacity = Math.max(calls.pipeSize(pipeWrite), 4096);
            return true;
        }

        void closePipe() {
            if (pipeRead >= 0) {
                SpliceCalls.close(pipeRead);
                SpliceCalls.close(pipeWrite);
                pipeRead = pipeWrite = -1;
            }
        }

        /** Moves bytes while either end can: out of the pipe first, then into it. */
        void pump() {
            long moved = 0;
            for (;;) {
                if (inPipe > 0 && dstReady) {
                    long n = calls.splice(pipeRead, dst.fd, inPipe);
                    if (n > 0) {
                        inPipe -= n;
                    } else if (n == -SpliceCalls.EAGAIN) {
                        dstReady = false;
                    } else {
                        failed(dst, n);
                        return;
                    }
                } else if (!eof && srcReady && inPipe < capacity) {
                    if (moved >= TURN) {
                        loop.execute(() -> {
                            if (state == State.SPLICING) {
                                pump();
                                report();
                            }
                        });
                        return;
                    }
                    long n = calls.splice(src.fd, pipeWrite, capacity - inPipe);
                    if (n > 0) {
                        inPipe += n;
                        unreported += n;
                        moved += n;
                    } else if (n == 0) {
                        eof = true;
                    } else if (n == -SpliceCalls.EAGAIN) {
                        srcReady = false;
                    } else {
                        failed(src, n);
                        return;
                    }
                } else {
                    break;
                }
            }
            if (eof && inPipe == 0) {
                // Every byte before the source's FIN is out: close it, and the relay closes the target after its writes.
                end(() -> src.channel.close());
            }
        }

        private void failed(Side side, long errno) {
            LOG.fine(() -> "tcp_proxy splice: errno " + -errno + " on " + side.channel);
            end(() -> side.channel.close());
        }

        void report() {
            if (unreported > 0) {
                long n = unreported;
                unreported = 0;
                onRead.accept(n);
                stats.bytes().add(n);
                activity.run();
            }
        }
    }

    /** First in each pipeline: starts splicing when the relay has gone quiet, and hands the channels back before any close. */
    private final class Tap extends ChannelDuplexHandler implements ByteTransparent {
        private final Side side;

        Tap(Side side) {
            this.side = side;
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.fireChannelReadComplete();
            startSoon();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext ctx) {
            ctx.fireChannelWritabilityChanged();
            startSoon();
        }

        @Override
        public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
            if (state == State.RELAYING || state == State.DONE) {
                ctx.close(promise);
                return;
            }
            end(() -> ctx.close(promise));
        }
    }
}
