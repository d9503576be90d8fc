package io.sourcemesh.trace.web;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.sourcemesh.trace.Trace;
import io.sourcemesh.trace.TraceException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;

/**
 * {@code sourcemesh dashboard}: the JDK's HTTP server on 127.0.0.1 only (the page shows the cluster
 * and can send probes, so it is not offered to the network), one server-rendered page and one JSON
 * endpoint for the access-log tail.
 */
public final class DashboardServer implements AutoCloseable {
    private final HttpServer server;
    private final DashboardSource source;

    private DashboardServer(HttpServer server, DashboardSource source) {
        this.server = server;
        this.source = source;
    }

    public static DashboardServer start(DashboardSource source, int port) throws IOException {
        HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port), 16);
        DashboardServer d = new DashboardServer(s, source);
        s.createContext("/", d::page);
        s.createContext("/api/logs", d::logs);
        s.setExecutor(Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "dashboard");
            t.setDaemon(true);
            return t;
        }));
        s.start();
        return d;
    }

    public String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/";
    }

    /**
     * Only the page's own requests: a trace sends a probe, so a page elsewhere must not make the browser
     * ask for one (Sec-Fetch-Site cross-site), nor reach this server under another name (DNS rebinding).
     */
    private boolean ownRequest(HttpExchange ex) throws IOException {
        int port = server.getAddress().getPort();
        String host = ex.getRequestHeaders().getFirst("Host");
        String site = ex.getRequestHeaders().getFirst("Sec-Fetch-Site");
        if ((("127.0.0.1:" + port).equals(host) || ("localhost:" + port).equals(host))
                && (site == null || site.equals("same-origin") || site.equals("none"))) {
            return true;
        }
        send(ex, 403, "text/plain", "forbidden: open " + url() + " directly");
        return false;
    }

    private void page(HttpExchange ex) throws IOException {
        if (!ownRequest(ex)) {
            return;
        }
        if (!ex.getRequestURI().getPath().equals("/")) {
            send(ex, 404, "text/plain", "not found");
            return;
        }
        Map<String, String> q = query(ex.getRequestURI().getRawQuery());
        String ns = q.getOrDefault("ns", "default");
        String url = q.get("url");
        Trace trace = null;
        String error = null;
        if (url != null && !url.isBlank()) {
            try {
                trace = q.containsKey("external") ? source.northSouth(url, q.get("client")) : source.eastWest(ns, q.getOrDefault("from", "deploy/sleep"), url);
            } catch (TraceException e) {
                error = e.getMessage();
            } catch (Exception e) {
                error = "trace failed: " + e.getMessage();
            }
        }
        String html;
        try {
            html = DashboardPage.render(source, ns, q.get("from"), q.get("external"), q.get("client"), url, trace, error);
        } catch (RuntimeException e) {
            send(ex, 500, "text/plain", "cannot read the cluster: " + e.getMessage());
            return;
        }
        send(ex, 200, "text/html; charset=utf-8", html);
    }

    private void logs(HttpExchange ex) throws IOException {
        if (!ownRequest(ex)) {
            return;
        }
        String client = query(ex.getRequestURI().getRawQuery()).getOrDefault("client", "");
        List<String> lines;
        try {
            lines = source.accessLogs().stream().filter(l -> client.isEmpty() || l.contains(client)).toList();
        } catch (RuntimeException e) {
            lines = List.of("cannot read the logs: " + e.getMessage());
        }
        lines = lines.subList(Math.max(0, lines.size() - 200), lines.size());
        send(ex, 200, "application/json", new ObjectMapper().writeValueAsString(lines));
    }

    private static Map<String, String> query(String raw) {
        Map<String, String> q = new HashMap<>();
        if (raw == null) {
            return q;
        }
        for (String kv : raw.split("&")) {
            int eq = kv.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? kv : kv.substring(0, eq), StandardCharsets.UTF_8);
            q.put(k, eq < 0 ? "" : URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8));
        }
        return q;
    }

    private static void send(HttpExchange ex, int code, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(code, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
