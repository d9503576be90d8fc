package io.sourcemesh.proxy.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;

/**
 * A loopback port that refuses connections for as long as this is open: held by a socket bound but not
 * listening. A port found with {@code new ServerSocket(0)} and closed again at once is free for the next
 * bind(0) — the proxy's own listener or admin could get it, and the "dead" endpoint would then answer
 * through the proxy itself.
 */
public final class RefusingPort implements AutoCloseable {
    private final Socket socket;

    private RefusingPort(Socket socket) {
        this.socket = socket;
    }

    public static RefusingPort open() {
        Socket s = new Socket();
        try {
            s.bind(new InetSocketAddress("127.0.0.1", 0));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new RefusingPort(s);
    }

    public int port() {
        return socket.getLocalPort();
    }

    public InetSocketAddress address() {
        return new InetSocketAddress("127.0.0.1", port());
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
