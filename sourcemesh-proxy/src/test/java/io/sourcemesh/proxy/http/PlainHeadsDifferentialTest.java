package io.sourcemesh.proxy.http;

import static org.junit.jupiter.api.Assertions.*;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.FullHttpMessage;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The codecs with {@link PlainHeads} in front against the same codecs without it (every request by Netty's decoder
 * as the proxy configures it: same limits, strict lines, RFC 9112 framing; every response head by
 * {@link ResponseHeads}, Envoy's codec's reading, then Netty's decoder for the body): a corpus of valid and malformed
 * requests and responses — chunked, obs-fold, bare LF and CR, duplicate and signed Content-Length, Content-Length
 * with Transfer-Encoding, huge heads, pipelining, upgrades, truncated messages — fed whole, a byte at a time and in
 * 7-byte pieces, must give the same accept/reject decisions and the same messages, header lines, bodies and trailers.
 */
class PlainHeadsDifferentialTest {
    private static final int MAX = 60 * 1024;

    private static HttpDecoderConfig downstreamConfig() {
        return new HttpDecoderConfig().setMaxInitialLineLength(MAX).setMaxHeaderSize(MAX).setMaxChunkSize(64 * 1024)
                .setStrictLineParsing(true).setUseRfc9112TransferEncoding(true).setAllowDuplicateContentLengths(false);
    }

    private static final String H = "Host: x\r\n";
    private static final List<String> REQUESTS = List.of(
            "GET / HTTP/1.1\r\n" + H + "\r\n",
            "GET /a?b=c&d=%20 HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n",
            "POST /u HTTP/1.1\r\n" + H + "Content-Length: 5\r\n\r\nhello",
            "POST /u HTTP/1.1\r\n" + H + "Content-Length: 0\r\n\r\n",
            "POST /u HTTP/1.1\r\n" + H + "Content-Length: 005\r\n\r\nhello",
            "GET / HTTP/1.1\r\n" + H + "\r\nPOST /u HTTP/1.1\r\n" + H + "Content-Length: 5\r\n\r\nhelloGET /b HTTP/1.1\r\n" + H + "\r\n",
            "POST /u HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nx-t: 1\r\n\r\nGET /n HTTP/1.1\r\n" + H + "\r\n",
            "POST /u HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n0\r\n\r\n",
            "POST /u HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n5\r\nhelloEXTRA\r\n0\r\n\r\n",
            "POST /u HTTP/1.1\r\n" + H + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
            "POST /u HTTP/1.1\r\n" + H + "Transfer-Encoding: gzip\r\n\r\n",
            "POST /u HTTP/1.1\r\n" + H + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            "POST /u HTTP/1.1\r\n" + H + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            "POST /u HTTP/1.1\r\n" + H + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
            "POST /u HTTP/1.1\r\n" + H + "Content-Length: 5, 5\r\n\r\nhello",
            "POST /u HTTP/1.1\r\n" + H + "Content-Length: +5\r\n\r\nhello",
            "POST /u HTTP/1.1\r\n" + H + "Content-Length: -1\r\n\r\nhello",
            "POST /u HTTP/1.1\r\n" + H + "Content-Length: 5a\r\n\r\nhello",
            "POST /u HTTP/1.1\r\n" + H + "Content-Length:  5 \t\r\n\r\nhello",
            "POST /u HTTP/1.1\r\n" + H + "Content-Length: 99999999999999999999\r\n\r\nhello",
            "POST /u HTTP/1.1\r\n" + H + "Content-Length: 999999999999999999\r\n\r\nhello",
            "POST /u HTTP/1.1\r\n" + H + "Content-Length: 10\r\n\r\nhel",
            "GET / HTTP/1.1\r\n" + H,
            "GET / HTT",
            "GET / HTTP/1.1\r\n" + H + "X-A: a\r\n  b\r\n\r\n",
            "GET / HTTP/1.1\r\n" + H + "X-A: a\r\n\tb\r\n\r\n",
            "GET / HTTP/1.1\nHost: x\n\n",
            "GET / HTTP/1.1\r\nHost: x\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\r\n\n",
            "GET / HTTP/1.1\rHost: x\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: x\rY: z\r\n\r\n",
            "GET / HTTP/1.1\r\nHost : x\r\n\r\n",
            "GET / HTTP/1.1\r\nHost\t: x\r\n\r\n",
            "GET / HTTP/1.1\r\n : x\r\n\r\n",
            "GET / HTTP/1.1\r\n: x\r\n\r\n",
            "GET / HTTP/1.1\r\nNoColon\r\n\r\n",
            "GET / HTTP/1.1\r\nX@A: 1\r\n\r\n",
            "GET / HTTP/1.1\r\nX\u0080: 1\r\n\r\n",
            "GET / HTTP/1.1\r\nX-A: caf\u00e9\r\n\r\n",
            "GET / HTTP/1.1\r\nX-A: a\u0000b\r\n\r\n",
            "GET / HTTP/1.1\r\nX-A: a\u0001b\r\n\r\n",
            "GET / HTTP/1.1\r\nX-A: a\u007fb\r\n\r\n",
            "GET / HTTP/1.1\r\nX-A: a\tb  \r\nX-E:\r\nX-F: \r\n" + H + "\r\n",
            "GET / HTTP/1.1\r\nX-A: \u000bb\r\n\r\n",
            "get / HTTP/1.1\r\n" + H + "\r\n",
            "FOO / HTTP/1.1\r\n" + H + "\r\n",
            "PURGE /x HTTP/1.1\r\n" + H + "\r\n",
            "GET  / HTTP/1.1\r\n" + H + "\r\n",
            "GET /  HTTP/1.1\r\n" + H + "\r\n",
            "GET / HTTP/1.1 \r\n" + H + "\r\n",
            "GET\t/\tHTTP/1.1\r\n" + H + "\r\n",
            "GET / HTTP/1.2\r\n" + H + "\r\n",
            "GET / HTTP/2.0\r\n" + H + "\r\n",
            "GET / http/1.1\r\n" + H + "\r\n",
            "GET / HTTP/1.0\r\n\r\n",
            "GET / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "GET /a\u0001b HTTP/1.1\r\n" + H + "\r\n",
            "GET /a\u007fb HTTP/1.1\r\n" + H + "\r\n",
            "GET /caf\u00e9 HTTP/1.1\r\n" + H + "\r\n",
            "GET http://a.example/b?c#d HTTP/1.1\r\n" + H + "\r\n",
            "OPTIONS * HTTP/1.1\r\n" + H + "\r\n",
            "GET /\r\n\r\n",
            "GET\r\n\r\n",
            "\r\n\r\nGET / HTTP/1.1\r\n" + H + "\r\n",
            " GET / HTTP/1.1\r\n" + H + "\r\n",
            "\u0000GET / HTTP/1.1\r\n" + H + "\r\n",
            "POST /u HTTP/1.1\r\n" + H + "Content-Length: 5\r\nExpect: 100-continue\r\n\r\nhello",
            "GET /ws HTTP/1.1\r\n" + H + "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\nraw bytes",
            "GET /ws HTTP/1.1\r\n" + H + "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key1: 4 @1  46546xW%0l 1 5\r\n"
                    + "Sec-WebSocket-Key2: 12998 5 Y3 1  .P00\r\n\r\n^n:ds[4U",
            "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\nGET /smuggled HTTP/1.1\r\n" + H + "\r\n",
            "GET / HTTP/1.1\r\n" + H + "x-big: " + "a".repeat(20_000) + "\r\n\r\n",
            "GET / HTTP/1.1\r\n" + H + "x-big: " + "a".repeat(40_000) + "\r\n\r\n",
            "GET / HTTP/1.1\r\n" + H + "x-big: " + "a".repeat(61 * 1024) + "\r\n\r\n",
            "GET /" + "a".repeat(61 * 1024) + " HTTP/1.1\r\n" + H + "\r\n",
            "GET / HTTP/1.1\r\n" + H + "x-h: v\r\n".repeat(150) + "\r\n",
            "GET / HTTP/1.1\r\n" + H + "Host: y\r\n\r\n",
            "GET / HTTP/1.1\r\n" + H + "Connection: close\r\nX-Request-Id: abc\r\nX-Forwarded-For: 1.2.3.4\r\n\r\n");

    private static final List<String> RESPONSES = List.of(
            "HTTP/1.1 200 OK\r\nServer: nginx/1.24.0\r\nDate: Thu, 03 Dec 2026 11:00:00 GMT\r\nContent-Type: application/json\r\n"
                    + "Content-Length: 2\r\nConnection: keep-alive\r\n\r\nok",
            "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 200 Fine\r\nContent-Length: 2\r\n\r\nok",
            "HTTP/1.1 200 \r\nContent-Length: 2\r\n\r\nok",
            "HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok",
            "HTTP/1.1 200 O\tK\r\nContent-Length: 2\r\n\r\nok",
            "HTTP/1.1 299 Whatever\r\nContent-Length: 2\r\n\r\nok",
            "HTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\nx",
            "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
            "HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n",
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nraw frames",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nx-checksum: 42\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n2\r\nok\r\n0\r\n\r\n",
            "HTTP/1.1 200 OK\r\n\r\nuntil the end",
            "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
            "HTTP/2.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
            "HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\nok",
            "HTTP/1.1 abc OK\r\nContent-Length: 2\r\n\r\nok",
            "HTTP/1.1 099 X\r\nContent-Length: 2\r\n\r\nok",
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
            "HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\nok",
            "HTTP/1.1 200 OK\r\nServer : x\r\nContent-Length: 2\r\n\r\nok",
            "HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 2\r\n\r\nok",
            "HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil",
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA",
            "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n",
            "HTTP/1.1 200 OK\r\nX-Big: " + "b".repeat(5000) + "\r\nContent-Length: 2\r\n\r\nok",
            "HTTP/1.1 200 OK\r\nX-Big: " + "b".repeat(70_000) + "\r\nContent-Length: 2\r\n\r\nok",
            "HTTP/1.1 200 OK\r\nX-A: caf\u00e9\r\nContent-Length: 2\r\n\r\nok");

    // ---- decoding to a comparable transcript ------------------------------------------------------

    /** A whole message (the fast path's response with its body) as Netty's decoder gives it: its head, then its last part. */
    private static List<String> describeAll(Object o) {
        if (o instanceof FullHttpMessage whole) {
            return List.of(describeHead(whole), describeContent(whole));
        }
        return List.of(describe(o));
    }

    private static String describeHead(HttpMessage m) {
        StringBuilder b = new StringBuilder();
        if (m instanceof HttpResponse r) {
            // no reason phrase: the encoder writes Envoy's for the code, whatever the decoder kept (StatusLines)
            b.append("RES ").append(r.protocolVersion()).append(' ').append(r.status().code());
        }
        return b.append(' ').append(result(m)).append(headerLines(m.headers())).toString();
    }

    private static String describeContent(LastHttpContent last) {
        return "LAST " + last.content().toString(StandardCharsets.ISO_8859_1) + ' ' + result(last) + " trailers"
                + headerLines(last.trailingHeaders());
    }

    private static String describe(Object o) {
        StringBuilder b = new StringBuilder();
        if (o instanceof HttpRequest r) {
            b.append("REQ ").append(r.method()).append(' ').append(r.uri()).append(' ').append(r.protocolVersion());
        } else if (o instanceof HttpResponse r) {
            // no reason phrase: the encoder writes Envoy's for the code, whatever the decoder kept (StatusLines)
            b.append("RES ").append(r.protocolVersion()).append(' ').append(r.status().code());
        }
        if (o instanceof HttpMessage m) {
            b.append(' ').append(result(m)).append(headerLines(m.headers()));
        }
        if (o instanceof HttpContent c) {
            b.append(c instanceof LastHttpContent ? "LAST " : "BODY ").append(c.content().toString(StandardCharsets.ISO_8859_1))
                    .append(' ').append(result(c));
            if (c instanceof LastHttpContent last) {
                b.append(" trailers").append(headerLines(last.trailingHeaders()));
            }
        }
        if (o instanceof ByteBuf raw) {
            b.append("RAW ").append(raw.toString(StandardCharsets.ISO_8859_1));
        }
        return b.toString();
    }

    private static String result(HttpObject o) {
        return o.decoderResult().isSuccess() ? "ok" : "refused(" + o.decoderResult().cause().getClass().getSimpleName() + ")";
    }

    private static List<String> headerLines(HttpHeaders h) {
        List<String> lines = new ArrayList<>();
        for (var it = h.iteratorCharSequence(); it.hasNext(); ) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            lines.add(e.getKey() + ": " + e.getValue());
        }
        return lines;
    }

    /** Feeds {@code input} in pieces of {@code piece} bytes (0: whole), then closes; returns what came out, bodies joined. */
    private static List<String> decode(ChannelHandler decoder, String input, int piece, List<HttpMethod> sent) {
        EmbeddedChannel ch = new EmbeddedChannel(decoder);
        for (HttpMethod m : sent) {
            ch.writeOutbound(new DefaultHttpRequest(HttpVersion.HTTP_1_1, m, "/"), LastHttpContent.EMPTY_LAST_CONTENT);
        }
        ch.releaseOutbound();
        byte[] bytes = input.getBytes(StandardCharsets.ISO_8859_1);
        List<String> out = new ArrayList<>();
        StringBuilder body = new StringBuilder();
        Runnable drain = () -> {
            for (Object o; (o = ch.readInbound()) != null; ) {
                if (o instanceof HttpContent c && !(c instanceof LastHttpContent) && c.decoderResult().isSuccess()) {
                    body.append(c.content().toString(StandardCharsets.ISO_8859_1)); // pieces differ with the feeding
                } else {
                    if (!body.isEmpty()) {
                        out.add("BODY " + body);
                        body.setLength(0);
                    }
                    out.addAll(describeAll(o));
                }
                ReferenceCountUtil.release(o);
            }
        };
        int step = piece == 0 ? bytes.length : piece;
        for (int i = 0; i < bytes.length && ch.isOpen(); i += step) {
            ch.writeInbound(Unpooled.wrappedBuffer(bytes, i, Math.min(step, bytes.length - i)));
            drain.run();
        }
        ch.finish();
        drain.run();
        if (!body.isEmpty()) {
            out.add("BODY " + body);
        }
        ch.finishAndReleaseAll();
        return out;
    }

    private static void compare(Supplier<ChannelHandler> ours, Supplier<ChannelHandler> netty, String input, List<HttpMethod> sent) {
        for (int piece : input.length() > 5000 ? new int[] {0, 1000} : new int[] {0, 1, 7}) {
            List<String> expected = decode(netty.get(), input, piece, sent);
            List<String> actual = decode(ours.get(), input, piece, sent);
            String shown = input.length() > 300 ? input.substring(0, 300) + "..." : input;
            assertEquals(expected, actual, "pieces of " + piece + ": " + shown.replace("\r", "\\r").replace("\n", "\\n"));
        }
    }

    @Test
    void requestsDecodeAsNettysServerCodecDid() {
        for (String request : REQUESTS) {
            compare(() -> new ServerCodec(downstreamConfig().setHeadersFactory(FlatHeaders.FACTORY).setTrailersFactory(SmallTrailers.FACTORY)),
                    () -> new ServerCodec(downstreamConfig().setHeadersFactory(FlatHeaders.FACTORY).setTrailersFactory(SmallTrailers.FACTORY),
                            null, false), request, List.of());
        }
    }

    @Test
    void responsesDecodeAsNettysResponseDecoderDid() {
        for (String response : RESPONSES) {
            for (List<HttpMethod> sent : List.of(List.of(HttpMethod.GET, HttpMethod.GET), List.of(HttpMethod.HEAD, HttpMethod.GET))) {
                compare(() -> new UpstreamCodec(MAX), () -> new UpstreamCodec(MAX, null, false), response, sent);
            }
        }
    }

    @Test
    void plainMessagesTakeTheFastPath() {
        EmbeddedChannel ch = new EmbeddedChannel(new ServerCodec(downstreamConfig().setHeadersFactory(FlatHeaders.FACTORY)
                .setTrailersFactory(SmallTrailers.FACTORY)));
        ch.writeInbound(Unpooled.copiedBuffer("POST /u HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok", StandardCharsets.US_ASCII));
        HttpRequest request = ch.readInbound();
        assertInstanceOf(FlatHeaders.class, request.headers());
        CharSequence host = ((FlatHeaders) request.headers()).value("host");
        assertInstanceOf(io.netty.util.AsciiString.class, host, "a value is a slice of the head, not a String");
        LastHttpContent last = ch.readInbound();
        assertEquals("ok", last.content().toString(StandardCharsets.US_ASCII));
        assertTrue(last.trailingHeaders().isEmpty());
        last.release();
        ch.finishAndReleaseAll();
    }

    /**
     * A plain response whose body is in the buffer with its head (or that has none) is one message; one whose
     * body comes later is its head, then its body.
     */
    @Test
    void aWholeResponseIsOneMessage() {
        EmbeddedChannel ch = new EmbeddedChannel(new UpstreamCodec(MAX));
        ch.writeOutbound(new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/"), LastHttpContent.EMPTY_LAST_CONTENT);
        ch.writeOutbound(new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.HEAD, "/"), LastHttpContent.EMPTY_LAST_CONTENT);
        ch.writeOutbound(new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/"), LastHttpContent.EMPTY_LAST_CONTENT);
        ch.releaseOutbound();
        ch.writeInbound(Unpooled.copiedBuffer("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n" // HEAD: no body
                + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n", StandardCharsets.US_ASCII));
        FullHttpMessage withBody = assertInstanceOf(FullHttpMessage.class, ch.readInbound());
        assertEquals("ok", withBody.content().toString(StandardCharsets.US_ASCII));
        assertTrue(withBody.trailingHeaders().isEmpty());
        withBody.release();
        FullHttpMessage head = assertInstanceOf(FullHttpMessage.class, ch.readInbound());
        assertFalse(head.content().isReadable());
        assertEquals("2", head.headers().get("Content-Length"));
        HttpResponse bodyLater = ch.readInbound();
        assertFalse(bodyLater instanceof LastHttpContent, "the body is not here yet");
        assertNull(ch.readInbound());
        ch.writeInbound(Unpooled.copiedBuffer("ok", StandardCharsets.US_ASCII));
        LastHttpContent last = ch.readInbound();
        assertEquals("ok", last.content().toString(StandardCharsets.US_ASCII));
        last.release();
        assertFalse(ch.finish());
    }

    /** A plain head longer than one step of the scan, in one buffer or in pieces, takes the fast path whole. */
    @Test
    void longPlainHeadsTakeTheFastPath() {
        String head = "POST /u HTTP/1.1\r\nHost: x\r\n" + "x-h: v\r\n".repeat(300) + "content-length: 2\r\n\r\n";
        for (int piece : new int[] {head.length() + 2, 700, 1}) {
            PlainHeads fast = new PlainHeads(true, 64 * 1024, 8192, m -> false);
            io.netty.buffer.ByteBuf in = Unpooled.buffer();
            List<Object> out = new ArrayList<>();
            byte[] bytes = head.getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < bytes.length; i += piece) {
                in.writeBytes(bytes, i, Math.min(piece, bytes.length - i));
                assertTrue(fast.decode(in, out), "plain so far, at " + i);
            }
            in.writeBytes("ok".getBytes(StandardCharsets.US_ASCII));
            assertTrue(fast.decode(in, out));
            HttpRequest request = (HttpRequest) out.get(0);
            assertEquals(302, request.headers().size(), "pieces of " + piece);
            assertEquals("2", request.headers().get("Content-Length"));
            assertEquals("ok", ((LastHttpContent) out.get(1)).content().toString(StandardCharsets.US_ASCII));
            assertTrue(fast.tookLast());
            out.forEach(ReferenceCountUtil::release);
            in.release();
        }
    }

    /** Shared spellings of the framing names are told apart by identity: Transfer-Encoding is Netty's, Content-Length frames. */
    @Test
    void sharedFramingNamesAreRecognised() {
        for (String te : new String[] {"Transfer-Encoding", "transfer-encoding", "TRANSFER-ENCODING"}) {
            PlainHeads fast = new PlainHeads(true, 64 * 1024, 8192, m -> false);
            io.netty.buffer.ByteBuf in = Unpooled.copiedBuffer("POST / HTTP/1.1\r\nHost: x\r\n" + te + ": chunked\r\n\r\n",
                    StandardCharsets.US_ASCII);
            assertFalse(fast.decode(in, new ArrayList<>()), te);
            in.release();
        }
        for (String cl : new String[] {"Content-Length", "content-length", "CONTENT-LENGTH"}) {
            PlainHeads fast = new PlainHeads(true, 64 * 1024, 8192, m -> false);
            io.netty.buffer.ByteBuf in = Unpooled.copiedBuffer("POST / HTTP/1.1\r\nHost: x\r\n" + cl + ": 3\r\n\r\n",
                    StandardCharsets.US_ASCII);
            List<Object> out = new ArrayList<>();
            assertTrue(fast.decode(in, out), cl);
            assertEquals(1, out.size(), cl + ": a body of 3 bytes is awaited");
            assertFalse(fast.betweenMessages());
            out.forEach(ReferenceCountUtil::release);
            in.release();
        }
    }
}
