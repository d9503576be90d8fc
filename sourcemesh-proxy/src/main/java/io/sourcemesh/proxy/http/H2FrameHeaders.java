package io.sourcemesh.proxy.http;

import io.netty.buffer.ByteBuf;

/**
 * The HTTP/2 frame headers in a byte stream, read byte by byte across buffers without copying a payload: what the
 * flood guard in front of Netty's frame codec (and the header-block timer it tells) needs to see of each frame. Skips
 * {@code skip} bytes first (the client preface). A padded DATA or HEADERS frame is reported once its Pad Length byte
 * is read too, so {@link #padding} is known.
 */
final class H2FrameHeaders {
    static final byte DATA = 0x0;
    static final byte HEADERS = 0x1;
    private static final byte PADDED = 0x8;

    private int skip;
    private final byte[] header = new byte[9];
    private int headerRead;
    private long payloadLeft;
    private boolean awaitingPadLength;
    /** Set when {@link #feed} stopped just after a frame's header; the reader clears it. */
    boolean complete;
    byte type;
    byte flags;
    int streamId;
    long length;
    /** Padding of a padded DATA or HEADERS frame, its Pad Length byte included (nghttp2's padlen). */
    long padding;

    H2FrameHeaders(int skip) {
        this.skip = skip;
    }

    /** Reads from {@code i}; returns where it stopped: at the end, or just after a frame's header ({@link #complete}). */
    int feed(ByteBuf bytes, int i, int end) {
        while (i < end) {
            if (skip > 0) {
                int n = Math.min(skip, end - i);
                skip -= n;
                i += n;
            } else if (awaitingPadLength) {
                awaitingPadLength = false;
                padding = (bytes.getByte(i) & 0xff) + 1L;
                payloadLeft--;
                i++;
                complete = true;
                return i;
            } else if (payloadLeft > 0) {
                int n = (int) Math.min(payloadLeft, end - i);
                payloadLeft -= n;
                i += n;
            } else {
                header[headerRead++] = bytes.getByte(i++);
                if (headerRead == header.length) {
                    headerRead = 0;
                    length = ((header[0] & 0xffL) << 16) | ((header[1] & 0xff) << 8) | (header[2] & 0xff);
                    type = header[3];
                    flags = header[4];
                    streamId = ((header[5] & 0x7f) << 24) | ((header[6] & 0xff) << 16) | ((header[7] & 0xff) << 8)
                            | (header[8] & 0xff);
                    payloadLeft = length;
                    padding = 0;
                    if ((type == DATA || type == HEADERS) && (flags & PADDED) != 0 && length > 0) {
                        awaitingPadLength = true; // the frame counts once its pad length is known
                    } else {
                        complete = true;
                        return i;
                    }
                }
            }
        }
        return i;
    }
}
