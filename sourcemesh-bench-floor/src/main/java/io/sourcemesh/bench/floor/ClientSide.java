package io.sourcemesh.bench.floor;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;

/**
 * A client connection: its requests go to an upstream connection from the loop's pool, one at a time; the
 * response comes back through {@link UpstreamSide}. A request that arrives before the one before it was
 * answered (pipelining) waits its turn. Writes are flushed once per read batch.
 */
final class ClientSide extends ChannelInboundHandlerAdapter {
    private static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
    private final FloorProxy.Upstreams upstreams;
    private ChannelHandlerContext ctx;
    /** The client's address, as X-Forwarded-For gets it (once per connection). */
    private String clientIp;
    /** The upstream connection of the exchange under way, or null between exchanges. */
    private UpstreamSide upstream;
    /** Whether the request under way has been read whole (its LastHttpContent). */
    private boolean requestRead;
    /** Whether the connection stays open after the exchange under way (the request's keep-alive). */
    private boolean keepAlive;
    /** Messages of requests after the one under way, read before it was answered. */
    private final ArrayDeque<Object> waiting = new ArrayDeque<>(0);
    private boolean closing;

    ClientSide(FloorProxy.Upstreams upstreams) {
        this.upstreams = upstreams;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        clientIp = ((InetSocketAddress) ctx.channel().remoteAddress()).getAddress().getHostAddress();
        ctx.fireChannelActive();
    }

    Channel channel() {
        return ctx.channel();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (closing) {
            ReferenceCountUtil.release(msg);
        } else if (upstream != null && requestRead || !waiting.isEmpty()) {
            waiting.add(msg);
        } else {
            forward(msg);
        }
    }

    private void forward(Object msg) {
        if (msg instanceof HttpObject o && o.decoderResult().isFailure()) { // not HTTP/1.1: answered here, not passed on
            ReferenceCountUtil.release(msg);
            refuse(HttpResponseStatus.BAD_REQUEST);
            return;
        }
        if (msg instanceof HttpRequest request) {
            keepAlive = HttpUtil.isKeepAlive(request);
            requestRead = false;
            HttpHeaders h = request.headers();
            h.remove(HttpHeaderNames.CONNECTION); // hop by hop: the upstream connection is kept alive
            request.setProtocolVersion(HttpVersion.HTTP_1_1);
            String xff = h.get(X_FORWARDED_FOR);
            h.set(X_FORWARDED_FOR, xff == null ? clientIp : xff + ", " + clientIp);
            upstream = upstreams.acquire(this);
        }
        if (upstream == null) { // content after a request that was refused
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof LastHttpContent) {
            requestRead = true;
        }
        upstream.write(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        if (upstream != null) {
            upstream.flush();
        }
    }

    /** The upstream's response head: whether the client keeps its connection decides its Connection header. */
    void responseHead(HttpResponse response, boolean delimited) {
        if (!delimited) {
            keepAlive = false; // a body that ends at the upstream's close ends the client's connection too
        }
        HttpHeaders h = response.headers();
        h.remove(HttpHeaderNames.CONNECTION);
        if (!keepAlive) {
            h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        }
        response.setProtocolVersion(HttpVersion.HTTP_1_1);
    }

    void writeResponse(Object msg) {
        ctx.write(msg, ctx.voidPromise());
    }

    void flushResponse() {
        ctx.flush();
    }

    /**
     * The response's last part arrived: the upstream goes back to the pool (reading again, should a slow client have
     * stopped it) or is closed, and {@code last} is written — flushed at the read batch's end, or now if the client's
     * connection ends with it.
     */
    void responseDone(LastHttpContent last, boolean upstreamReusable) {
        UpstreamSide u = upstream;
        upstream = null;
        if (upstreamReusable) {
            u.resume(); // a pooled connection stopped by this client's backpressure would never read again
            upstreams.release(u);
        } else {
            u.close();
        }
        if (!keepAlive) {
            abandon();
            ctx.writeAndFlush(last).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        ctx.write(last, ctx.voidPromise());
        Object next; // the next pipelined request, head and body, if it was read already
        while ((upstream == null || !requestRead) && (next = waiting.poll()) != null) {
            forward(next);
        }
        if (upstream != null) {
            upstream.flush();
        }
    }

    /** The upstream could not be reached, or broke off before the response began. */
    void upstreamFailed(boolean responseStarted) {
        upstream = null;
        if (responseStarted) {
            abandon();
            ctx.close();
            return;
        }
        refuse(HttpResponseStatus.BAD_GATEWAY);
    }

    /** Answers {@code status} with an empty body and closes the connection. */
    private void refuse(HttpResponseStatus status) {
        abandon();
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status);
        r.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, 0).set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (upstream != null) {
            upstream.readWhile(ctx.channel().isWritable()); // a slow client stops the upstream's reads
        }
        ctx.fireChannelWritabilityChanged();
    }

    /** The upstream's socket filled up with a request body: stop reading the client until it drains. */
    void readWhile(boolean on) {
        ctx.channel().config().setAutoRead(on);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        abandon();
        ctx.fireChannelInactive();
    }

    /**
     * This connection takes no more requests: what was read ahead is dropped, and an upstream connection mid-exchange
     * is closed (its state is unknown).
     */
    private void abandon() {
        closing = true;
        releaseWaiting();
        if (upstream != null) {
            upstream.close();
            upstream = null;
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }

    private void releaseWaiting() {
        Object m;
        while ((m = waiting.poll()) != null) {
            ReferenceCountUtil.release(m);
        }
    }
}
