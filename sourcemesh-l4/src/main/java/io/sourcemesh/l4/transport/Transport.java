package io.sourcemesh.l4.transport;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoEventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringAdaptiveBufferRingAllocator;
import io.netty.channel.uring.IoUringBufferRingConfig;
import io.netty.channel.uring.IoUringChannelOption;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringIoHandlerConfig;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.channel.unix.IntegerUnixChannelOption;
import io.netty.channel.unix.RawUnixChannelOption;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The socket layer: Netty's native io_uring (the default) or epoll transport, NIO where neither loads. One
 * instance per proxy; its event-loop group has one loop per worker, and every channel it opens
 * (listeners and upstream connections alike) is of the same family on those loops.
 *
 * <p>Both native transports take what interception needs: SO_ORIGINAL_DST and SO_MARK as raw/integer
 * unix socket options, and IP_TRANSPARENT (Netty 4.2.18's io_uring socket configs read and set all
 * three). NIO takes none of them. tcp_proxy's splice runs on epoll's readiness alone, so a
 * process that opts in to splice runs on epoll even when io_uring is asked for, and says so. So does a
 * process whose io_uring loops cannot get their rings (a small RLIMIT_MEMLOCK without CAP_IPC_LOCK).
 */
public final class Transport implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(Transport.class.getName());
    /** The system property choosing the transport: {@code io_uring}, {@code epoll} or {@code nio}. */
    public static final String PROPERTY = "sourcemesh.transport";
    /** Whether io_uring loops read through a provided-buffer ring ({@code false} unless set to true). */
    public static final String BUFFER_RING_PROPERTY = "sourcemesh.transport.bufferRing";
    /** The loops' one buffer group: every connection on them reads from it. */
    private static final short BUFFER_GROUP = 0;
    /** Buffers the ring can hold (a power of two), and how many it adds at a time when reads run short. */
    private static final short BUFFER_RING_SIZE = 256;
    private static final int BUFFER_RING_BATCH = 16;
    /** tcp_proxy's splice opt-in (read by the proxy's tcp filter too): it needs epoll. */
    public static final String SPLICE_PROPERTY = "sourcemesh.tcpProxy.splice";
    /**
     * What runs when {@link #PROPERTY} is unset: io_uring took 35–45% less proxy CPU per request than
     * epoll at 16 and 64 keep-alive connections (about one io_uring_enter per 3–7 requests against
     * four system calls per request), and about as much as epoll at one connection.
     */
    static final Kind DEFAULT = Kind.IO_URING;

    /**
     * Netty's switch for arming each io_uring connection's POLLIN as one multishot POLL_ADD (on by default where the
     * kernel has it). Off here unless set: with it, a connection that reads on demand (auto-read off: every proxy
     * connection) now and then stops hearing its peer. The channel says a POLLIN is armed while the ring holds none
     * (its fdinfo PollList), or arms nothing, so a client's FIN or RST is never read and the connection stays
     * open until idle_timeout (an hour by default). ListenerFuzzTest's runs (2,000 fuzz connections each) ended with
     * 2 to 8 connections so held in each of 6 runs with it on, none in 15 runs with it off, none on epoll. A one-shot
     * poll costs one more ring entry per wait for the client, no system call (entries go in with the loop's next
     * io_uring_enter). Read by Netty's IoUring class when it loads: set here, before the first use of it.
     */
    public static final String POLL_ADD_MULTISHOT_PROPERTY = "io.netty.iouring.pollAddMultishotEnabled";

    static {
        if (System.getProperty(POLL_ADD_MULTISHOT_PROPERTY) == null) {
            System.setProperty(POLL_ADD_MULTISHOT_PROPERTY, "false");
        }
    }

    /** SO_MARK (SOL_SOCKET=1, optname 36): lets kernel rules recognise the proxy's own upstream packets. */
    public static final IntegerUnixChannelOption SO_MARK = new IntegerUnixChannelOption("SO_MARK", 1, 36);
    /**
     * TCP_QUICKACK (IPPROTO_TCP=6, optname 12): 0 on a listening socket delays the first ACK of every connection it
     * accepts (the kernel copies the listener's delayed-ACK mode to each), so a reply sent at once carries it.
     */
    public static final IntegerUnixChannelOption TCP_QUICKACK = new IntegerUnixChannelOption("TCP_QUICKACK", 6, 12);
    /**
     * TCP_CORK (IPPROTO_TCP=6, optname 3): a partial segment waits for more (at most 200 ms) instead of leaving at
     * once; a close sends what waits with the FIN in the same segment.
     */
    public static final IntegerUnixChannelOption TCP_CORK = new IntegerUnixChannelOption("TCP_CORK", 6, 3);
    /** TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT (IPPROTO_TCP=6, optnames 4, 5, 6): both native transports set them alike. */
    private static final IntegerUnixChannelOption TCP_KEEPIDLE = new IntegerUnixChannelOption("TCP_KEEPIDLE", 6, 4);
    private static final IntegerUnixChannelOption TCP_KEEPINTVL = new IntegerUnixChannelOption("TCP_KEEPINTVL", 6, 5);
    private static final IntegerUnixChannelOption TCP_KEEPCNT = new IntegerUnixChannelOption("TCP_KEEPCNT", 6, 6);
    /** SO_ORIGINAL_DST (SOL_IP=0, optname 80): the pre-REDIRECT destination as a sockaddr_in. */
    private static final RawUnixChannelOption SO_ORIGINAL_DST = new RawUnixChannelOption("SO_ORIGINAL_DST", 0, 80, 16);

    /** The socket families this class can run on. */
    public enum Kind {
        IO_URING("io_uring"), EPOLL("epoll"), NIO("nio");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        /** The name {@link #PROPERTY} takes and log lines show. */
        public String label() {
            return label;
        }

        static Kind parse(String value) {
            for (Kind k : values()) {
                if (k.label.equals(value)) {
                    return k;
                }
            }
            throw new IllegalArgumentException("-D" + PROPERTY + "=" + value + ": not one of io_uring, epoll, nio");
        }
    }

    /** What was asked, what runs, and why they differ (empty when they do not). */
    record Choice(Kind kind, Optional<String> fallback) {}

    private final Kind kind;
    private final Optional<String> fallback;
    private final boolean bufferRing;
    private final EventLoopGroup group;

    private Transport(Choice choice, int workers, boolean bufferRing) {
        this.kind = choice.kind();
        this.fallback = choice.fallback();
        this.bufferRing = kind == Kind.IO_URING && bufferRing;
        if (kind == Kind.IO_URING && IoUring.isPollAddMultishotEnabled()
                && !Boolean.parseBoolean(System.getProperty(POLL_ADD_MULTISHOT_PROPERTY))) {
            // Netty's IoUring was loaded before this class could turn its multishot POLLIN off.
            LOG.warning("transport io_uring: multishot POLLIN is on (Netty's IoUring loaded before -D" + POLL_ADD_MULTISHOT_PROPERTY
                    + "=false was set): a connection may miss its client's close");
        }
        IoHandlerFactory factory = switch (kind) {
            case IO_URING -> IoUringIoHandler.newFactory(ioUringConfig(this.bufferRing));
            case EPOLL -> EpollIoHandler.newFactory();
            case NIO -> NioIoHandler.newFactory();
        };
        DefaultThreadFactory threads = new DefaultThreadFactory("sourcemesh-worker", true);
        this.group = kind == Kind.IO_URING ? UntimedWaitLoop.group(workers, threads, factory)
                : new MultiThreadIoEventLoopGroup(workers, threads, factory);
    }

    /** The transport {@code -Dsourcemesh.transport} asks for (default {@link #DEFAULT}), or the nearest one that loads. */
    public static Transport create(int workers) {
        return create(System.getProperty(PROPERTY), workers);
    }

    /** The transport {@code requested} names (io_uring, epoll or nio; null: {@link #DEFAULT}), or the nearest one that loads. */
    public static Transport create(String requested, int workers) {
        // Each probe loads its transport's native library (extracted from its jar, linked, initialised):
        // asked only when the choice gets to it, so an io_uring start never loads epoll's.
        Supplier<Optional<String>> epollMissing = Transport::epollMissing;
        Choice choice = choose(requested, Boolean.getBoolean(SPLICE_PROPERTY), Transport::uringMissing, epollMissing);
        if (choice.kind() == Kind.IO_URING) {
            boolean ring = bufferRingWanted();
            if (ring) {
                try {
                    return new Transport(choice, workers, true);
                } catch (RuntimeException e) {
                    // The buffer ring is registered memory too: without it the loops read as before.
                    LOG.warning("transport io_uring: no provided-buffer ring (" + rootMessage(e) + "): each read polls first");
                }
            }
            try {
                return new Transport(choice, workers, false);
            } catch (RuntimeException e) {
                // IoUring.isAvailable() tried a one-entry ring; the loops' rings are bigger, and their memory
                // is locked memory: a user without CAP_IPC_LOCK under a small RLIMIT_MEMLOCK (64 KB, a
                // container's usual) gets ENOMEM here. Such a process runs, on epoll, and says why.
                choice = choose(Kind.EPOLL.label(), false, Optional::empty, epollMissing);
                choice = new Choice(choice.kind(), Optional.of(ringsRefused(e) + choice.fallback().map(f -> "; " + f).orElse("")));
                LOG.warning("transport " + choice.kind().label() + ": " + choice.fallback().orElseThrow());
                return new Transport(choice, workers, false);
            }
        }
        Choice chosen = choice;
        chosen.fallback().ifPresent(why -> LOG.log(requested == null ? Level.INFO : Level.WARNING,
                "transport " + chosen.kind().label() + ": " + why));
        return new Transport(chosen, workers, false);
    }

    /**
     * Whether io_uring loops get a provided-buffer ring ({@link #BUFFER_RING_PROPERTY}=true; off by default).
     * Without one, Netty's io_uring channel arms a poll and, when it fires, submits the recv: two ring
     * operations and one io_uring_enter more per read. With one, a multishot recv waits for data and takes its
     * buffer from the ring: at one keep-alive connection 3.9 system calls per proxied request instead of 6.0
     * (4.3 while a pooled upstream's multishot recv was cancelled and armed again per response: UpstreamRequest).
     * Off by default: Netty hands each read out as a slice of the ring's buffer (+120 B allocated per request,
     * +300 B with the proxy's AOT cache), and on a loaded machine the CPU per request did not measurably drop.
     */
    static boolean bufferRingWanted() {
        return Boolean.getBoolean(BUFFER_RING_PROPERTY) && IoUring.isRegisterBufferRingSupported();
    }

    /** The io_uring loops' settings: Netty's defaults, plus the buffer ring when {@code bufferRing}. */
    static IoUringIoHandlerConfig ioUringConfig(boolean bufferRing) {
        IoUringIoHandlerConfig config = new IoUringIoHandlerConfig();
        if (bufferRing) {
            config.setBufferRingConfig(IoUringBufferRingConfig.builder()
                    .bufferGroupId(BUFFER_GROUP)
                    .bufferRingSize(BUFFER_RING_SIZE)
                    .batchSize(BUFFER_RING_BATCH)
                    .incremental(IoUring.isRegisterBufferRingIncSupported())
                    .allocator(new IoUringAdaptiveBufferRingAllocator())
                    .build());
        }
        return config;
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    }

    /** Why io_uring's loops could not start: the root cause, and the locked-memory limit when it is the likely one. */
    static String ringsRefused(Throwable e) {
        return "io_uring's rings could not be created (" + rootMessage(e) + ")" + memlockLimit()
                .map(kb -> "; RLIMIT_MEMLOCK is " + kb + " KB, and without CAP_IPC_LOCK a loop's rings count"
                        + " against it: raise it (ulimit -l, LimitMEMLOCK=, --ulimit memlock) to run io_uring")
                .orElse("");
    }

    /** The soft RLIMIT_MEMLOCK in KB, from /proc/self/limits; empty when unlimited or unreadable. */
    static Optional<Long> memlockLimit() {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max locked memory")) {
                    String soft = line.substring("Max locked memory".length()).trim().split("\\s+")[0];
                    return soft.equals("unlimited") ? Optional.empty() : Optional.of(Long.parseLong(soft) / 1024);
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            // Not Linux's procfs: no hint.
        }
        return Optional.empty();
    }

    private static Optional<String> uringMissing() {
        return IoUring.isAvailable() ? Optional.empty() : Optional.of(String.valueOf(IoUring.unavailabilityCause()));
    }

    private static Optional<String> epollMissing() {
        return Epoll.isAvailable() ? Optional.empty() : Optional.of(String.valueOf(Epoll.unavailabilityCause()));
    }

    /**
     * The choice, from the request and what this machine offers ({@code uringMissing}/{@code epollMissing}:
     * why that native transport does not load, asked only when the choice reaches it). Falls back io_uring →
     * epoll → NIO, always with a reason.
     */
    static Choice choose(String requested, boolean splice, Supplier<Optional<String>> uringMissing,
            Supplier<Optional<String>> epollMissing) {
        boolean byDefault = requested == null || requested.isBlank();
        Kind kind = byDefault ? DEFAULT : Kind.parse(requested.trim());
        String why = null;
        if (kind == Kind.IO_URING && splice) {
            kind = Kind.EPOLL;
            why = (byDefault ? "io_uring is the default" : "io_uring asked for") + ", but -D" + SPLICE_PROPERTY
                    + "=true needs epoll's splice";
        } else if (kind == Kind.IO_URING) {
            Optional<String> missing = uringMissing.get();
            if (missing.isPresent()) {
                kind = Kind.EPOLL;
                why = "io_uring unavailable (" + missing.get() + ")";
            }
        }
        Optional<String> epollGone = kind == Kind.EPOLL ? epollMissing.get() : Optional.empty();
        if (epollGone.isPresent()) {
            kind = Kind.NIO;
            why = (why == null ? "" : why + "; ") + "epoll unavailable (" + epollGone.get()
                    + "): no SO_ORIGINAL_DST, IP_TRANSPARENT or SO_MARK";
        }
        return new Choice(kind, Optional.ofNullable(why));
    }

    public Kind kind() {
        return kind;
    }

    /** True on a native transport (io_uring or epoll): the unix socket options and IP_TRANSPARENT work. */
    public boolean isNative() {
        return kind != Kind.NIO;
    }

    /** For start-up lines: the transport, and why it is not the one asked for if it is not. */
    public String description() {
        return kind.label() + fallback.map(f -> " [" + f + "]").orElse("");
    }

    /** True when this transport's io_uring loops read through their provided-buffer ring. */
    public boolean bufferRing() {
        return bufferRing;
    }

    /** What every connection {@code b} opens on these loops needs (the buffer ring's group, on io_uring). */
    public Bootstrap connectionOptions(Bootstrap b) {
        if (bufferRing) {
            b.option(IoUringChannelOption.IO_URING_BUFFER_GROUP_ID, BUFFER_GROUP);
        }
        return b;
    }

    /**
     * TCP keepalive on every connection {@code b} opens (Envoy's upstream_connection_options.tcp_keepalive): SO_KEEPALIVE,
     * and the idle time (s), interval (s) and probe count that are above 0 (the others the kernel's); on NIO through the
     * JDK's {@code jdk.net} options.
     */
    public Bootstrap keepalive(Bootstrap b, int probes, int time, int interval) {
        b.option(ChannelOption.SO_KEEPALIVE, true);
        if (kind == Kind.NIO) {
            setNio(b, jdk.net.ExtendedSocketOptions.TCP_KEEPIDLE, time);
            setNio(b, jdk.net.ExtendedSocketOptions.TCP_KEEPINTERVAL, interval);
            setNio(b, jdk.net.ExtendedSocketOptions.TCP_KEEPCOUNT, probes);
            return b;
        }
        if (time > 0) {
            b.option(TCP_KEEPIDLE, time);
        }
        if (interval > 0) {
            b.option(TCP_KEEPINTVL, interval);
        }
        if (probes > 0) {
            b.option(TCP_KEEPCNT, probes);
        }
        return b;
    }

    private static void setNio(Bootstrap b, java.net.SocketOption<Integer> option, int value) {
        if (value > 0) {
            b.option(io.netty.channel.socket.nio.NioChannelOption.of(option), value);
        }
    }

    /** The same for a connection a listener accepted, set before it is registered (its first read). */
    public void acceptedOptions(io.netty.channel.ChannelConfig accepted) {
        if (bufferRing) {
            accepted.setOption(IoUringChannelOption.IO_URING_BUFFER_GROUP_ID, BUFFER_GROUP);
        }
    }

    public EventLoopGroup group() {
        return group;
    }

    public Class<? extends ServerChannel> serverChannelType() {
        return switch (kind) {
            case IO_URING -> IoUringServerSocketChannel.class;
            case EPOLL -> EpollServerSocketChannel.class;
            case NIO -> NioServerSocketChannel.class;
        };
    }

    public Class<? extends Channel> channelType() {
        return switch (kind) {
            case IO_URING -> IoUringSocketChannel.class;
            case EPOLL -> EpollSocketChannel.class;
            case NIO -> NioSocketChannel.class;
        };
    }

    /** The server channel type for a group made elsewhere (io_uring, epoll or NIO loops). */
    public static Class<? extends ServerChannel> serverChannelType(EventLoopGroup group) {
        if (group instanceof IoEventLoopGroup io) {
            if (io.isIoType(IoUringIoHandler.class)) {
                return IoUringServerSocketChannel.class;
            }
            if (io.isIoType(EpollIoHandler.class)) {
                return EpollServerSocketChannel.class;
            }
        }
        return NioServerSocketChannel.class;
    }

    /** Socket option for IP_TRANSPARENT, if this transport has it. */
    public Optional<ChannelOption<Boolean>> ipTransparent() {
        return switch (kind) {
            case IO_URING -> Optional.of(IoUringChannelOption.IP_TRANSPARENT);
            case EPOLL -> Optional.of(EpollChannelOption.IP_TRANSPARENT);
            case NIO -> Optional.empty();
        };
    }

    /**
     * The destination the client originally asked for, before an iptables REDIRECT; empty when
     * the socket was not redirected (the kernel then reports the local address itself) or the
     * transport cannot tell.
     */
    public static Optional<InetSocketAddress> originalDestination(Channel channel) {
        if (!(channel instanceof EpollSocketChannel) && !(channel instanceof IoUringSocketChannel)) {
            return Optional.empty();
        }
        try {
            ByteBuffer b = channel.config().getOption(SO_ORIGINAL_DST);
            byte[] raw = new byte[b.remaining()];
            b.duplicate().get(raw);
            if (raw.length < 8 || raw[0] != 2 /* sin_family AF_INET, host byte order */) {
                return Optional.empty();
            }
            int port = ((raw[2] & 0xff) << 8) | (raw[3] & 0xff);
            InetAddress address = InetAddress.getByAddress(new byte[] {raw[4], raw[5], raw[6], raw[7]});
            return Optional.of(new InetSocketAddress(address, port));
        } catch (Exception e) {
            return Optional.empty();
        }
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }
}
