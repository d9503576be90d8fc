package io.sourcemesh.proxy.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/** Raw bytes over a real loopback socket, for framing tests curl would never send. */
public final class RawSocket implements AutoCloseable {
    private final Socket socket;

    /** What came back: the bytes read, and whether the peer closed (EOF or reset) before the wait ran out. */
    public record Reply(String text, boolean closed) {
        public String statusLine() {
            int eol = text.indexOf("\r\n");
            return eol < 0 ? text : text.substring(0, eol);
        }

        /** Number of status lines in the reply, i.e. responses the client was given. */
        public int responses() {
            int n = 0;
            for (int i = text.indexOf("HTTP/1."); i >= 0; i = text.indexOf("HTTP/1.", i + 1)) {
                if (i == 0 || text.startsWith("\r\n", i - 2)) {
                    n++;
                }
            }
            return n;
        }
    }

    private RawSocket(Socket socket) {
        this.socket = socket;
    }

    public static RawSocket connect(int port) throws IOException {
        return connect(new java.net.InetSocketAddress("127.0.0.1", port));
    }

    /** A connection to a loopback address other than 127.0.0.1 (a second listener on the same port). */
    public static RawSocket connect(java.net.InetSocketAddress address) throws IOException {
        Socket s = new Socket(address.getAddress(), address.getPort());
        s.setTcpNoDelay(true);
        return new RawSocket(s);
    }

    public RawSocket send(String text) throws IOException {
        return send(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    public RawSocket send(byte[] bytes) throws IOException {
        socket.getOutputStream().write(bytes);
        socket.getOutputStream().flush();
        return this;
    }

    /**
     * Reads until {@code complete} holds for what was read (or 10 s pass), then {@code settleMillis}
     * more to catch anything extra, stopping early if the peer closes.
     */
    public Reply readUntil(java.util.function.Predicate<String> complete, int settleMillis) throws IOException {
        StringBuilder all = new StringBuilder();
        long deadline = System.currentTimeMillis() + 10_000;
        while (!complete.test(all.toString()) && System.currentTimeMillis() < deadline) {
            Reply r = readUntilClose(100);
            all.append(r.text());
            if (r.closed()) {
                return new Reply(all.toString(), true);
            }
        }
        Reply rest = readUntilClose(settleMillis);
        return new Reply(all.append(rest.text()).toString(), rest.closed());
    }

    /** Reads until the peer closes or {@code millis} pass without a close. */
    public Reply readUntilClose(int millis) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        long deadline = System.currentTimeMillis() + millis;
        InputStream in = socket.getInputStream();
        byte[] buf = new byte[8192];
        while (true) {
            long left = deadline - System.currentTimeMillis();
            if (left <= 0) {
                return new Reply(out.toString(StandardCharsets.ISO_8859_1), false);
            }
            socket.setSoTimeout((int) left);
            try {
                int r = in.read(buf);
                if (r < 0) {
                    return new Reply(out.toString(StandardCharsets.ISO_8859_1), true);
                }
                out.write(buf, 0, r);
            } catch (SocketTimeoutException e) {
                return new Reply(out.toString(StandardCharsets.ISO_8859_1), false);
            } catch (java.net.SocketException e) {
                return new Reply(out.toString(StandardCharsets.ISO_8859_1), true); // reset
            }
        }
    }

    /** One exchange on a fresh connection: send, then read until close (or 10 s: a loaded machine can be slow). */
    public static Reply exchange(int port, String request) throws IOException {
        return exchange(new java.net.InetSocketAddress("127.0.0.1", port), request);
    }

    public static Reply exchange(java.net.InetSocketAddress address, String request) throws IOException {
        try (RawSocket s = connect(address)) {
            return s.send(request).readUntilClose(10_000);
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
