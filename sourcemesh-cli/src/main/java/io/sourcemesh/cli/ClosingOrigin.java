package io.sourcemesh.cli;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * An HTTP/1.1 origin that ends its keep-alive connections itself, as applications do (a request limit, an idle
 * timeout, a crash): on every third connection its second response says {@code Connection: close}, on the next the
 * second response is followed by a FIN, on the next by a reset. The proxy's AOT training routes to it so a proxy
 * meets an upstream's close with its classes and profiles in the cache; {@code ProxyAotCacheTest} routes to it too.
 * Answers GET heads only (no request bodies); a thread per connection.
 */
final class ClosingOrigin implements AutoCloseable {
    /** Responses on each connection; the last one ends it. */
    static final int RESPONSES_PER_CONNECTION = 2;
    private static final byte[] KEEP = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] CLOSE = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n"
            .getBytes(StandardCharsets.US_ASCII);

    private final ServerSocket server;
    private int accepted;

    private ClosingOrigin(ServerSocket server) {
        this.server = server;
    }

    /** Listens on a free loopback port and serves until {@link #close()}. */
    static ClosingOrigin start() throws IOException {
        ClosingOrigin origin = new ClosingOrigin(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()));
        Thread t = new Thread(origin::acceptLoop, "closing-origin");
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
                int kind = accepted++ % 3;
                Thread t = new Thread(() -> serve(s, kind), "closing-origin-connection");
                t.setDaemon(true);
                t.start();
            } catch (IOException closed) {
                return;
            }
        }
    }

    /** {@code kind}: 0 ends with {@code Connection: close}, 1 with a FIN after the last response, 2 with a reset. */
    private static void serve(Socket s, int kind) {
        try (s) {
            InputStream in = new BufferedInputStream(s.getInputStream());
            OutputStream out = s.getOutputStream();
            for (int i = 1; i <= RESPONSES_PER_CONNECTION; i++) {
                if (!readHead(in)) {
                    return; // the proxy closed it first
                }
                boolean last = i == RESPONSES_PER_CONNECTION;
                out.write(last && kind == 0 ? CLOSE : KEEP);
                out.flush();
            }
            if (kind == 2) {
                s.setSoLinger(true, 0); // the close below sends RST
            }
        } catch (IOException gone) {
            // the proxy went away mid-exchange: nothing to answer
        }
    }

    /** Reads a request head up to its blank line; false at the end of the stream. */
    private static boolean readHead(InputStream in) throws IOException {
        int matched = 0;
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                return false;
            }
            matched = b == (matched % 2 == 0 ? '\r' : '\n') ? matched + 1 : b == '\r' ? 1 : 0;
        }
        return true;
    }

    @Override
    public void close() throws IOException {
        server.close();
    }
}
