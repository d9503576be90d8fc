package io.sourcemesh.proxy.testing;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;

/** One HTTP/1.1 response read off a test client's socket. */
public final class Http1Response {
    private Http1Response() {}

    /** Reads one response with a Content-Length body (or none); its status. */
    public static int status(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        for (int c; (c = in.read()) != -1; ) {
            head.append((char) c);
            if (head.length() >= 4 && head.substring(head.length() - 4).equals("\r\n\r\n")) {
                int length = 0;
                for (String line : head.toString().split("\r\n")) {
                    if (line.regionMatches(true, 0, "content-length:", 0, 15)) {
                        length = Integer.parseInt(line.substring(15).trim());
                    }
                }
                in.readNBytes(length);
                return Integer.parseInt(head.substring(9, 12));
            }
        }
        throw new EOFException("connection closed after " + head);
    }
}
