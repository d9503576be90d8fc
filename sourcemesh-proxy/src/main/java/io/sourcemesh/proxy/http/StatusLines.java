package io.sourcemesh.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;

/**
 * The status of a response as Envoy's HTTP/1 encoder writes it: the code, a space and Envoy's own reason phrase for
 * that code ({@code CodeUtility::toString} in {@code source/common/http/codes.cc}, "Unknown" for a code it does not
 * name) — never the upstream's phrase nor Netty's ({@code ResponseEncoderImpl::encodeHeaders} in
 * {@code source/common/http/http1/codec_impl.cc}; only a stateful header formatter, which SourceMesh refuses with
 * header_key_format, carries a phrase through). Each code's bytes are made once, so writing one copies one array.
 */
final class StatusLines {
    private static final String[] PHRASES = new String[600];

    static {
        String[][] named = {
            {"100", "Continue"}, {"101", "Switching Protocols"},
            {"200", "OK"}, {"201", "Created"}, {"202", "Accepted"}, {"203", "Non-Authoritative Information"},
            {"204", "No Content"}, {"205", "Reset Content"}, {"206", "Partial Content"}, {"207", "Multi-Status"},
            {"208", "Already Reported"}, {"226", "IM Used"},
            {"300", "Multiple Choices"}, {"301", "Moved Permanently"}, {"302", "Found"}, {"303", "See Other"},
            {"304", "Not Modified"}, {"305", "Use Proxy"}, {"307", "Temporary Redirect"}, {"308", "Permanent Redirect"},
            {"400", "Bad Request"}, {"401", "Unauthorized"}, {"402", "Payment Required"}, {"403", "Forbidden"},
            {"404", "Not Found"}, {"405", "Method Not Allowed"}, {"406", "Not Acceptable"},
            {"407", "Proxy Authentication Required"}, {"408", "Request Timeout"}, {"409", "Conflict"}, {"410", "Gone"},
            {"411", "Length Required"}, {"412", "Precondition Failed"}, {"413", "Payload Too Large"},
            {"414", "URI Too Long"}, {"415", "Unsupported Media Type"}, {"416", "Range Not Satisfiable"},
            {"417", "Expectation Failed"}, {"421", "Misdirected Request"}, {"422", "Unprocessable Entity"},
            {"423", "Locked"}, {"424", "Failed Dependency"}, {"425", "Too Early"}, {"426", "Upgrade Required"},
            {"428", "Precondition Required"}, {"429", "Too Many Requests"}, {"431", "Request Header Fields Too Large"},
            {"500", "Internal Server Error"}, {"501", "Not Implemented"}, {"502", "Bad Gateway"},
            {"503", "Service Unavailable"}, {"504", "Gateway Timeout"}, {"505", "HTTP Version Not Supported"},
            {"506", "Variant Also Negotiates"}, {"507", "Insufficient Storage"}, {"508", "Loop Detected"},
            {"510", "Not Extended"}, {"511", "Network Authentication Required"},
            {"598", "Last Unassigned Server Error Code"},
        };
        for (String[] n : named) {
            PHRASES[Integer.parseInt(n[0])] = n[1];
        }
    }

    /** "NNN Phrase" for codes 100–999 (every status a decoder hands on has three digits), made once. */
    private static final byte[][] LINES = new byte[1000][];

    static {
        for (int code = 100; code < 1000; code++) {
            LINES[code] = (code + " " + phrase(code)).getBytes(StandardCharsets.US_ASCII);
        }
    }

    private StatusLines() {}

    /** Envoy's reason phrase for {@code code}: "Unknown" for one it does not name. */
    static String phrase(int code) {
        String p = code >= 0 && code < PHRASES.length ? PHRASES[code] : null;
        return p != null ? p : "Unknown";
    }

    private static final byte[] HTTP_1_1 = "HTTP/1.1 ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] HTTP_1_0 = "HTTP/1.0 ".getBytes(StandardCharsets.US_ASCII);

    /** Writes the status line: the version, the code, Envoy's phrase for it and CRLF. */
    static void write(HttpVersion version, int code, ByteBuf buf) {
        if (version == HttpVersion.HTTP_1_1) {
            buf.writeBytes(HTTP_1_1);
        } else if (version == HttpVersion.HTTP_1_0) {
            buf.writeBytes(HTTP_1_0);
        } else {
            buf.writeCharSequence(version.text(), StandardCharsets.US_ASCII);
            buf.writeByte(' ');
        }
        if (code >= 100 && code < 1000) {
            buf.writeBytes(LINES[code]);
        } else {
            buf.writeCharSequence(code + " " + phrase(code), StandardCharsets.US_ASCII);
        }
        buf.writeByte('\r').writeByte('\n');
    }
}
