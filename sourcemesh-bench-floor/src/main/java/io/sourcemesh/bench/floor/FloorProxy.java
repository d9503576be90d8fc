package io.sourcemesh.bench.floor;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * The benchmark's floor: the plainest HTTP/1.1 reverse proxy Netty 4.2 makes, so that a run shows how far
 * SourceMesh is above what the JVM and Netty cost by themselves, and how far that is from HAProxy (issue 14).
 * Netty's own codecs ({@link HttpServerCodec}, {@code HttpClientCodec}), one pool of kept-alive upstream
 * connections per event loop, the upstream on the client's loop, X-Forwarded-For appended (as the peers and
 * SourceMesh's bench bootstrap do), one flush per read batch. Nothing else: no routing, timeouts, logs or
 * stats. {@code sourcemesh-bench/lib/floor.sh} runs it with the proxy's JVM flags.
 *
 * <pre>FloorProxy --listen HOST:PORT --upstream HOST:PORT [--transport io_uring|epoll|nio] [--workers N]</pre>
 */
public final class FloorProxy implements AutoCloseable {
    /** Its event loops' threads are {@code floor-loop-POOL-N} (Netty's name otherwise, with the same settings). */
    static final String LOOP_THREADS = "floor-loop";

    private final EventLoopGroup group;
    private final Channel server;
    private final Upstreams upstreams;

    private FloorProxy(EventLoopGroup group, Channel server, Upstreams upstreams) {
        this.group = group;
        this.server = server;
        this.upstreams = upstreams;
    }

    /** Listens on {@code listen} (port 0: any), proxying to {@code upstream}. */
    public static FloorProxy start(InetSocketAddress listen, InetSocketAddress upstream, String transport, int workers)
            throws InterruptedException {
        FloorTransport t = FloorTransport.named(transport);
        if (!t.available()) {
            throw new IllegalStateException("--transport " + t + " is not available here", t.unavailabilityCause());
        }
        if (workers < 1) {
            throw new IllegalArgumentException("--workers: at least 1, not " + workers);
        }
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(workers, new DefaultThreadFactory(LOOP_THREADS), t.ioHandlerFactory());
        try {
            Upstreams upstreams = new Upstreams(group, t, upstream);
            Channel server = new ServerBootstrap().group(group).channel(t.serverChannel())
                    .option(ChannelOption.SO_BACKLOG, 4096)
                    .option(ChannelOption.SO_REUSEADDR, true)
                    .childOption(ChannelOption.TCP_NODELAY, true)
                    .childHandler(new ChannelInitializer<Channel>() {
                        @Override
                        protected void initChannel(Channel ch) {
                            ch.pipeline().addLast(new HttpServerCodec(), new ClientSide(upstreams));
                        }
                    })
                    .bind(listen).sync().channel();
            return new FloorProxy(group, server, upstreams);
        } catch (InterruptedException e) {
            group.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.SECONDS);
            throw e;
        } catch (Exception e) { // the bind's failure, rethrown by sync() as it is (a BindException, undeclared)
            group.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.SECONDS);
            String host = listen.getAddress() != null ? listen.getAddress().getHostAddress() : listen.getHostString();
            throw new IllegalStateException("cannot listen on " + host + ":" + listen.getPort()
                    + ": " + e.getMessage(), e);
        }
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) server.localAddress();
    }

    /** Idle upstream connections in every loop's pool (a test's measure; read on the loops). */
    int idleUpstreams() throws Exception {
        int n = 0;
        for (Map.Entry<EventExecutor, UpstreamPool> e : upstreams.pools.entrySet()) {
            n += e.getKey().submit(e.getValue()::idleCount).get();
        }
        return n;
    }

    @Override
    public void close() {
        server.close().syncUninterruptibly();
        group.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** The upstream and each event loop's pool of connections to it (the map is built once, then only read). */
    static final class Upstreams {
        private final FloorTransport transport;
        private final InetSocketAddress address;
        private final Map<EventExecutor, UpstreamPool> pools = new IdentityHashMap<>();

        Upstreams(EventLoopGroup group, FloorTransport transport, InetSocketAddress address) {
            this.transport = transport;
            this.address = address;
            for (EventExecutor loop : group) {
                pools.put(loop, new UpstreamPool());
            }
        }

        /** A connection for {@code client}'s next exchange: a pooled one, or a new one on the client's loop. */
        UpstreamSide acquire(ClientSide client) {
            EventLoop loop = client.channel().eventLoop();
            UpstreamPool pool = pools.get(loop);
            UpstreamSide u = pool.acquire();
            if (u != null) {
                u.bind(client);
                return u;
            }
            return UpstreamSide.connect(loop, transport, address, pool, client);
        }

        void release(UpstreamSide u) {
            pools.get(u.loop()).release(u);
        }
    }

    public static void main(String[] args) throws InterruptedException {
        PrintStream err = System.err;
        String listen = null;
        String upstream = null;
        String transport = "io_uring";
        int workers = 1;
        try {
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                String v = i + 1 < args.length ? args[i + 1] : null;
                switch (a) {
                    case "--listen" -> listen = required(a, v);
                    case "--upstream" -> upstream = required(a, v);
                    case "--transport" -> transport = required(a, v);
                    case "--workers" -> workers = Integer.parseInt(required(a, v));
                    default -> throw new IllegalArgumentException("unknown argument: " + a);
                }
                i++;
            }
            if (listen == null || upstream == null) {
                throw new IllegalArgumentException("--listen HOST:PORT and --upstream HOST:PORT are required");
            }
            FloorProxy p = start(hostPort("--listen", listen), hostPort("--upstream", upstream), transport, workers);
            Runtime.getRuntime().addShutdownHook(new Thread(p::close, "floor-shutdown"));
            InetSocketAddress at = p.address();
            System.out.println("floor: listening on " + at.getAddress().getHostAddress() + ":" + at.getPort() + " (" + FloorTransport.named(transport) + ", "
                    + workers + " worker" + (workers == 1 ? "" : "s") + "), upstream " + upstream);
            p.server.closeFuture().sync();
        } catch (IllegalArgumentException | IllegalStateException e) {
            err.println("floor: " + e.getMessage());
            System.exit(2);
        }
    }

    private static String required(String flag, String value) {
        if (value == null) {
            throw new IllegalArgumentException(flag + " needs a value");
        }
        return value;
    }

    static InetSocketAddress hostPort(String flag, String s) {
        int colon = s.lastIndexOf(':');
        if (colon <= 0 || colon == s.length() - 1) {
            throw new IllegalArgumentException(flag + ": HOST:PORT, not " + s);
        }
        int port;
        try {
            port = Integer.parseInt(s.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + ": the port of " + s + " is not a number");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException(flag + ": port " + port + " is out of range");
        }
        String host = s.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        return new InetSocketAddress(host, port);
    }
}
