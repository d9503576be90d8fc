package io.sourcemesh.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * An upstream's response head as Envoy's HTTP/1 client codec takes it (balsa with the HttpValidationPolicy Envoy's
 * {@code BalsaParser} sets, then {@code ConnectionImpl::onHeadersCompleteImpl} and
 * {@code ClientConnectionImpl::onHeadersCompleteBase}), for the heads {@link PlainHeads} does not take: read whole,
 * judged, and rewritten as the plain head Netty's strict decoder reads the same way — which then frames the body.
 * Off the hot path: a well-formed response is plain.
 *
 * <p>What Envoy takes and Netty's strict decoder would not: lines ended by a bare LF; a lone CR in a value (removed,
 * as Envoy removes CR and LF from values); obs-fold continuation lines (the value keeps the continuation's leading
 * white space, only the line breaks go: {@code "a\r\n  b"} is {@code "a  b"}); any HTTP/x.y version (not 1.1 is
 * HTTP/1.0 to the codec); a status of any digits (2000, 099). What Envoy refuses and Netty would take: a response not
 * starting with 'H' (HPE_INVALID_CONSTANT), a version not {@code HTTP/d.d} ({@code http/1.1}), white space or any
 * non-token byte in a name ({@code X-A : b}), a line without a colon, a control byte anywhere in the head, more than one
 * Content-Length, Transfer-Encoding other than exactly {@code chunked} (gzip, "gzip, chunked", identity, two lines),
 * Transfer-Encoding with Content-Length (allow_chunked_length is off), and on a 1xx (101 too, and anything below 100)
 * or a 204 any Transfer-Encoding or a Content-Length but "0" (a "0" is dropped). A 304's Content-Length is never read
 * (balsa reads no body there), so one that is not a number is forwarded as it came. An Upgrade header is dropped when the
 * request asked for no upgrade (Envoy's mutateResponseHeaders removes it from a response that is not an upgrade's).
 */
final class ResponseHeads {
    /** What Envoy's codec refused: the connection's response is a protocol error. */
    static final class Refused extends IllegalArgumentException {
        Refused(String reason) {
            super(reason);
        }

        @Override
        public synchronized Throwable fillInStackTrace() {
            return this; // a misbehaving upstream's answer, not a bug: no stack to walk
        }
    }

    /**
     * A head taken: its plain rewrite, whether its version was HTTP/1.1 (else the message is HTTP/1.0's), and a 304's
     * Content-Length that is not a number (null when none): left out of the rewrite, which Netty's decoder would refuse
     * for it, and added to the decoded response's headers as it came.
     */
    record Head(ByteBuf plain, boolean http11, String unparsedContentLength) {}

    /**
     * How far a head still arriving was searched for its end, so a head that comes a few bytes at a time is scanned
     * once, not again from its start at every read. One per connection, made when a head first waits.
     */
    static final class Progress {
        /** Bytes from the head's start already searched; where the line being searched starts; line ends seen. */
        int scanned;
        int lineStart;
        int lines;

        void reset() {
            scanned = 0;
            lineStart = 0;
            lines = 0;
        }
    }

    /**
     * Initializes this class and the ones its read makes (the decoder's static initializer calls it): C2 compiles the
     * decoder's decode() while only plain heads have come, and a class first initialized by the head the fast path
     * declines later is an uncommon trap there that throws the compiled code away (ProxyAotCacheTest).
     */
    static void initialize() {
        new Progress().reset();
        new Head(null, true, null).http11();
    }

    private static final boolean[] TCHAR = new boolean[256];
    /** Balsa's invalid header characters (kInvalidHeaderCharList): controls but HT, LF, CR; and DEL. */
    private static final boolean[] INVALID = new boolean[256];

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
        for (int c = 0; c < 0x20; c++) {
            INVALID[c] = c != '\t' && c != '\n' && c != '\r';
        }
        INVALID[0x7f] = true;
    }

    private ResponseHeads() {}

    /**
     * The head at {@code in}'s reader index, read and judged; {@code in} is advanced past it. Null when the head has
     * not all arrived (nothing consumed). Throws {@link Refused} for what Envoy refuses, also a head longer than
     * {@code maxHeadBytes}.
     */
    static Head read(ByteBuf in, int maxHeadBytes, boolean upgradeAsked, Progress progress) {
        int readable = in.readableBytes();
        if (readable == 0) {
            return null;
        }
        int start = in.readerIndex();
        if (in.getByte(start) != 'H') {
            throw new Refused("HPE_INVALID_CONSTANT"); // BalsaParser: a response must start with "HTTP"
        }
        // The head ends at a line (not the first) that is empty or a lone CR: searched from where the last read left off.
        int window = Math.min(readable, maxHeadBytes);
        int headEnd = -1;
        for (int i = progress.scanned; i < window; i++) {
            if (in.getByte(start + i) != '\n') {
                continue;
            }
            progress.lines++;
            int length = i - progress.lineStart;
            if (progress.lines > 1 && (length == 0 || (length == 1 && in.getByte(start + progress.lineStart) == '\r'))) {
                headEnd = i + 1;
                break;
            }
            progress.lineStart = i + 1;
        }
        if (headEnd < 0) {
            if (readable >= maxHeadBytes) {
                throw new Refused("headers size exceeds limit");
            }
            progress.scanned = window;
            return null;
        }
        progress.reset();
        byte[] b = new byte[headEnd];
        in.getBytes(start, b);
        // Line ends (the index of each LF) in the head.
        int[] lf = new int[16];
        int lines = 0;
        for (int i = 0; i < headEnd; i++) {
            if (b[i] == '\n') {
                if (lines == lf.length) {
                    lf = Arrays.copyOf(lf, lines * 2);
                }
                lf[lines++] = i;
            }
        }
        for (int i = 0; i < headEnd; i++) {
            if (INVALID[b[i] & 0xff]) {
                throw new Refused("header value contains invalid chars");
            }
        }
        StringBuilder out = new StringBuilder(headEnd + 16);
        // The status line: three islands of non-white space (balsa's ParseHTTPFirstLine; a byte <= ' ' separates).
        int eol = lf[0];
        while (eol > 0 && (b[eol - 1] == '\r' || b[eol - 1] == '\n')) {
            eol--;
        }
        int versionEnd = nextWhite(b, 0, eol);
        int codeStart = nextNonWhite(b, versionEnd, eol);
        int codeEnd = nextWhite(b, codeStart, eol);
        int reasonStart = nextNonWhite(b, codeEnd, eol);
        int reasonEnd = eol;
        while (reasonEnd > reasonStart && (b[reasonEnd - 1] & 0xff) <= ' ') {
            reasonEnd--;
        }
        if (!validVersion(b, versionEnd)) {
            throw new Refused("HPE_INVALID_VERSION");
        }
        boolean http11 = b[5] == '1' && b[7] == '1';
        if (codeStart == codeEnd) {
            throw new Refused("FAILED_TO_FIND_WS_AFTER_RESPONSE_VERSION");
        }
        long code = 0;
        for (int i = codeStart; i < codeEnd; i++) {
            if (b[i] < '0' || b[i] > '9' || code > Integer.MAX_VALUE / 10) {
                throw new Refused("FAILED_CONVERTING_STATUS_CODE_TO_INT");
            }
            code = code * 10 + b[i] - '0';
        }
        out.append("HTTP/1.1 ").append(code).append(' ');
        for (int i = reasonStart; i < reasonEnd; i++) {
            if (b[i] != '\r') {
                out.append((char) (b[i] & 0xff));
            }
        }
        out.append("\r\n");

        // The header lines: a line starting with SP or HT continues the one before it.
        int contentLengths = 0;
        String contentLength = null;
        StringBuilder transferEncoding = null;
        java.util.List<String> fields = new java.util.ArrayList<>(); // name, value, name, value...
        int nameStart = -1;
        int nameEnd = -1;
        StringBuilder value = new StringBuilder();
        boolean bodiless = code < 200 || code == 204;
        for (int line = 1; line < lines; line++) {
            int ls = lf[line - 1] + 1;
            int le = lf[line];
            if (le > ls && b[le - 1] == '\r') {
                le--;
            }
            boolean last = line == lines - 1; // the empty line that ends the head
            byte first = b[ls];
            if (!last && (first == ' ' || first == '\t')) {
                if (nameStart < 0) {
                    throw new Refused("INVALID_HEADER_NAME_CHARACTER"); // white space before the first name
                }
                value.append(latin1(b, ls, le)); // the obs-fold's white space stays, its line break goes
                continue;
            }
            if (nameStart >= 0) {
                String v = finishValue(value);
                String name = latin1(b, nameStart, nameEnd);
                if (name.equalsIgnoreCase("content-length")) {
                    contentLengths++;
                    contentLength = v;
                } else if (name.equalsIgnoreCase("transfer-encoding")) {
                    transferEncoding = transferEncoding == null ? new StringBuilder(v) : transferEncoding.append(',').append(v);
                }
                fields.add(name);
                fields.add(v);
                nameStart = -1;
            }
            if (last) {
                break;
            }
            int colon = ls;
            while (colon < le && b[colon] != ':') {
                if (!TCHAR[b[colon] & 0xff]) {
                    throw new Refused("INVALID_HEADER_NAME_CHARACTER"); // also white space before the colon
                }
                colon++;
            }
            if (colon == le) {
                throw new Refused("HEADER_MISSING_COLON");
            }
            if (colon == ls) {
                throw new Refused("INVALID_HEADER_FORMAT");
            }
            nameStart = ls;
            nameEnd = colon;
            value.setLength(0);
            value.append(latin1(b, colon + 1, le));
        }
        if (contentLengths > 1) {
            throw new Refused("HPE_UNEXPECTED_CONTENT_LENGTH"); // disallow_multiple_content_length
        }
        if (transferEncoding != null) {
            if (contentLength != null) {
                throw new Refused("http1.content_length_and_chunked_not_allowed");
            }
            if (bodiless) {
                throw new Refused("http1.transfer_encoding_not_allowed");
            }
            if (!transferEncoding.toString().equalsIgnoreCase("chunked")) {
                throw new Refused("http1.invalid_transfer_encoding");
            }
        }
        String unparsed = null;
        if (contentLength != null) {
            if (bodiless) {
                if (!contentLength.equals("0")) {
                    throw new Refused("http1.content_length_not_allowed");
                }
            } else if (code == 304) {
                // balsa reads no body of a 304 (ResponseCanHaveBody), so its Content-Length is never parsed
                // (AssignParseStateAfterHeadersHaveBeenParsed) and the codec forwards it as it came. A HEAD's answer
                // is not spared: Envoy never tells balsa the request was a HEAD (set_request_was_head), so an
                // unparsable Content-Length there is UNPARSABLE_CONTENT_LENGTH, as below.
                if (!isNumber(contentLength)) {
                    unparsed = contentLength;
                }
            } else {
                if (!isNumber(contentLength)) {
                    throw new Refused("UNPARSABLE_CONTENT_LENGTH");
                }
            }
        }
        for (int i = 0; i < fields.size(); i += 2) {
            String name = fields.get(i);
            if (((bodiless || unparsed != null) && name.equalsIgnoreCase("content-length"))
                    || (!upgradeAsked && name.equalsIgnoreCase("upgrade"))) {
                continue; // a 1xx's or 204's "0" is dropped; an Upgrade no request asked for is not forwarded
            }
            out.append(name).append(": ").append(fields.get(i + 1)).append("\r\n");
        }
        out.append("\r\n");
        in.skipBytes(headEnd);
        return new Head(Unpooled.wrappedBuffer(out.toString().getBytes(StandardCharsets.ISO_8859_1)), http11, unparsed);
    }

    /** The value as Envoy's codec keeps it: CR and LF removed, then white space trimmed both ends. */
    private static String finishValue(StringBuilder raw) {
        int w = 0;
        for (int r = 0; r < raw.length(); r++) {
            char c = raw.charAt(r);
            if (c != '\r' && c != '\n') {
                raw.setCharAt(w++, c);
            }
        }
        int s = 0;
        while (s < w && (raw.charAt(s) == ' ' || raw.charAt(s) == '\t')) {
            s++;
        }
        while (w > s && (raw.charAt(w - 1) == ' ' || raw.charAt(w - 1) == '\t')) {
            w--;
        }
        return raw.substring(s, w);
    }

    private static boolean isNumber(String s) {
        if (s.isEmpty() || s.length() > 18) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) < '0' || s.charAt(i) > '9') {
                return false;
            }
        }
        return true;
    }

    /** BalsaParser's isVersionValid: {@code HTTP/} then digit, '.', digit. */
    private static boolean validVersion(byte[] b, int end) {
        return end == 8 && b[0] == 'H' && b[1] == 'T' && b[2] == 'T' && b[3] == 'P' && b[4] == '/' && isDigit(b[5])
                && b[6] == '.' && isDigit(b[7]);
    }

    private static boolean isDigit(byte c) {
        return c >= '0' && c <= '9';
    }

    private static int nextWhite(byte[] b, int from, int end) {
        int i = from;
        while (i < end && (b[i] & 0xff) > ' ') {
            i++;
        }
        return i;
    }

    private static int nextNonWhite(byte[] b, int from, int end) {
        int i = from;
        while (i < end && (b[i] & 0xff) <= ' ') {
            i++;
        }
        return i;
    }

    private static String latin1(byte[] b, int from, int to) {
        return new String(b, from, to - from, StandardCharsets.ISO_8859_1);
    }
}
