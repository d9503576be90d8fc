package io.sourcemesh.bench.floor;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * An upstream connection, on the event loop of the client connections it serves (one at a time): it writes a
 * client's request and passes the response back. Writes made before its connect completes wait in a list.
 */
final class UpstreamSide extends ChannelInboundHandlerAdapter {
    private final UpstreamPool pool;
    private Channel channel;
    private boolean connected;
    private List<Object> pending = new ArrayList<>(2);
    /** The client connection whose exchange is under way, or null while pooled. */
    private ClientSide client;
    /** The client whose response ended in the current read batch: its last write still wants the flush. */
    private ClientSide finished;
    private boolean responseStarted;
    /** An informational (1xx) response: its end is not the exchange's. */
    private boolean informational;
    private boolean reusable;
    /** Reads turned off by {@link #readWhile}: the per-request check is this field, not the config's atomic. */
    private boolean stopped;

    private UpstreamSide(UpstreamPool pool) {
        this.pool = pool;
    }

    static UpstreamSide connect(EventLoop loop, FloorTransport transport, InetSocketAddress address, UpstreamPool pool,
                                ClientSide client) {
        UpstreamSide u = new UpstreamSide(pool);
        u.client = client;
        ChannelFuture f = new Bootstrap().group(loop).channel(transport.channel())
                .option(ChannelOption.TCP_NODELAY, true)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new HttpClientCodec(), u);
                    }
                })
                .connect(address);
        u.channel = f.channel();
        f.addListener(done -> u.connected(done.isSuccess()));
        return u;
    }

    private void connected(boolean success) {
        List<Object> p = pending;
        pending = null;
        if (!success) {
            p.forEach(ReferenceCountUtil::release);
            ClientSide c = client;
            client = null;
            if (c != null) {
                c.upstreamFailed(false);
            }
            return;
        }
        connected = true;
        for (Object m : p) {
            channel.write(m, channel.voidPromise());
        }
        channel.flush();
    }

    /** Bound to {@code c} for one exchange (a pooled connection, taken by a new request). */
    void bind(ClientSide c) {
        client = c;
        responseStarted = false;
    }

    EventLoop loop() {
        return channel.eventLoop();
    }

    boolean isOpen() {
        return channel.isActive();
    }

    void write(Object msg) {
        if (connected) {
            channel.write(msg, channel.voidPromise());
        } else if (pending != null) {
            pending.add(msg);
        } else {
            ReferenceCountUtil.release(msg);
        }
    }

    void flush() {
        if (connected) {
            channel.flush();
        }
    }

    /** Reads on or off: a slow client's backpressure. */
    void readWhile(boolean on) {
        stopped = !on;
        channel.config().setAutoRead(on);
    }

    /** Reading again if a client's backpressure stopped it (a pooled connection must read); nothing otherwise. */
    void resume() {
        if (stopped) {
            readWhile(true);
        }
    }

    void close() {
        client = null;
        channel.close();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ClientSide c = client;
        if (c == null) { // a response nobody asked for (or after the client went away)
            ReferenceCountUtil.release(msg);
            ctx.close();
            return;
        }
        if (msg instanceof HttpResponse r) {
            informational = r.status().codeClass() == HttpStatusClass.INFORMATIONAL;
            if (!informational) {
                responseStarted = true;
                reusable = HttpUtil.isKeepAlive(r);
                c.responseHead(r, HttpUtil.isContentLengthSet(r) || HttpUtil.isTransferEncodingChunked(r)
                        || r.status().code() == 204 || r.status().code() == 304);
            }
        }
        if (msg instanceof LastHttpContent last && !informational) {
            client = null;
            finished = c;
            c.responseDone(last, reusable && ctx.channel().isActive());
        } else {
            c.writeResponse(msg);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        ClientSide c = client;
        if (c != null) {
            c.flushResponse();
        }
        if (finished != null && finished != c) {
            finished.flushResponse();
        }
        finished = null;
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        ClientSide c = client;
        if (c != null) {
            c.readWhile(ctx.channel().isWritable());
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        pool.remove(this);
        ClientSide c = client;
        client = null;
        if (c != null) {
            c.upstreamFailed(responseStarted);
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
