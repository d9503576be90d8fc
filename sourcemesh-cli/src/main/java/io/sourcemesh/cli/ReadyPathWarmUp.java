package io.sourcemesh.cli;

import io.sourcemesh.cluster.daemon.HttpClusterApi;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What {@code up} runs once its daemon is ready — reading {@code daemon.json}, asking the daemon's info
 * over a socket, printing the lines — run first, while the daemon starts, on answers of the same shape:
 * in a cold CLI JVM that path loads ~300 classes (the streaming JSON parser, sockets, file channels) and
 * links its call sites, which otherwise sit between the daemon's ready and {@code up}'s exit.
 */
final class ReadyPathWarmUp {
    /** The daemon's info as its API answers it, with made-up values. */
    static final String INFO = "{\"runtime\":\"embedded\",\"home\":\"warm-up\",\"apiPort\":1,\"pid\":1,"
            + "\"nodes\":[\"node-1\",\"node-2\"],\"pods\":1,\"gatewayAddress\":null,\"meshSource\":\"store\"}";

    private ReadyPathWarmUp() {
    }

    /** Starts the warm-up on a daemon thread of its own; {@code readable}: a small file in the home (the daemon's log). */
    static void inBackground(Path readable) {
        Thread t = new Thread(() -> run(readable), "up-warm-up");
        t.setDaemon(true);
        t.start();
    }

    /** The ready path once, against a one-shot loopback answer; what fails is left to the real path to say. */
    static void run(Path readable) {
        try (ServerSocket answer = answerOnce(INFO)) {
            Files.readAllBytes(readable);
            io.sourcemesh.cluster.daemon.JsonTrees.read("{\"port\":1,\"pid\":1,\"runtime\":\"embedded\"}".getBytes(StandardCharsets.UTF_8));
            ProcessHandle.of(ProcessHandle.current().pid()).map(ProcessHandle::isAlive);
            var info = new HttpClusterApi(answer.getLocalPort()).info();
            UpCommand.printUp(new PrintWriter(Writer.nullWriter()), info, new io.sourcemesh.cluster.daemon.Home(readable.getParent()));
        } catch (IOException | RuntimeException e) {
            // a warm-up only
        }
    }

    /** A loopback server that answers its first connection with {@code json} as an HTTP/1.1 200, then closes. */
    static ServerSocket answerOnce(String json) throws IOException {
        ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        Thread t = new Thread(() -> {
            try (Socket s = server.accept()) {
                InputStream in = s.getInputStream();
                byte[] head = new byte[4096];
                int n = 0;
                while (n < head.length && !new String(head, 0, n, StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
                    int r = in.read(head, n, head.length - n);
                    if (r < 0) {
                        break;
                    }
                    n += r;
                }
                byte[] body = json.getBytes(StandardCharsets.UTF_8);
                s.getOutputStream().write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + body.length
                        + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
                s.getOutputStream().write(body);
            } catch (IOException e) {
                // closed before a client came
            }
        }, "up-warm-up-answer");
        t.setDaemon(true);
        t.start();
        return server;
    }
}
