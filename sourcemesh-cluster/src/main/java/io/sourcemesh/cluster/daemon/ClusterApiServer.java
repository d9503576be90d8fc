package io.sourcemesh.cluster.daemon;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.sourcemesh.cluster.store.StoreException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.Executors;

/**
 * The daemon's own API, JSON over HTTP on a loopback port: what is not Kubernetes API — a pod's
 * proxy config dump and admin endpoint (istioctl reaches Envoy's admin port for these),
 * proxy-status (istiod's debug endpoint), the daemon's info and shutdown. One POST per verb
 * ({@code /v1/info}, …); errors answer with a status and {"message": ...}. The cluster's objects,
 * exec and logs are served only by the Kubernetes API ({@code cluster.kubeapi}).
 */
public final class ClusterApiServer implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    private final HttpServer server;
    private final ClusterApi api;
    private final Runnable shutdown;

    private ClusterApiServer(HttpServer server, ClusterApi api, Runnable shutdown) {
        this.server = server;
        this.api = api;
        this.shutdown = shutdown;
    }

    public static ClusterApiServer start(InetSocketAddress bind, ClusterApi api, Runnable shutdown) throws IOException {
        HttpServer server = HttpServer.create(bind, 64);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        ClusterApiServer s = new ClusterApiServer(server, api, shutdown);
        server.createContext("/v1/", s::handle);
        server.start();
        return s;
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            String verb = ex.getRequestURI().getPath().substring("/v1/".length());
            JsonNode body = readBody(ex);
            byte[] out;
            try {
                out = verb.equals("info") ? infoJson(api.info()) : JSON.writeValueAsBytes(dispatch(verb, body));
            } catch (ClusterApiException e) {
                error(ex, e.status(), e.getMessage());
                return;
            } catch (StoreException e) {
                error(ex, statusOf(e), e.getMessage());
                return;
            } catch (IllegalArgumentException e) {
                error(ex, 400, e.getMessage());
                return;
            } catch (RuntimeException e) {
                error(ex, 500, String.valueOf(e.getMessage()));
                return;
            }
            ex.getResponseHeaders().set("content-type", "application/json");
            ex.sendResponseHeaders(200, out.length);
            ex.getResponseBody().write(out);
        }
    }

    static int statusOf(StoreException e) {
        return switch (e.reason()) {
            case NOT_FOUND -> 404;
            case ALREADY_EXISTS, CONFLICT -> 409;
            case INVALID -> 422;
            case FORBIDDEN -> 403;
        };
    }

    private static JsonNode readBody(HttpExchange ex) throws IOException {
        byte[] b = ex.getRequestBody().readAllBytes();
        return b.length == 0 ? JSON.createObjectNode() : JSON.readTree(b);
    }

    private JsonNode dispatch(String verb, JsonNode b) {
        return switch (verb) {
            case "proxy-config" -> JSON.createObjectNode().put("dump", api.proxyConfig(ns(b), b.path("pod").asText()));
            case "proxy-admin" -> JSON.createObjectNode().put("body",
                    api.proxyAdmin(ns(b), b.path("pod").asText(), b.path("path").asText()));
            case "proxy-status" -> JSON.valueToTree(api.proxyStatus());
            case "shutdown" -> {
                Thread.ofVirtual().start(shutdown);
                yield JSON.createObjectNode().put("stopping", true);
            }
            default -> throw new ClusterApiException(404, "unknown verb " + verb
                    + " (the cluster's objects, exec and logs are served by the Kubernetes API: see the kubeconfig)");
        };
    }

    /**
     * The info as Jackson's binding of the record writes it (its fields in order, nulls as null), by the
     * streaming generator: {@code up} waits on this answer, the first a daemon gives, and binding the
     * record (its serializer built, annotations read through proxies, a token buffer to a tree) was ~400
     * classes and a cold path between the daemon's ready and {@code up}'s exit.
     */
    static byte[] infoJson(ClusterApi.ClusterInfo info) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        try (JsonGenerator g = JSON.getFactory().createGenerator(bytes)) {
            g.writeStartObject();
            g.writeStringField("runtime", info.runtime());
            g.writeStringField("home", info.home());
            g.writeNumberField("apiPort", info.apiPort());
            g.writeNumberField("pid", info.pid());
            strings(g, "nodes", info.nodes());
            g.writeNumberField("pods", info.pods());
            g.writeStringField("gatewayAddress", info.gatewayAddress());
            g.writeStringField("meshSource", info.meshSource());
            strings(g, "invalidObjects", info.invalidObjects());
            g.writeEndObject();
        }
        return bytes.toByteArray();
    }

    private static void strings(JsonGenerator g, String field, List<String> values) throws IOException {
        if (values == null) {
            g.writeNullField(field);
            return;
        }
        g.writeArrayFieldStart(field);
        for (String v : values) {
            g.writeString(v);
        }
        g.writeEndArray();
    }

    private static String ns(JsonNode b) {
        return b.path("namespace").asText("default");
    }

    private static void error(HttpExchange ex, int status, String message) throws IOException {
        byte[] out = JSON.writeValueAsBytes(JSON.createObjectNode().put("message", message));
        ex.getResponseHeaders().set("content-type", "application/json");
        ex.sendResponseHeaders(status, out.length);
        ex.getResponseBody().write(out);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
