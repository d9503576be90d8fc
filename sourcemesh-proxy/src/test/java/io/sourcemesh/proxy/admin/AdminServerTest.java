package io.sourcemesh.proxy.admin;

import static io.sourcemesh.proxy.admin.AdminFixtures.curl;
import static io.sourcemesh.proxy.admin.AdminFixtures.get;
import static io.sourcemesh.proxy.admin.AdminFixtures.send;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.nio.NioIoHandler;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class AdminServerTest {
    private final AdminFixtures.FakeView view = new AdminFixtures.FakeView();
    private final List<Boolean> healthChecks = new CopyOnWriteArrayList<>();
    private final AtomicInteger quits = new AtomicInteger();
    private final List<String> drains = new CopyOnWriteArrayList<>();
    private AdminServer server;

    @BeforeEach
    void start() {
        server = AdminServer.start(new InetSocketAddress("127.0.0.1", 0), view, new AdminControl() {
            @Override public void quit() { quits.incrementAndGet(); }
            @Override public void healthCheck(boolean failing) { healthChecks.add(failing); }
            @Override public void drainListeners(boolean inboundOnly, boolean graceful, boolean skipExit) {
                drains.add(inboundOnly + "/" + graceful + "/" + skipExit);
            }
        });
    }

    @AfterEach
    void stop() {
        server.close();
    }

    @Test
    void readyIsLiveWhenAllListenersAreBound() throws Exception {
        HttpResponse<String> r = get(server, "/ready");
        assertEquals(200, r.statusCode());
        assertEquals("LIVE\n", r.body());
        assertEquals("LIVE\n\n200", curl(server, "/ready"));
    }

    @Test
    void readyIs503WhileInitializing() throws Exception {
        view.ready = false;
        HttpResponse<String> r = get(server, "/ready");
        assertEquals(503, r.statusCode());
        assertEquals("INITIALIZING\n", r.body());
        assertEquals("INITIALIZING\n\n503", curl(server, "/ready"));
    }

    @Test
    void healthcheckFailDrainsUntilOk() throws Exception {
        assertEquals("OK\n", send(server, "POST", "/healthcheck/fail").body());
        assertTrue(server.healthCheckFailed());
        HttpResponse<String> r = get(server, "/ready");
        assertEquals(503, r.statusCode());
        assertEquals("DRAINING\n", r.body());

        assertEquals(200, send(server, "POST", "/healthcheck/ok").statusCode());
        assertEquals("LIVE\n", get(server, "/ready").body());
        assertEquals(List.of(true, false), healthChecks);
    }

    @Test
    void postOnlyEndpointsRefuseGetAsEnvoyDoes() throws Exception {
        for (String path : List.of("/quitquitquit", "/healthcheck/fail", "/healthcheck/ok", "/drain_listeners")) {
            HttpResponse<String> r = get(server, path);
            assertEquals(405, r.statusCode(), path);
            assertEquals("Method GET not allowed, POST required.", r.body(), path);
        }
        assertEquals(0, quits.get());
        assertFalse(server.healthCheckFailed());
        assertEquals(200, send(server, "POST", "/quitquitquit").statusCode());
        assertEquals(1, quits.get());
        assertEquals("OK\n", send(server, "POST", "/drain_listeners?inboundonly&graceful").body());
        assertEquals("OK\n", send(server, "POST", "/drain_listeners?skip_exit").body());
        assertEquals(List.of("true/true/false", "false/false/true"), drains);
    }

    @Test
    void unknownPathIs404WithEnvoysHelp() throws Exception {
        HttpResponse<String> r = get(server, "/nope");
        assertEquals(404, r.statusCode());
        assertTrue(r.body().startsWith("invalid path. admin commands are:\n"), r.body());
        assertTrue(r.body().contains("  /config_dump: "), r.body());
    }

    @Test
    void homePageListsCommands() throws Exception {
        HttpResponse<String> r = get(server, "/");
        assertEquals(200, r.statusCode());
        assertTrue(r.body().startsWith("admin commands are:\n"));
        assertTrue(r.body().contains("  /stats/prometheus: print server stats in prometheus format\n"), r.body());
        assertEquals(r.body(), get(server, "/help").body());
    }

    @Test
    void serverInfoIsEnvoysJson() throws Exception {
        HttpResponse<String> r = get(server, "/server_info");
        assertEquals(200, r.statusCode());
        assertEquals("application/json", r.headers().firstValue("content-type").orElseThrow());
        JsonNode info = new ObjectMapper().readTree(r.body());
        assertEquals(AdminView.VERSION, info.get("version").asText());
        assertEquals("LIVE", info.get("state").asText());
        assertTrue(info.get("uptime_current_epoch").asText().matches("4[2-9]s"), r.body());
        assertEquals("httpbin.default", info.get("node").get("cluster").asText());
    }

    @Test
    void keepsTheConnectionAliveAcrossRequests() throws Exception {
        try (Socket socket = new Socket("127.0.0.1", server.localAddress().getPort())) {
            OutputStream out = socket.getOutputStream();
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
            for (int i = 0; i < 2; i++) {
                out.write("GET /ready HTTP/1.1\r\nHost: admin\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                out.flush();
                assertEquals("HTTP/1.1 200 OK", in.readLine());
                int length = -1;
                for (String h = in.readLine(); !h.isEmpty(); h = in.readLine()) {
                    if (h.toLowerCase().startsWith("content-length:")) {
                        length = Integer.parseInt(h.substring(15).trim());
                    }
                }
                char[] body = new char[length];
                assertEquals(length, in.read(body));
                assertEquals("LIVE\n", new String(body));
            }
        }
    }

    @Test
    void headAnswersHeadersOnly() throws Exception {
        HttpResponse<String> r = send(server, "HEAD", "/ready");
        assertEquals(200, r.statusCode());
        assertEquals("", r.body());
        assertEquals("5", r.headers().firstValue("content-length").orElseThrow());
    }

    @Test
    void bindsOnTheCallersEventLoops() throws Exception {
        List<EventLoopGroup> groups = new ArrayList<>();
        groups.add(new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory()));
        if (Epoll.isAvailable()) {
            groups.add(new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory()));
        }
        if (IoUring.isAvailable()) {
            groups.add(new MultiThreadIoEventLoopGroup(1, IoUringIoHandler.newFactory()));
        }
        for (EventLoopGroup group : groups) {
            try (AdminServer shared = AdminServer.start(new InetSocketAddress("127.0.0.1", 0), view,
                    AdminControl.none(), group)) {
                assertNotEquals(0, shared.localAddress().getPort());
                assertEquals("LIVE\n", get(shared, "/ready").body());
            } finally {
                group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).sync();
            }
        }
    }

    @Test
    void aTakenPortIsAClearError() {
        UncheckedIOException e = assertThrows(UncheckedIOException.class,
                () -> AdminServer.start(server.localAddress(), view));
        assertTrue(e.getMessage().contains("cannot bind"), e.getMessage());
    }
}
