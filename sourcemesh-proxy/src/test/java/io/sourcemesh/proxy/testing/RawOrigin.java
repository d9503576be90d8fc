package io.sourcemesh.proxy.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A misbehaving origin on loopback: for every request head it reads, it writes the canned bytes
 * as they are (extra responses, bytes past Content-Length, a body on HEAD) and keeps the socket open;
 * or, {@link #replyingInTurn}, the n-th request head it reads (on any connection) gets the n-th reply.
 */
public final class RawOrigin implements AutoCloseable {
    private final ServerSocket server;
    private final List<byte[]> replies;
    private final AtomicInteger answered = new AtomicInteger();
    private final AtomicInteger connections = new AtomicInteger();
    private final List<String> requests = new CopyOnWriteArrayList<>();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();

    private RawOrigin(String... replies) throws IOException {
        this.replies = java.util.Arrays.stream(replies).map(r -> r.getBytes(StandardCharsets.ISO_8859_1)).toList();
        server = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
        Thread.ofVirtual().start(this::accept);
    }

    public static RawOrigin replying(String reply) throws IOException {
        return new RawOrigin(reply);
    }

    /** The first request head read gets the first reply, the second the second...; the last one every request after. */
    public static RawOrigin replyingInTurn(String... replies) throws IOException {
        return new RawOrigin(replies);
    }

    public InetSocketAddress address() {
        return (InetSocketAddress) server.getLocalSocketAddress();
    }

    public int connections() {
        return connections.get();
    }

    public List<String> requests() {
        return List.copyOf(requests);
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                sockets.add(s);
                connections.incrementAndGet();
                Thread.ofVirtual().start(() -> serve(s));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s) {
        try (s) {
            InputStream in = s.getInputStream();
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            int b;
            while ((b = in.read()) >= 0) {
                head.write(b);
                String text = head.toString(StandardCharsets.ISO_8859_1);
                if (text.endsWith("\r\n\r\n")) {
                    requests.add(text);
                    head.reset();
                    int n = answered.getAndIncrement();
                    s.getOutputStream().write(replies.get(Math.min(n, replies.size() - 1)));
                    s.getOutputStream().flush();
                }
            }
        } catch (IOException e) {
            // the proxy closed us: that is what several tests wait for
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : sockets) {
            s.close();
        }
    }
}
