package io.sourcemesh.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpStatusClass;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.DefaultHttp2DataFrame;
import io.netty.handler.codec.http2.DefaultHttp2Headers;
import io.netty.handler.codec.http2.DefaultHttp2HeadersFrame;
import io.netty.handler.codec.http2.DefaultHttp2ResetFrame;
import io.netty.handler.codec.http2.DefaultHttp2WindowUpdateFrame;
import io.netty.handler.codec.http2.Http2DataFrame;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Headers;
import io.netty.handler.codec.http2.Http2HeadersFrame;
import io.netty.handler.codec.http2.HttpConversionUtil;
import io.netty.util.AsciiString;
import io.netty.util.ReferenceCountUtil;
import java.util.Map;

/**
 * One HTTP/2 stream as the HTTP/1 messages {@link HttpConnection} and {@link HttpStream} speak: the request's HEADERS
 * become an {@link HttpRequest} (pseudo-headers checked as Envoy's codec does, {@code :authority} its Host, cookie
 * crumbs joined), DATA its {@link HttpContent}s, trailing HEADERS its {@link LastHttpContent}'s trailers; the response
 * the other way, its connection-specific headers dropped. A malformed request head resets the stream with
 * PROTOCOL_ERROR and never reaches the connection manager, as Envoy's codec.
 *
 * <p>Flow control is the stream's backpressure: the bytes of DATA read are given back to the client (WINDOW_UPDATE)
 * only when the stream asks for more, which it does once what it read was written upstream.
 */
final class H2StreamCodec extends ChannelDuplexHandler {
    private static final AsciiString COOKIE = AsciiString.cached("cookie");
    private static final AsciiString PROTOCOL = Http2Headers.PseudoHeaderName.PROTOCOL.value();

    private final HttpConnectionManagerFilter filter;
    private final HttpConnection http;
    private boolean headersRead;
    /** The request is a HEAD: its response is headers only, whatever body or length the upstream gave. */
    private boolean headRequest;
    /**
     * A response head that cannot be followed by a body (204, 304, content-length 0, a HEAD's), held until its last part
     * comes so that one HEADERS frame ends the stream, as Envoy's codecs do (the HTTP/1 client codec defers such a head
     * to decode it with end_stream); null when none is held.
     */
    private Http2Headers heldHead;
    /**
     * The request is an RFC 8441 extended CONNECT (allow_connect): to the connection manager an HTTP/1.1 Upgrade of its
     * :protocol, as Envoy's transformUpgradeRequestFromH2toH1; an upstream 101 goes back as 200 (transformUpgradeResponse
     * FromH1toH2), and from then on the stream's DATA are the tunnel's bytes both ways.
     */
    private boolean extendedConnect;
    private boolean tunnel;
    /**
     * A response head went out on this stream, a 1xx included: Envoy's streamInfo().responseCode() is set (chargeStats
     * runs for the 100 Continue it sends itself and for a proxied 1xx too), so a reset now is not a premature one.
     */
    private boolean responded;
    /** DATA bytes handed on and not yet given back to the client's flow-control windows. */
    private int unacknowledged;

    H2StreamCodec(HttpConnectionManagerFilter filter, HttpConnection http) {
        this.filter = filter;
        this.http = http;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (tunnel) {
            if (msg instanceof Http2DataFrame data) {
                unacknowledged += data.initialFlowControlledBytes();
                ctx.fireChannelRead(data.content()); // (END_STREAM only half-closes; the tunnel ends when either side closes)
            } else {
                ReferenceCountUtil.release(msg);
            }
            return;
        }
        http.bytesArrived();
        if (msg instanceof Http2HeadersFrame headers) {
            if (!headersRead) {
                headersRead = true;
                extendedConnect = headers.headers().contains(PROTOCOL);
                if (extendedConnect && !filter.config.limits().http2().allowConnect()) {
                    reset(ctx, Http2Error.PROTOCOL_ERROR); // :protocol without SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3)
                    return;
                }
                HttpRequest request = extendedConnect ? upgrade(headers.headers()) : request(headers.headers(), headers.isEndStream());
                if (request == null) {
                    reset(ctx, Http2Error.PROTOCOL_ERROR);
                    return;
                }
                filter.rqHttp2Total.inc();
                headRequest = request.method() == HttpMethod.HEAD;
                ctx.fireChannelRead(request);
                if (headers.isEndStream() || extendedConnect) {
                    // (an Upgrade request has no body: what the client sends after it is the tunnel's)
                    ctx.fireChannelRead(LastHttpContent.EMPTY_LAST_CONTENT);
                }
            } else if (headers.isEndStream()) {
                LastHttpContent last = new DefaultLastHttpContent(Unpooled.EMPTY_BUFFER, SmallTrailers.FACTORY);
                if (!trailers(headers.headers(), last.trailingHeaders())) {
                    reset(ctx, Http2Error.PROTOCOL_ERROR);
                    return;
                }
                ctx.fireChannelRead(last);
            } else {
                reset(ctx, Http2Error.PROTOCOL_ERROR); // a second HEADERS that does not end the stream: RFC 9113 §8.1
            }
        } else if (msg instanceof Http2DataFrame data) {
            unacknowledged += data.initialFlowControlledBytes();
            ByteBuf content = data.content();
            ctx.fireChannelRead(data.isEndStream() ? new DefaultLastHttpContent(content) : new DefaultHttpContent(content));
        } else {
            // Nothing else is passed on: a client's RST_STREAM, for one, Netty follows by closing this channel once it
            // is read (HttpConnection's channelInactive).
            ReferenceCountUtil.release(msg);
        }
    }

    /** The stream asks for more: what it read so far was handled, so the client may send as much again. */
    @Override
    public void read(ChannelHandlerContext ctx) {
        if (unacknowledged > 0 && ctx.channel().isActive()) {
            int bytes = unacknowledged;
            unacknowledged = 0;
            ctx.write(new DefaultHttp2WindowUpdateFrame(bytes)).addListener(ChannelFutureListener.FIRE_EXCEPTION_ON_FAILURE);
            ctx.flush();
        }
        ctx.read();
    }

    boolean responded() {
        return responded;
    }

    private void reset(ChannelHandlerContext ctx, Http2Error error) {
        ctx.writeAndFlush(new DefaultHttp2ResetFrame(error)).addListener(ChannelFutureListener.CLOSE);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
        if (msg instanceof HttpResponse response) {
            responded = true;
            // (the conversion leaves out the connection-specific headers, transfer-encoding among them)
            Http2Headers headers = HttpConversionUtil.toHttp2Headers(response, false);
            if (extendedConnect && response.status().code() == 101) {
                // Envoy's transformUpgradeResponseFromH1toH2: the upgrade accepted is a 200 that leaves the stream open.
                ReferenceCountUtil.release(msg);
                headers.status(HttpResponseStatus.OK.codeAsText());
                ctx.write(new DefaultHttp2HeadersFrame(headers, false), promise);
                return;
            }
            boolean informational = response.status().codeClass() == HttpStatusClass.INFORMATIONAL;
            if (informational) {
                ReferenceCountUtil.release(msg);
                ctx.write(new DefaultHttp2HeadersFrame(headers, false), promise);
                return;
            }
            if (response instanceof LastHttpContent last && (headRequest || !last.content().isReadable() && last.trailingHeaders().isEmpty())) {
                last.release();
                ctx.write(new DefaultHttp2HeadersFrame(headers, true), promise);
                return;
            }
            if (!(response instanceof HttpContent)) {
                if (headRequest || bodyless(response)) {
                    heldHead = headers;
                    promise.trySuccess(); // the head is taken: what follows it at once ends the stream
                    return;
                }
                ctx.write(new DefaultHttp2HeadersFrame(headers, false), promise);
                return;
            }
            ctx.write(new DefaultHttp2HeadersFrame(headers, false));
        }
        if (msg instanceof ByteBuf bytes && tunnel) {
            ctx.write(new DefaultHttp2DataFrame(bytes, false), promise);
            return;
        }
        if (msg instanceof HttpContent content) {
            if (heldHead != null) {
                Http2Headers head = heldHead;
                if (content instanceof LastHttpContent last && (headRequest || !last.content().isReadable() && last.trailingHeaders().isEmpty())) {
                    heldHead = null;
                    last.release();
                    ctx.write(new DefaultHttp2HeadersFrame(head, true), promise);
                    return;
                }
                if (headRequest) {
                    content.release(); // a HEAD's response never has DATA (RFC 9113 §8.1.1)
                    promise.trySuccess();
                    return;
                }
                heldHead = null; // an upstream that sent a body after all: the head goes, then the body
                ctx.write(new DefaultHttp2HeadersFrame(head, false));
            }
            writeContent(ctx, content, promise);
            return;
        }
        ctx.write(msg, promise);
    }

    /** A response head that says no body follows: 204, 304 or content-length 0. */
    private static boolean bodyless(HttpResponse response) {
        int code = response.status().code();
        return code == 204 || code == 304 || "0".equals(response.headers().get(HttpHeaderNames.CONTENT_LENGTH));
    }

    private static void writeContent(ChannelHandlerContext ctx, HttpContent content, ChannelPromise promise) {
        ByteBuf body = content.content();
        if (!(content instanceof LastHttpContent last)) {
            ctx.write(new DefaultHttp2DataFrame(body, false), promise);
            return;
        }
        HttpHeaders trailing = last.trailingHeaders();
        if (trailing.isEmpty()) {
            ctx.write(new DefaultHttp2DataFrame(body, true), promise);
            return;
        }
        if (body.isReadable()) {
            ctx.write(new DefaultHttp2DataFrame(body, false));
        } else {
            body.release();
        }
        Http2Headers trailers = new DefaultHttp2Headers(false);
        HttpConversionUtil.toHttp2Headers(trailing, trailers);
        ctx.write(new DefaultHttp2HeadersFrame(trailers, true), promise);
    }

    /** A tunnel ending from the upstream's side ends the stream with END_STREAM (Envoy's encodeData end_stream) first. */
    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        if (tunnel && ctx.channel().isActive()) {
            tunnel = false;
            ctx.writeAndFlush(new DefaultHttp2DataFrame(true));
        }
        ctx.close(promise);
    }

    /** The upgrade was accepted (a 101 upstream): the stream's DATA carry the tunnel's bytes from now on. */
    void tunnel() {
        tunnel = true;
    }

    /**
     * An extended CONNECT as the HTTP/1.1 Upgrade it stands for (Envoy's transformUpgradeRequestFromH2toH1): GET of its
     * :path with {@code upgrade: <:protocol>} and {@code connection: upgrade}; null when malformed (RFC 8441 §4: :scheme
     * and :path required).
     */
    private static HttpRequest upgrade(Http2Headers in) {
        CharSequence path = in.path();
        if (!HttpMethod.CONNECT.asciiName().contentEquals(String.valueOf(in.method())) || in.scheme() == null
                || !validPath(path, HttpMethod.GET) || in.authority() == null) {
            return null;
        }
        Http2Headers h = new DefaultHttp2Headers(false);
        h.set(in);
        h.method(HttpMethod.GET.asciiName());
        CharSequence protocol = h.getAndRemove(PROTOCOL);
        HttpRequest request = request(h, true);
        if (request != null) {
            request.headers().set(HttpHeaderNames.UPGRADE, protocol).set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
        }
        return request;
    }

    /**
     * The request head, or null when it is malformed as Envoy's codec (nghttp2) reads HTTP/2 (RFC 9113 §8.3): no or an
     * unknown :method, a CONNECT with a :path or without :authority, another request without :scheme or with a :path that
     * is empty, not origin-form ("*" only for OPTIONS) or holds a control character or space. (Netty's decoder already
     * refused uppercase names, connection-specific headers, a TE other than trailers and misplaced pseudo-headers.)
     */
    private static HttpRequest request(Http2Headers in, boolean endStream) {
        CharSequence method = in.method();
        CharSequence path = in.path();
        CharSequence authority = in.authority();
        if (method == null) {
            return null;
        }
        HttpMethod m;
        try {
            m = HttpMethod.valueOf(method.toString());
        } catch (IllegalArgumentException e) {
            return null;
        }
        String uri;
        if (m == HttpMethod.CONNECT) {
            if (path != null || authority == null || authority.length() == 0) {
                return null;
            }
            uri = authority.toString();
        } else {
            if (in.scheme() == null || !validPath(path, m)) {
                return null;
            }
            uri = path.toString();
        }
        HttpHeaders out = FlatHeaders.FACTORY.newHeaders();
        StringBuilder cookies = null;
        for (Map.Entry<CharSequence, CharSequence> e : in) {
            CharSequence name = e.getKey();
            if (name.length() > 0 && name.charAt(0) == ':') {
                continue;
            }
            if (COOKIE.contentEqualsIgnoreCase(name)) {
                // RFC 9113 §8.2.3: crumbs are one header again for an HTTP/1.1 hop, joined by "; " (as Envoy does).
                cookies = cookies == null ? new StringBuilder() : cookies.append("; ");
                cookies.append(e.getValue());
                continue;
            }
            try {
                out.add(name, e.getValue());
            } catch (IllegalArgumentException bad) {
                return null; // a value HTTP/1.1 cannot carry (a CR, LF or NUL): malformed as nghttp2 reads it
            }
        }
        if (cookies != null) {
            out.set(HttpHeaderNames.COOKIE, cookies.toString());
        }
        if (authority != null) {
            out.set(HttpHeaderNames.HOST, authority); // Envoy's codec: :authority is the Host
        }
        if (!endStream && !out.contains(HttpHeaderNames.CONTENT_LENGTH)) {
            // A body of unknown length: chunked on the HTTP/1.1 hop (and its trailers with it).
            out.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
        return new DefaultHttpRequest(HttpVersion.HTTP_1_1, m, uri, out);
    }

    private static boolean validPath(CharSequence path, HttpMethod method) {
        if (path == null || path.length() == 0) {
            return false;
        }
        char first = path.charAt(0);
        if (first != '/' && !(method == HttpMethod.OPTIONS && path.length() == 1 && first == '*')) {
            return false;
        }
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c <= ' ' || c == 0x7f) {
                return false;
            }
        }
        return true;
    }

    /** The request's trailers: no pseudo-header among them (RFC 9113 §8.1). */
    private static boolean trailers(Http2Headers in, HttpHeaders out) {
        for (Map.Entry<CharSequence, CharSequence> e : in) {
            CharSequence name = e.getKey();
            if (name.length() > 0 && name.charAt(0) == ':') {
                return false;
            }
            try {
                out.add(name, e.getValue());
            } catch (IllegalArgumentException bad) {
                return false;
            }
        }
        return true;
    }
}
