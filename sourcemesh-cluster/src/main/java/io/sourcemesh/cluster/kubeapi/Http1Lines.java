package io.sourcemesh.cluster.kubeapi;

import java.io.IOException;
import java.io.InputStream;

/** HTTP/1.1's lines as a blocking client reads an answer: status line, headers, chunk sizes. */
public final class Http1Lines {
    private Http1Lines() {}

    /** A line up to CRLF (or LF), without it; null at the end of the stream. {@code in} should be buffered. */
    public static String line(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder(64);
        for (int c; (c = in.read()) != -1; ) {
            if (c == '\n') {
                int end = b.length();
                return b.substring(0, end > 0 && b.charAt(end - 1) == '\r' ? end - 1 : end);
            }
            b.append((char) c);
        }
        return b.isEmpty() ? null : b.toString();
    }
}
