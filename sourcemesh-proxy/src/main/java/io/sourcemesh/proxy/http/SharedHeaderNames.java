package io.sourcemesh.proxy.http;

import io.netty.util.AsciiString;
import java.util.ArrayList;
import java.util.List;

/**
 * Header names that responses and requests carry on nearly every message, as shared instances: the
 * decoders hand out one of these when the bytes on the wire are exactly its spelling, instead of a
 * new name (object and byte array) per header line per response. Only an exact, case-sensitive match
 * is shared, so what is forwarded is byte for byte what arrived. Immutable.
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

    /** The shared instances of the framing names (both spellings): the parser tells them by identity. */
    private static final AsciiString CONTENT_LENGTH;
    private static final AsciiString CONTENT_LENGTH_LOWER;
    private static final AsciiString TRANSFER_ENCODING;
    private static final AsciiString TRANSFER_ENCODING_LOWER;

    static {
        List<List<AsciiString>> lists = new ArrayList<>();
        for (int i = 0; i <= MAX_LENGTH; i++) {
            lists.add(new ArrayList<>());
        }
        java.util.Map<String, AsciiString> byName = new java.util.HashMap<>();
        for (String name : NAMES) {
            AsciiString shared = AsciiString.cached(name);
            lists.get(name.length()).add(shared);
            byName.put(name, shared);
        }
        for (int i = 0; i <= MAX_LENGTH; i++) {
            BY_LENGTH[i] = lists.get(i).toArray(new AsciiString[0]);
        }
        CONTENT_LENGTH = byName.get("Content-Length");
        CONTENT_LENGTH_LOWER = byName.get("content-length");
        TRANSFER_ENCODING = byName.get("Transfer-Encoding");
        TRANSFER_ENCODING_LOWER = byName.get("transfer-encoding");
    }

    /** Whether {@code shared} (an instance {@link #find} returned) is Content-Length. */
    static boolean isContentLength(AsciiString shared) {
        return shared == CONTENT_LENGTH || shared == CONTENT_LENGTH_LOWER;
    }

    /**
     * Whether {@code shared} (an instance {@link #find} returned) is a name the fast path leaves to Netty:
     * Transfer-Encoding (no shared name is Upgrade or sec-websocket-*).
     */
    static boolean leftToNetty(AsciiString shared) {
        return shared == TRANSFER_ENCODING || shared == TRANSFER_ENCODING_LOWER;
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
