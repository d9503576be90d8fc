package io.sourcemesh.cluster.apps;

import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * httpbin as a process of its own: {@code HttpbinMain [PORT]} serves on 0.0.0.0:PORT (8000) and
 * prints gunicorn's log lines on stdout, so it can run inside a pod's network namespace. Stops on SIGTERM.
 */
public final class HttpbinMain {
    private HttpbinMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 8000;
        MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        HttpbinApp app = HttpbinApp.start(new InetSocketAddress("0.0.0.0", port), group, HttpbinMain::print);
        print("[" + Instant.now() + "] [1] [INFO] Listening at: http://0.0.0.0:" + port);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            app.close();
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            stopped.countDown();
        }));
        stopped.await();
    }

    private static synchronized void print(String line) {
        System.out.println(line);
        System.out.flush();
    }
}
