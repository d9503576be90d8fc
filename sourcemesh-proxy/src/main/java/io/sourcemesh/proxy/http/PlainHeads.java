package io.sourcemesh.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.AsciiString;
import io.netty.util.concurrent.FastThreadLocal;
import java.util.Arrays;
import java.util.List;

/**
 * The codecs' fast path for plain HTTP/1.1 messages, in front of Netty's decoder. A head that is
 * complete in the buffer and plain — CRLF lines only, a known method (requests) or a 2xx–5xx status
 * (responses), token names, visible-ASCII values, no obs-fold, no Transfer-Encoding, at most one
 * all-digit Content-Length, no Upgrade — is parsed here in one pass: the header block is copied
 * once and each name and value is an {@link AsciiString} slice of that copy (no String per value
 * until one is read), the headers are sized to the head, and a Content-Length body ends in a last
 * part whose trailers are one shared, read-only empty set (such a body has none). A response whose
 * body (if any) is all in the buffer is one message, head and body together. Anything else — the
 * first byte of a message that is not plain, a head not yet complete within the limits, chunked
 * bodies, interim responses — goes to Netty's decoder for the whole message, which keeps Netty's
 * accept/reject decisions ({@code PlainHeadsDifferentialTest} holds the two to the same results
 * over a corpus of valid and malformed messages). Once Netty refused a message or the connection
 * switched protocols, Netty keeps the connection.
 */
final class PlainHeads {
    /** What the owning decoder gives the fast path: its own hooks, so both paths agree. */
    interface Owner {
        /** Netty's decision for a response's body (and, upstream, the request it answers): called once per message. */
        boolean contentAlwaysEmpty(HttpMessage message);
    }

    private enum State { START, BODY, NETTY, NETTY_FOREVER }

    /** A Content-Length body's trailers: it has none, so one shared read-only set, not an object per message. */
    private static final HttpHeaders NO_TRAILERS = EmptyHttpHeaders.INSTANCE;

    private static final byte CR = '\r';
    private static final byte LF = '\n';
    /** Token characters (RFC 9110 tchar). */
    private static final boolean[] TCHAR = new boolean[128];
    private static final HttpMethod[] METHODS = {HttpMethod.GET, HttpMethod.POST, HttpMethod.HEAD, HttpMethod.PUT,
            HttpMethod.DELETE, HttpMethod.OPTIONS, HttpMethod.PATCH, HttpMethod.TRACE};

    static {
        for (char c = '0'; c <= '9'; c++) {
            TCHAR[c] = true;
        }
        for (char c = 'a'; c <= 'z'; c++) {
            TCHAR[c] = true;
            TCHAR[c - 32] = true;
        }
        for (char c : "!#$%&'*+-.^_`|~".toCharArray()) {
            TCHAR[c] = true;
        }
    }

    private final boolean requests;
    private final int maxHeadBytes;
    private final int maxChunkSize;
    private final Owner owner;
    private State state = State.START;
    private long remaining;

    /**
     * @param maxHeadBytes only heads this long at most take the fast path (longer ones, near the
     *                     limits, are Netty's to accept or refuse)
     */
    PlainHeads(boolean requests, int maxHeadBytes, int maxChunkSize, Owner owner) {
        this.requests = requests;
        this.maxHeadBytes = maxHeadBytes;
        this.maxChunkSize = maxChunkSize;
        this.owner = owner;
    }

    /**
     * Decodes what the fast path owns; false when Netty's decoder is to decode this buffer (then
     * {@link #afterNetty} is told what it produced).
     */
    boolean decode(ByteBuf in, List<Object> out) {
        switch (state) {
            case BODY -> {
                body(in, out);
                return true;
            }
            case NETTY, NETTY_FOREVER -> {
                return false;
            }
            default -> {
                if (!in.isReadable()) {
                    return true;
                }
                int result = head(in, out);
                if (result < 0) {
                    state = State.NETTY;
                    return false;
                }
                return true; // decoded, or waiting for the rest of a plain head
            }
        }
    }

    /** Between messages on the fast path (nothing of a message decoded, Netty not in charge). */
    boolean betweenMessages() {
        return state == State.START;
    }

    /** The channel closed: a head still incomplete is Netty's to judge. */
    void closing(ByteBuf in) {
        if (state == State.START && in.isReadable()) {
            state = State.NETTY;
        }
    }

    /** After Netty decoded: back to the fast path at its message's end, unless it refused one or switched protocols. */
    void afterNetty(List<Object> out, int from) {
        if (state != State.NETTY) {
            return;
        }
        for (int i = from; i < out.size(); i++) {
            Object o = out.get(i);
            if (o instanceof HttpObject h && h.decoderResult().isFailure()
                    || o instanceof HttpResponse r && r.status().code() == 101 || o instanceof ByteBuf) {
                state = State.NETTY_FOREVER;
                return;
            }
            if (o instanceof LastHttpContent) {
                state = State.START;
            }
        }
    }

    private void body(ByteBuf in, List<Object> out) {
        int n = (int) Math.min(Math.min(in.readableBytes(), maxChunkSize), remaining);
        if (n == 0) {
            return;
        }
        ByteBuf part = in.readRetainedSlice(n);
        remaining -= n;
        if (remaining == 0) {
            state = State.START;
            out.add(new DefaultLastHttpContent(part, NO_TRAILERS));
        } else {
            out.add(new DefaultHttpContent(part));
        }
    }

    /** 1: a message decoded; 0: a plain head so far, waiting for its end; -1: not plain, Netty's. */
    private int head(ByteBuf in, List<Object> out) {
        int start = in.readerIndex();
        int readable = in.readableBytes();
        int window = Math.min(readable, maxHeadBytes);
        int length = scanHead(in, start, window);
        // One copy of the head: the request line or status line is read from it, names and values are slices of it.
        byte[] b = length >= 0 ? Arrays.copyOf(scanned, length) : null;
        scanned = null;
        if (length == -2) {
            return -1;
        }
        if (length == -1) {
            // a request line no version ends is Netty's to refuse now, not after a head's end that may never come
            return readable >= maxHeadBytes || requests && ServerCodec.startLineRefused(in) ? -1 : 0;
        }
        int lineEnd = scannedFirstEol;
        HttpMessage message = requests ? requestLine(b, lineEnd, scannedLines - 1) : statusLine(b, lineEnd, scannedLines - 1);
        if (message == null) {
            return -1;
        }
        // Envoy's client codec refuses a Content-Length but "0" on a 204, and drops a "0" (onHeadersCompleteBase)
        long contentLength = headers(b, lineEnd + 2, message, !requests && ((HttpResponse) message).status().code() == 204);
        if (contentLength == Long.MIN_VALUE) {
            return -1;
        }
        if (!requests && contentLength < 0) {
            return -1; // read until close: Netty's
        }
        in.readerIndex(start + length);
        // Asked of every message, as Netty does (upstream it also pairs the response with its request).
        boolean empty = owner.contentAlwaysEmpty(message) || contentLength <= 0;
        if (!requests && (empty || contentLength <= Math.min(in.readableBytes(), maxChunkSize))) {
            // The whole response is here: one message (head, body, no trailers), so the proxy writes it to the
            // client once — one promise, one pass through the encoder, the body copied into the head's buffer.
            HttpResponse head = (HttpResponse) message;
            ByteBuf body = empty ? Unpooled.EMPTY_BUFFER : wholeBody(in, (int) contentLength);
            out.add(new DefaultFullHttpResponse(head.protocolVersion(), head.status(), body, head.headers(), NO_TRAILERS));
            return 1;
        }
        out.add(message);
        if (empty) {
            out.add(LastHttpContent.EMPTY_LAST_CONTENT);
        } else {
            remaining = contentLength;
            state = State.BODY;
        }
        return 1;
    }

    /** Netty's response encoder copies a body up to this long into the head's buffer. */
    private static final int SMALL_BODY = 128;

    /**
     * A whole response's body: a small one copied into a buffer of the read's own allocator, a larger one a slice of
     * the read. The encoder copies a small body again, into the head's buffer: from a slice that copy makes two JDK
     * ByteBuffer views (~120 bytes per response), from the allocator's own buffer none (and no slice object either).
     */
    private static ByteBuf wholeBody(ByteBuf in, int length) {
        if (length > SMALL_BODY) {
            return in.readRetainedSlice(length);
        }
        ByteBuf copy = in.alloc().buffer(length);
        copy.writeBytes(in, length);
        return copy;
    }

    private static final byte VISIBLE = 0;
    private static final byte BLANK = 1;
    private static final byte CR_BYTE = 2;
    private static final byte NOT_PLAIN = 3;
    /** Each byte's kind in a plain head: visible ASCII, space or tab, CR, or anything else (LF alone, controls, DEL, non-ASCII). */
    private static final byte[] KIND = new byte[256];

    static {
        Arrays.fill(KIND, NOT_PLAIN);
        for (int c = 0x21; c < 0x7f; c++) {
            KIND[c] = VISIBLE;
        }
        KIND[' '] = BLANK;
        KIND['\t'] = BLANK;
        KIND[CR] = CR_BYTE;
    }

    /** Bytes copied from the buffer per step of the scan: a head is usually within the first one. */
    private static final int SCAN_STEP = 512;
    /**
     * Room for the head being scanned, one per thread (an event loop's connections take turns): a
     * connection holds none, and a head is copied out of it before anything else runs. A longer head
     * grows a copy of its own for that scan only.
     */
    private static final FastThreadLocal<byte[]> SCRATCH = new FastThreadLocal<>() {
        @Override
        protected byte[] initialValue() {
            return new byte[SCAN_STEP];
        }
    };
    /** The array the last {@link #scanHead} copied the head into (until {@link #head} copies it out). */
    private byte[] scanned;
    /** Of the last head {@link #scanHead} found: where its start line ends (its CR), and its lines less the blank one. */
    private int scannedFirstEol;
    private int scannedLines;

    /**
     * The length of the head (up to and including its blank line), copied to {@link #scanned}; -1 when it
     * does not end within {@code window} bytes; -2 when a byte there makes the head not plain (a CR or LF
     * that is not part of a CRLF, a line starting with white space, a byte outside visible ASCII, space
     * and tab). The buffer is copied in steps and scanned as an array: one bounds check per step, not
     * per byte.
     */
    private int scanHead(ByteBuf in, int from, int window) {
        int copied = 0;
        int lines = 0;
        int firstEol = -1;
        boolean lineStart = true;
        byte[] s = SCRATCH.get();
        int i = 0;
        while (true) {
            if (i + 1 >= copied) { // the byte and the one after it (a CR's LF) in the array, if the window has them
                if (copied < window) {
                    int n = Math.min(window - copied, Math.max(SCAN_STEP, copied));
                    if (s.length < copied + n) {
                        s = Arrays.copyOf(s, copied + n);
                    }
                    in.getBytes(from + copied, s, copied, n);
                    copied += n;
                    continue;
                }
                if (i >= copied) {
                    return -1;
                }
            }
            switch (KIND[s[i] & 0xff]) {
                case VISIBLE -> lineStart = false;
                case BLANK -> {
                    if (lineStart) {
                        return -2; // obs-fold, or white space before the start line
                    }
                }
                case CR_BYTE -> {
                    if (i + 1 >= copied) {
                        return -1;
                    }
                    if (s[i + 1] != LF) {
                        return -2;
                    }
                    if (lineStart) {
                        if (i == 0) {
                            return -2;
                        }
                        scannedFirstEol = firstEol;
                        scannedLines = lines;
                        scanned = s;
                        return i + 2;
                    }
                    if (firstEol < 0) {
                        firstEol = i;
                    }
                    lines++;
                    lineStart = true;
                    i++;
                }
                default -> {
                    return -2;
                }
            }
            i++;
        }
    }

    private static int indexOfCrlf(byte[] b, int from) {
        for (int i = from; i < b.length - 1; i++) {
            if (b[i] == CR) {
                return i;
            }
        }
        return -1;
    }

    /** {@code METHOD SP request-target SP HTTP/1.x}, a known method and a target of visible ASCII; else null. */
    private static HttpMessage requestLine(byte[] b, int eol, int headerLines) {
        HttpMethod method = null;
        for (HttpMethod m : METHODS) {
            AsciiString name = m.asciiName();
            if (eol > name.length() && b[name.length()] == ' ' && regionEquals(b, 0, name)) {
                method = m;
                break;
            }
        }
        if (method == null) {
            return null;
        }
        int uriStart = method.asciiName().length() + 1;
        int uriEnd = uriStart;
        while (uriEnd < eol && b[uriEnd] > ' ' && b[uriEnd] < 0x7f) {
            uriEnd++;
        }
        if (uriEnd == uriStart || uriEnd + 9 != eol || b[uriEnd] != ' ') {
            return null;
        }
        HttpVersion version = version(b, uriEnd + 1);
        if (version == null) {
            return null;
        }
        String uri = new String(b, 0, uriStart, uriEnd - uriStart);
        // room for what the proxy adds to a request (x-forwarded-for, x-forwarded-proto, x-request-id,
        // x-envoy-external-address, and the router's x-envoy-expected-rq-timeout-ms): no copy of the array to add one
        return new DefaultHttpRequest(version, method, uri, FlatHeaders.sized(headerLines + 5));
    }

    /** {@code HTTP/1.x SP 3DIGIT SP reason}, a final status (200–599) and a reason of visible ASCII and spaces; else null. */
    private static HttpMessage statusLine(byte[] b, int eol, int headerLines) {
        if (eol < 14 || b[8] != ' ' || b[12] != ' ') {
            return null;
        }
        HttpVersion version = version(b, 0);
        if (version == null) {
            return null;
        }
        int code = 0;
        for (int i = 9; i < 12; i++) {
            if (b[i] < '0' || b[i] > '9') {
                return null;
            }
            code = code * 10 + b[i] - '0';
        }
        if (code < 200 || code > 599 || b[13] == ' ' || b[eol - 1] == ' ' || b[eol - 1] == '\t') {
            return null;
        }
        for (int i = 13; i < eol; i++) {
            if (b[i] == '\t') {
                return null;
            }
        }
        // The upstream's reason phrase is not kept: the client gets Envoy's phrase for the code (StatusLines).
        HttpResponseStatus status = HttpResponseStatus.valueOf(code);
        // room for what the proxy adds to a response (x-envoy-upstream-service-time, server)
        return new DefaultHttpResponse(version, status, FlatHeaders.sized(headerLines + 2));
    }

    private static HttpVersion version(byte[] b, int at) {
        if (at + 8 > b.length || !regionEquals(b, at, HTTP_1_)) {
            return null;
        }
        return b[at + 7] == '1' ? HttpVersion.HTTP_1_1 : b[at + 7] == '0' ? HttpVersion.HTTP_1_0 : null;
    }

    private static final AsciiString HTTP_1_ = AsciiString.cached("HTTP/1.");

    private static boolean regionEquals(byte[] b, int at, CharSequence s) {
        if (at + s.length() > b.length) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (b[at + i] != s.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /**
     * Adds the header lines from {@code from} to the message; returns the Content-Length (-1 when
     * there is none), or {@link Long#MIN_VALUE} when a line is not plain.
     */
    private long headers(byte[] b, int from, HttpMessage message, boolean onlyZeroLength) {
        FlatHeaders h = (FlatHeaders) message.headers();
        long contentLength = -1;
        int i = from;
        while (true) {
            int eol = indexOfCrlf(b, i);
            if (eol == i) {
                return contentLength; // the blank line
            }
            int colon = i;
            while (colon < eol && b[colon] >= 0 && TCHAR[b[colon]]) {
                colon++;
            }
            if (colon == i || colon == eol || b[colon] != ':') {
                return Long.MIN_VALUE; // no name, white space or a non-token byte before the colon
            }
            int vs = colon + 1;
            while (vs < eol && (b[vs] == ' ' || b[vs] == '\t')) {
                vs++;
            }
            int ve = eol;
            while (ve > vs && (b[ve - 1] == ' ' || b[ve - 1] == '\t')) {
                ve--;
            }
            AsciiString name = SharedHeaderNames.find(b, i, colon - i);
            boolean isContentLength;
            if (name != null) { // a shared name is told by identity
                if (SharedHeaderNames.leftToNetty(name)) {
                    return Long.MIN_VALUE;
                }
                isContentLength = SharedHeaderNames.isContentLength(name);
            } else {
                name = new AsciiString(b, i, colon - i, false);
                if (SharedHeaderNames.leftToNettyName(name)) {
                    return Long.MIN_VALUE; // framing or protocol switches: Netty's
                }
                isContentLength = name.contentEqualsIgnoreCase(io.netty.handler.codec.http.HttpHeaderNames.CONTENT_LENGTH);
            }
            AsciiString value = ve == vs ? AsciiString.EMPTY_STRING : new AsciiString(b, vs, ve - vs, false);
            if (isContentLength) {
                if (onlyZeroLength) {
                    if (value.length() != 1 || value.byteAt(0) != '0') {
                        return Long.MIN_VALUE; // ResponseHeads refuses it
                    }
                    i = eol + 2;
                    continue; // dropped, as Envoy drops it
                }
                if (contentLength != -1 || value.isEmpty() || value.length() > 18) {
                    return Long.MIN_VALUE;
                }
                long n = 0;
                for (int k = 0; k < value.length(); k++) {
                    byte d = value.byteAt(k);
                    if (d < '0' || d > '9') {
                        return Long.MIN_VALUE;
                    }
                    n = n * 10 + d - '0';
                }
                contentLength = n;
            }
            h.appendTrusted(name, value);
            i = eol + 2;
        }
    }

    /** For tests: the fast path took the last message. */
    boolean tookLast() {
        return state == State.START || state == State.BODY;
    }
}
