package io.sourcemesh.proxy.http.forwarded;

import java.util.concurrent.ThreadLocalRandom;

/**
 * A generated x-request-id: a version 4 UUID kept as its two halves and read as its canonical lower-case
 * text (what {@code UUID.toString} gives). One small object per request instead of a 36-byte array and the
 * {@code AsciiString} over it; the header encoder reads it char by char, and a reader that wants a String
 * (an access log's {@code %REQ(X-REQUEST-ID)%}) gets one made then.
 */
final class RequestId implements CharSequence {
    private static final int LENGTH = 36;
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private final long most;
    private final long least;

    private RequestId(long most, long least) {
        this.most = most;
        this.least = least;
    }

    /** A random one from the thread's own generator: no lock and no entropy wait on the event loop. */
    static RequestId random() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long most = (random.nextLong() & ~0xf000L) | 0x4000L; // version 4
        long least = (random.nextLong() & 0x3fffffffffffffffL) | 0x8000000000000000L; // IETF variant
        return new RequestId(most, least);
    }

    @Override
    public int length() {
        return LENGTH;
    }

    /** 8-4-4-4-12 hex digits: the dashes at 8, 13, 18 and 23, the 32 digits the two halves' nibbles in order. */
    @Override
    public char charAt(int index) {
        if (index < 0 || index >= LENGTH) {
            throw new IndexOutOfBoundsException(index);
        }
        if (index == 8 || index == 13 || index == 18 || index == 23) {
            return '-';
        }
        int nibble = index - (index > 23 ? 4 : index > 18 ? 3 : index > 13 ? 2 : index > 8 ? 1 : 0);
        long half = nibble < 16 ? most : least;
        return HEX[(int) (half >>> (60 - 4 * (nibble & 15))) & 0xf];
    }

    @Override
    public CharSequence subSequence(int start, int end) {
        return toString().substring(start, end);
    }

    @Override
    public String toString() {
        char[] text = new char[LENGTH];
        for (int i = 0; i < LENGTH; i++) {
            text[i] = charAt(i);
        }
        return new String(text);
    }
}
