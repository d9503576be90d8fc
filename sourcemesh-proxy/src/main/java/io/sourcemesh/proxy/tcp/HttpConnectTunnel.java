package io.sourcemesh.proxy.tcp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.nio.charset.StandardCharsets;

/**
 * tcp_proxy's tunneling_config over HTTP/1.1, as Envoy's Http1Upstream (source/common/tcp_proxy/upstream.cc): once the
 * upstream connection is ready, a CONNECT request for the hostname; a 2xx response opens the tunnel (its head is
 * consumed, any bytes after it are the tunnel's), anything else — another status, a close, a head that never ends —
 * fails it. The client's bytes wait in the downstream relay meanwhile: nothing is sent before the tunnel is up.
 */
final class HttpConnectTunnel extends ChannelInboundHandlerAdapter {
    /** Envoy's default max_response_headers_kb is 60: a longer head is a protocol error. */
    static final int MAX_HEAD = 60 * 1024;

    /** Why a tunnel was not established: the access log's upstream transport failure reason. */
    static final class Refused extends Exception {
        Refused(String reason) {
            super(reason, null, false, false);
        }
    }

    private final Promise<Void> established;
    /** The response's bytes so far, one component per read (not a wrapper per read, which nests). */
    private CompositeByteBuf head;
    /** How far {@link #head} was searched for the blank line: each read searches only what it added. */
    private int searched;

    private HttpConnectTunnel(Promise<Void> established) {
        this.established = established;
    }

    /**
     * Sends the CONNECT on {@code upstream} and reads its response in a handler placed before {@code relay}'s; the future
     * succeeds once the tunnel is up (the handler removed), or fails with {@link Refused}.
     */
    static Future<Void> open(Channel upstream, ChannelHandlerContext relay, String hostname) {
        Promise<Void> established = upstream.eventLoop().newPromise();
        upstream.pipeline().addBefore(relay.name(), "connect_tunnel", new HttpConnectTunnel(established));
        byte[] request = ("CONNECT " + hostname + " HTTP/1.1\r\nhost: " + hostname + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
        upstream.writeAndFlush(Unpooled.wrappedBuffer(request)).addListener(f -> {
            if (!f.isSuccess()) {
                established.tryFailure(new Refused("the CONNECT request could not be sent: " + f.cause().getMessage()));
            }
        });
        upstream.read();
        return established;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (established.isDone() || !(msg instanceof ByteBuf in)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (head == null) {
            head = ctx.alloc().compositeBuffer(Integer.MAX_VALUE);
        }
        head.addComponent(true, in);
        int end = headEnd(head, searched);
        searched = Math.max(0, head.writerIndex() - 3);
        if (end < 0 ? head.readableBytes() > MAX_HEAD : end + 4 > MAX_HEAD) {
            fail(ctx, "the CONNECT response's head is over " + MAX_HEAD + " bytes");
            return;
        }
        if (end < 0) {
            ctx.read();
            return;
        }
        int status = status(head, end - head.readerIndex());
        if (status < 200 || status > 299) {
            fail(ctx, status < 0 ? "the CONNECT response is not HTTP/1.x" : "the CONNECT response's status is " + status);
            return;
        }
        head.readerIndex(end + 4);
        ByteBuf rest = head;
        head = null;
        if (rest.isReadable()) {
            ctx.fireChannelRead(rest); // the server spoke first: the tunnel's first bytes
        } else {
            rest.release();
        }
        ctx.pipeline().remove(this);
        established.setSuccess(null);
    }

    /** Where the blank line that ends the head starts (an absolute index, searched from {@code from}), else -1. */
    private static int headEnd(ByteBuf b, int from) {
        for (int i = Math.max(from, b.readerIndex()), last = b.writerIndex() - 4; i <= last; i++) {
            if (b.getByte(i) == '\r' && b.getByte(i + 1) == '\n' && b.getByte(i + 2) == '\r' && b.getByte(i + 3) == '\n') {
                return i;
            }
        }
        return -1;
    }

    /** The status of a response line "HTTP/1.x NNN ...", else -1. */
    private static int status(ByteBuf head, int length) {
        String line = head.toString(head.readerIndex(), Math.min(length, 256), StandardCharsets.US_ASCII);
        int eol = line.indexOf("\r\n");
        line = eol < 0 ? line : line.substring(0, eol);
        if (!(line.startsWith("HTTP/1.1 ") || line.startsWith("HTTP/1.0 ")) || line.length() < 12
                || (line.length() > 12 && line.charAt(12) != ' ')) {
            return -1;
        }
        int code = 0;
        for (int i = 9; i < 12; i++) {
            char c = line.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            code = code * 10 + (c - '0');
        }
        return code;
    }

    private void fail(ChannelHandlerContext ctx, String reason) {
        release();
        established.tryFailure(new Refused(reason));
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        release();
        established.tryFailure(new Refused("the upstream closed before the CONNECT response"));
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        fail(ctx, String.valueOf(cause.getMessage()));
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        release();
    }

    private void release() {
        if (head != null) {
            head.release();
            head = null;
        }
    }
}
