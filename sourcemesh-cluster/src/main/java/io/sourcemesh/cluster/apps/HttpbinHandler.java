package io.sourcemesh.cluster.apps;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.NetUtil;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One connection, served the way gunicorn serves httpbin: a whole request body is read before the
 * view runs (chunked bodies included), requests are answered strictly in order (a pipelined
 * request waits behind a /delay), and each answer gets one access-log line.
 */
final class HttpbinHandler extends ChannelInboundHandlerAdapter {
    static final String SERVER = "gunicorn/19.9.0";
    /** gunicorn itself has no limit; this one keeps a runaway upload from eating the heap. */
    static final int MAX_BODY = 16 * 1024 * 1024;
    private static final DateTimeFormatter HTTP_DATE =
            DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.ENGLISH).withZone(ZoneOffset.UTC);

    private record Pending(HttpbinRequest request, boolean keepAlive, HttpVersion version) {}

    private final Consumer<String> log;
    private final String serverName;
    private final ArrayDeque<Pending> queue = new ArrayDeque<>();
    private HttpRequest head;
    private List<Map.Entry<String, String>> headHeaders;
    private ByteArrayOutputStream body;
    private boolean busy;
    private boolean closing;
    private ScheduledFuture<?> timer;

    HttpbinHandler(Consumer<String> log, String serverName) {
        this.log = log;
        this.serverName = serverName;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        try {
            if (closing) {
                return;
            }
            if (msg instanceof HttpRequest request) {
                if (request.decoderResult().isFailure()) {
                    badRequest(ctx, 400, "Bad Request", "The browser (or proxy) sent a request that this server"
                            + " could not understand.");
                    return;
                }
                head = request;
                headHeaders = new ArrayList<>();
                for (Map.Entry<String, String> h : request.headers()) {
                    headHeaders.add(Map.entry(h.getKey(), h.getValue()));
                }
                body = new ByteArrayOutputStream();
            }
            if (msg instanceof HttpContent content && head != null) {
                if (content.decoderResult().isFailure()) {
                    badRequest(ctx, 400, "Bad Request", "The browser (or proxy) sent a request that this server"
                            + " could not understand.");
                    return;
                }
                int size = content.content().readableBytes();
                if (body.size() + size > MAX_BODY) {
                    badRequest(ctx, 413, "Request Entity Too Large", "The data value transmitted exceeds the"
                            + " capacity limit.");
                    return;
                }
                content.content().getBytes(content.content().readerIndex(), body, size);
                if (content instanceof LastHttpContent) {
                    queue.add(new Pending(request(ctx), HttpUtil.isKeepAlive(head), head.protocolVersion()));
                    head = null;
                    body = null;
                    drain(ctx);
                }
            }
        } catch (IOException e) { // copying the body into memory cannot really fail
            ctx.close();
        } finally {
            ReferenceCountUtil.release(msg);
        }
    }

    private HttpbinRequest request(ChannelHandlerContext ctx) {
        InetSocketAddress peer = (InetSocketAddress) ctx.channel().remoteAddress();
        return HttpbinRequest.of(head.method().name(), head.uri(), head.protocolVersion().text(), headHeaders,
                body.toByteArray(), NetUtil.toAddressString(peer.getAddress()), serverName);
    }

    private void drain(ChannelHandlerContext ctx) {
        while (!busy && !closing && !queue.isEmpty()) {
            busy = true;
            Pending p = queue.poll();
            HttpbinReply reply;
            try {
                reply = HttpbinRoutes.handle(p.request());
            } catch (RuntimeException e) {
                reply = HttpbinRoutes.internalError();
            }
            if (reply.delay().isPositive()) {
                HttpbinReply delayed = reply;
                // scheduled on this connection's own loop: the loop keeps serving everyone else meanwhile
                timer = ctx.executor().schedule(() -> {
                    timer = null;
                    respond(ctx, p, delayed.later());
                    drain(ctx);
                }, reply.delay().toNanos(), TimeUnit.NANOSECONDS);
            } else {
                respond(ctx, p, reply);
            }
        }
    }

    private void respond(ChannelHandlerContext ctx, Pending p, HttpbinReply reply) {
        HttpbinRequest r = p.request();
        boolean head = r.method().equals("HEAD");
        boolean streamed = reply.chunks() != null && p.version() == HttpVersion.HTTP_1_1;
        byte[] bytes = reply.body();
        if (reply.chunks() != null && !streamed) { // HTTP/1.0 has no chunks: send it whole
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            reply.chunks().forEach(all::writeBytes);
            bytes = all.toByteArray();
        }
        HttpResponseStatus status = new HttpResponseStatus(reply.status(), StatusLine.reason(reply.status()));
        HttpResponse response = streamed || head
                ? new DefaultHttpResponse(p.version(), status)
                : new DefaultFullHttpResponse(p.version(), status, Unpooled.wrappedBuffer(bytes));
        HttpHeaders h = response.headers();
        h.add("Server", SERVER);
        h.add("Date", HTTP_DATE.format(ZonedDateTime.now()));
        h.add("Connection", p.keepAlive() ? "keep-alive" : "close");
        reply.headers().forEach(e -> h.add(e.getKey(), e.getValue()));
        if (streamed) {
            h.add("Transfer-Encoding", "chunked");
        } else if (reply.status() != 304 && !(reply.status() >= 100 && reply.status() < 200)) {
            h.add("Content-Length", Integer.toString(bytes.length));
        }
        h.add("Access-Control-Allow-Origin", r.header("Origin").orElse("*"));
        h.add("Access-Control-Allow-Credentials", "true");
        if (r.method().equals("OPTIONS")) {
            h.add("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, PATCH, OPTIONS");
            h.add("Access-Control-Max-Age", "3600");
            r.header("Access-Control-Request-Headers").ifPresent(v -> h.add("Access-Control-Allow-Headers", v));
        }
        long sent = 0;
        if (head) {
            ctx.write(response);
            ctx.write(LastHttpContent.EMPTY_LAST_CONTENT);
        } else if (streamed) {
            ctx.write(response);
            for (byte[] chunk : reply.chunks()) {
                ctx.write(new DefaultHttpContent(Unpooled.wrappedBuffer(chunk)));
                sent += chunk.length;
            }
            ctx.write(LastHttpContent.EMPTY_LAST_CONTENT);
        } else {
            ctx.write(response);
            sent = bytes.length;
        }
        var written = ctx.writeAndFlush(Unpooled.EMPTY_BUFFER);
        log(r, reply.status(), sent);
        busy = false;
        if (!p.keepAlive()) {
            closing = true;
            written.addListener(ChannelFutureListener.CLOSE);
        }
    }

    private void badRequest(ChannelHandlerContext ctx, int code, String name, String description) {
        closing = true;
        queue.clear();
        HttpbinReply reply = HttpbinRoutes.error(code, name, description);
        var response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                new HttpResponseStatus(code, StatusLine.reason(code)), Unpooled.wrappedBuffer(reply.body()));
        response.headers().add("Server", SERVER).add("Date", HTTP_DATE.format(ZonedDateTime.now()))
                .add("Connection", "close").add("Content-Type", "text/html")
                .add("Content-Length", Integer.toString(reply.body().length));
        ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }

    /** gunicorn's default access_log_format: %(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s". */
    private void log(HttpbinRequest r, int status, long sent) {
        if (log == null) {
            return;
        }
        try {
            log.accept(GunicornLog.line(r, status, sent, ZonedDateTime.now()));
        } catch (RuntimeException e) {
            // a failing log sink must not fail the request
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (timer != null) {
            timer.cancel(false);
        }
        queue.clear();
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close(); // connection resets and the like: gunicorn just drops the socket too
    }
}
