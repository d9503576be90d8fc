package io.sourcemesh.cluster.apps;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/** A running httpbin on its own loopback address, with a client and its access log at hand. */
final class HttpbinFixture implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();

    final EventLoopGroup group;
    final HttpbinApp app;
    final List<String> log = new CopyOnWriteArrayList<>();
    final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    private HttpbinFixture(String host) {
        group = new MultiThreadIoEventLoopGroup(2,
                Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        app = HttpbinApp.start(new InetSocketAddress(host, 0), group, log::add);
    }

    /** @param host a loopback address of its own, e.g. 127.17.0.5, so the test's sockets are distinct */
    static HttpbinFixture start(String host) {
        return new HttpbinFixture(host);
    }

    String base() {
        return "http://" + app.address().getHostString() + ":" + app.address().getPort();
    }

    URI uri(String path) {
        return URI.create(base() + path);
    }

    HttpResponse<String> get(String path) throws Exception {
        return send(HttpRequest.newBuilder(uri(path)).GET());
    }

    HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return client.send(request.timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode json(HttpResponse<String> response) throws Exception {
        return JSON.readTree(response.body());
    }

    @Override
    public void close() {
        app.close();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
