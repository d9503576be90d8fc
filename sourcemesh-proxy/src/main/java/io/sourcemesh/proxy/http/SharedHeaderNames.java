package io.sourcemesh.proxy.http;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.List;

/**
 * Header names that responses and requests carry on nearly every message, as shared instances: the
 * decoders hand out one of these when the bytes on the wire are exactly its spelling, instead of a
 * new name (object and byte array) per header line per response. Only an exact, case-sensitive match
 * is shared, so a name read is byte for byte what arrived (the encoders write every name in lower case,
 * as Envoy's, see {@link FlatHeaders#encode(io.netty.buffer.ByteBuf)}). Immutable.
 */
final class SharedHeaderNames {
    /** As nginx, Apache, Envoy (lower case) and most application servers spell them. */
    private static final String[] NAMES = {
        "Server", "Date", "Content-Type", "Content-Length", "Connection", "Last-Modified", "ETag", "Accept-Ranges",
        "Cache-Control", "Vary", "Transfer-Encoding", "Keep-Alive", "Expires", "Location", "Set-Cookie",
        "Content-Encoding", "X-Request-Id",
        "server", "date", "content-type", "content-length", "connection", "last-modified", "etag", "accept-ranges",
        "cache-control", "vary", "transfer-encoding", "keep-alive", "expires", "location", "set-cookie",
        "content-encoding", "x-request-id", "x-envoy-upstream-service-time", "grpc-status", "grpc-message",
        // requests (the downstream codec shares them too)
        "Host", "User-Agent", "Accept", "Accept-Encoding", "Accept-Language", "Authorization", "Cookie", "Referer",
        "host", "user-agent", "accept", "accept-encoding", "accept-language", "authorization", "cookie", "referer",
        "x-forwarded-for", "x-forwarded-proto", "traceparent", "te",
    };
    private static final int MAX_LENGTH = 32;
    /** By length, then by first byte: the few candidates to compare. */
    private static final AsciiString[][] BY_LENGTH = new AsciiString[MAX_LENGTH + 1][];

    /**
     * The shared names the parser must tell apart, classified once by the same tests it applies to any
     * other name: it then tells them by identity.
     */
    private static final AsciiString[] LEFT_TO_NETTY;
    private static final AsciiString[] CONTENT_LENGTH;

    static {
        List<List<AsciiString>> lists = new ArrayList<>();
        for (int i = 0; i <= MAX_LENGTH; i++) {
            lists.add(new ArrayList<>());
        }
        List<AsciiString> leftToNetty = new ArrayList<>();
        List<AsciiString> contentLength = new ArrayList<>();
        for (String name : NAMES) {
            AsciiString shared = AsciiString.cached(name);
            lists.get(name.length()).add(shared);
            if (leftToNettyName(shared)) {
                leftToNetty.add(shared);
            }
            if (shared.contentEqualsIgnoreCase(HttpHeaderNames.CONTENT_LENGTH)) {
                contentLength.add(shared);
            }
        }
        for (int i = 0; i <= MAX_LENGTH; i++) {
            BY_LENGTH[i] = lists.get(i).toArray(new AsciiString[0]);
        }
        LEFT_TO_NETTY = leftToNetty.toArray(new AsciiString[0]);
        CONTENT_LENGTH = contentLength.toArray(new AsciiString[0]);
    }

    /**
     * Whether a header of this name sends its message to Netty's decoder rather than the fast path:
     * framing (Transfer-Encoding) and protocol switches (Upgrade, WebSocket's handshake headers).
     */
    static boolean leftToNettyName(AsciiString name) {
        return name.contentEqualsIgnoreCase(HttpHeaderNames.TRANSFER_ENCODING)
                || name.contentEqualsIgnoreCase(HttpHeaderNames.UPGRADE)
                || name.regionMatches(true, 0, "sec-websocket-", 0, 14);
    }

    /** {@link #leftToNettyName} of {@code shared}, an instance {@link #find} returned, by identity. */
    static boolean leftToNetty(AsciiString shared) {
        return in(LEFT_TO_NETTY, shared);
    }

    /** Whether {@code shared}, an instance {@link #find} returned, is Content-Length in any case, by identity. */
    static boolean isContentLength(AsciiString shared) {
        return in(CONTENT_LENGTH, shared);
    }

    private static boolean in(AsciiString[] names, AsciiString shared) {
        for (AsciiString name : names) {
            if (name == shared) {
                return true;
            }
        }
        return false;
    }

    /** Every shared name (for tests). */
    static List<AsciiString> all() {
        List<AsciiString> all = new ArrayList<>();
        for (AsciiString[] names : BY_LENGTH) {
            all.addAll(List.of(names));
        }
        return all;
    }

    private SharedHeaderNames() {
    }

    /** The shared name spelled exactly as {@code bytes[start, start + length)}, or null. */
    static AsciiString find(byte[] bytes, int start, int length) {
        if (length > MAX_LENGTH) {
            return null;
        }
        for (AsciiString candidate : BY_LENGTH[length]) {
            byte[] a = candidate.array();
            int offset = candidate.arrayOffset();
            int i = 0;
            while (i < length && a[offset + i] == bytes[start + i]) {
                i++;
            }
            if (i == length) {
                return candidate;
            }
        }
        return null;
    }
}
