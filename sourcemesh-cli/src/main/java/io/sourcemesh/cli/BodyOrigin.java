package io.sourcemesh.cli;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * An HTTP/1.1 origin answering in the body shapes applications use beyond a whole Content-Length body in one write:
 * chunked, a head and its body in separate writes, a body longer than a socket read, none (204, Content-Length: 0);
 * and reading request bodies of either framing. The proxy's AOT training routes to it so the cached profiles hold
 * those shapes (each an uncommon trap in the compiled request path otherwise); {@code ProxyAotCacheTest} routes to it
 * too. Which shape answers is the path's segment after {@code /bodies/}. A thread per connection, keep-alive.
 *
 * <p>A piece sent after a wait for the other side's read of the last one always reaches the proxy in a read of its
 * own, with no timed pause: {@link #requestPieceRead} for a split request (its client writes the next piece once
 * this origin has read the last), {@link #responsePieceRead} for a split response (the reverse).
 */
final class BodyOrigin implements AutoCloseable {
    /** A body longer than a socket read (and the proxy's high-water mark): read in pieces, written with backpressure. */
    static final int LARGE = 256 * 1024;
    static final String FIRST_CHUNK = "5\r\nhello\r\n";
    static final String LAST_CHUNKS = "6\r\n world\r\n0\r\n\r\n";
    private static final String CHUNKED_HEAD = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    private static final byte[] CHUNKED = ascii(CHUNKED_HEAD + FIRST_CHUNK + LAST_CHUNKS);
    private static final byte[] SPLIT_HEAD = ascii("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n");
    private static final byte[] LARGE_RESPONSE = ascii("HTTP/1.1 200 OK\r\nContent-Length: " + LARGE + "\r\n\r\n" + "y".repeat(LARGE));
    private static final byte[] NO_CONTENT = ascii("HTTP/1.1 204 No Content\r\n\r\n");
    private static final byte[] EMPTY = ascii("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    private static final byte[] OK = ascii("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n");
    /** How long either side waits for the other's read. */
    static final long PIECE_WAIT_SECONDS = 10;

    /**
     * Released as this origin has read a split request's head and each of its chunks. A client drains it before such a
     * request: what is left is from an earlier one, all of whose releases came before its answer.
     */
    final Semaphore requestPieceRead = new Semaphore(0);
    /** Released by the client as it has read a split response's head and each chunk; drained here before such a response. */
    final Semaphore responsePieceRead = new Semaphore(0);
    private final ServerSocket server;

    private BodyOrigin(ServerSocket server) {
        this.server = server;
    }

    /** Listens on a free loopback port and serves until {@link #close()}. */
    static BodyOrigin start() throws IOException {
        BodyOrigin origin = new BodyOrigin(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()));
        Thread t = new Thread(origin::acceptLoop, "body-origin");
        t.setDaemon(true);
        t.start();
        return origin;
    }

    int port() {
        return server.getLocalPort();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                Thread t = new Thread(() -> serve(s), "body-origin-connection");
                t.setDaemon(true);
                t.start();
            } catch (IOException closed) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s) {
            s.setTcpNoDelay(true);
            InputStream in = new BufferedInputStream(s.getInputStream());
            OutputStream out = s.getOutputStream();
            while (true) {
                String head = readHead(in);
                if (head == null) {
                    return; // the proxy closed it
                }
                String shape = shape(head);
                Semaphore pieces = shape.equals("split-request") ? requestPieceRead : null;
                if (pieces != null) {
                    pieces.release();
                }
                readBody(in, head, pieces);
                if (!answer(out, shape)) {
                    return;
                }
            }
        } catch (IOException gone) {
            // the proxy went away mid-exchange: nothing to answer
        }
    }

    /** Writes the answer {@code shape} names; false when the client did not read a split response's piece in time. */
    private boolean answer(OutputStream out, String shape) throws IOException {
        switch (shape) {
            case "chunked" -> write(out, CHUNKED);
            case "split-chunked" -> {
                responsePieceRead.drainPermits(); // the client's releases for earlier responses, all made before this request
                write(out, ascii(CHUNKED_HEAD));
                if (!clientRead()) {
                    return false;
                }
                write(out, ascii(FIRST_CHUNK));
                if (!clientRead()) {
                    return false;
                }
                write(out, ascii(LAST_CHUNKS));
            }
            case "split" -> {
                responsePieceRead.drainPermits();
                write(out, SPLIT_HEAD);
                if (!clientRead()) {
                    return false;
                }
                write(out, ascii("hello world"));
            }
            case "large" -> write(out, LARGE_RESPONSE);
            case "no-content" -> write(out, NO_CONTENT);
            case "empty" -> write(out, EMPTY);
            default -> write(out, OK);
        }
        return true;
    }

    private boolean clientRead() throws IOException {
        return await(responsePieceRead);
    }

    /** Waits up to {@link #PIECE_WAIT_SECONDS} for the other side's read of a piece; false when it did not come. */
    static boolean await(Semaphore pieceRead) throws IOException {
        try {
            return pieceRead.tryAcquire(PIECE_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    /** One write: a piece is sent at once (no Nagle wait for the last one's ACK) and whole. */
    private static void write(OutputStream out, byte[] piece) throws IOException {
        out.write(piece);
        out.flush();
    }

    /** The path's segment after {@code /bodies/}, or "" for any other path. */
    private static String shape(String head) {
        int from = head.indexOf(" /bodies/");
        if (from < 0) {
            return "";
        }
        from += 9;
        int end = from;
        while (end < head.length() && head.charAt(end) != '/' && head.charAt(end) != ' ' && head.charAt(end) != '?') {
            end++;
        }
        return head.substring(from, end);
    }

    /** Reads the request's body (Content-Length or chunked), releasing {@code pieces}, if any, after each chunk. */
    private static void readBody(InputStream in, String head, Semaphore pieces) throws IOException {
        if (chunked(head)) {
            skipChunks(in, pieces == null ? null : pieces::release);
            return;
        }
        String length = header(head, "content-length");
        in.skipNBytes(length == null ? 0 : Long.parseLong(length));
    }

    /** Whether a head says Transfer-Encoding: chunked. */
    static boolean chunked(String head) {
        String te = header(head, "transfer-encoding");
        return te != null && te.equalsIgnoreCase("chunked");
    }

    /** Reads a chunked body to its end (trailers included); {@code afterChunk}, if any, runs after each chunk. */
    static void skipChunks(InputStream in, Runnable afterChunk) throws IOException {
        while (true) {
            String size = line(in);
            int semi = size.indexOf(';');
            int n = Integer.parseInt((semi < 0 ? size : size.substring(0, semi)).strip(), 16);
            if (n == 0) {
                while (!line(in).isEmpty()) {
                    // trailers
                }
                return;
            }
            in.skipNBytes(n);
            line(in);
            if (afterChunk != null) {
                afterChunk.run();
            }
        }
    }

    /** A header's value in {@code head} (the first one, names matched ignoring case), or null. */
    static String header(String head, String name) {
        for (String l : head.split("\r\n")) {
            int colon = l.indexOf(':');
            if (colon == name.length() && l.regionMatches(true, 0, name, 0, colon)) {
                return l.substring(colon + 1).strip();
            }
        }
        return null;
    }

    /** A line without its CRLF. */
    static String line(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b < 0) {
                throw new IOException("the stream ended in a line");
            }
            if (b != '\r') {
                sb.append((char) b);
            }
        }
        return sb.toString();
    }

    /** A message head up to its blank line, or null at the end of the stream before it. */
    static String readHead(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                return null;
            }
            sb.append((char) b);
            matched = b == (matched % 2 == 0 ? '\r' : '\n') ? matched + 1 : b == '\r' ? 1 : 0;
        }
        return sb.toString();
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
