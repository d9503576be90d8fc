package io.sourcemesh.cluster.daemon;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.store.ApplyResult;
import io.sourcemesh.cluster.store.StoreException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;

/**
 * Serves a {@link ClusterApi} as JSON over HTTP on a loopback port, for the CLI. One POST per
 * verb ({@code /v1/apply}, {@code /v1/get}, …); errors answer with a status and {"message": ...}.
 */
public final class ClusterApiServer implements AutoCloseable {
    /**
     * Jackson's default 20M-character cap on one string would refuse an exec's stdin (base64, up
     * to {@link ClusterApi#MAX_EXEC_STDIN} bytes) or a large stdout; allow what exec may carry.
     */
    static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxStringLength(4 * ClusterApi.MAX_EXEC_STDIN).build())
            .build());
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
            if (verb.equals("logs")) {
                streamLogs(ex, body);
                return;
            }
            JsonNode result;
            try {
                result = dispatch(verb, body);
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
            byte[] out = JSON.writeValueAsBytes(result);
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
            case "apply" -> {
                ClusterApi.ApplyResponse r = api.apply(objects(b.path("objects")));
                ObjectNode out = JSON.createObjectNode();
                ArrayNode results = out.putArray("results");
                for (ApplyResult a : r.results()) {
                    results.addObject().put("outcome", a.outcome().name()).set("object", a.object().node());
                }
                ArrayNode warnings = out.putArray("warnings");
                r.warnings().forEach(warnings::add);
                yield out;
            }
            case "create" -> api.create(KubeObject.of((ObjectNode) b.path("object"))).node();
            case "delete" -> api.delete(kind(b), ns(b), b.path("name").asText()).node();
            case "get" -> api.get(kind(b), ns(b), b.path("name").asText()).map(o -> (JsonNode) o.node())
                    .orElseThrow(() -> new ClusterApiException(404, notFound(kind(b), b.path("name").asText())));
            case "list" -> {
                ArrayNode items = JSON.createArrayNode();
                api.list(kind(b), b.hasNonNull("namespace") ? b.path("namespace").asText() : null, b.path("selector").asText(""))
                        .forEach(o -> items.add(o.node()));
                yield items;
            }
            case "patch" -> api.patch(kind(b), ns(b), b.path("name").asText(), PatchType.valueOf(b.path("type").asText()),
                    b.path("patch").asText()).node();
            case "exec" -> {
                List<String> cmd = new ArrayList<>();
                b.path("command").forEach(c -> cmd.add(c.asText()));
                byte[] stdin = stdin(b);
                ClusterApi.ExecResult r = api.exec(ns(b), b.path("pod").asText(), b.path("container").asText(null), cmd, stdin);
                ObjectNode out = JSON.createObjectNode();
                out.put("exitCode", r.exitCode()).put("stdout", r.stdout()).put("stderr", r.stderr());
                yield out;
            }
            case "proxy-config" -> JSON.createObjectNode().put("dump", api.proxyConfig(ns(b), b.path("pod").asText()));
            case "proxy-admin" -> JSON.createObjectNode().put("body",
                    api.proxyAdmin(ns(b), b.path("pod").asText(), b.path("path").asText()));
            case "rollout-restart" -> api.rolloutRestart(ns(b), b.path("name").asText()).node();
            case "proxy-status" -> JSON.valueToTree(api.proxyStatus());
            case "info" -> JSON.valueToTree(api.info());
            case "shutdown" -> {
                Thread.ofVirtual().start(shutdown);
                yield JSON.createObjectNode().put("stopping", true);
            }
            default -> throw new ClusterApiException(404, "unknown verb " + verb);
        };
    }

    private void streamLogs(HttpExchange ex, JsonNode b) throws IOException {
        ex.getResponseHeaders().set("content-type", "text/plain; charset=utf-8");
        ex.sendResponseHeaders(200, 0);
        OutputStream out = ex.getResponseBody();
        try {
            api.logs(ns(b), b.path("pod").asText(), b.path("container").asText(null), b.path("follow").asBoolean(),
                    b.path("tail").asInt(-1), line -> {
                        try {
                            out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
                            out.flush();
                        } catch (IOException e) {
                            throw new java.io.UncheckedIOException(e); // the client went away: stop following
                        }
                    });
        } catch (java.io.UncheckedIOException gone) {
            // nothing to do
        } catch (RuntimeException e) {
            out.write(("error: " + e.getMessage() + "\n").getBytes(StandardCharsets.UTF_8));
        }
    }

    static String notFound(ResourceKind kind, String name) {
        return "Error from server (NotFound): " + kind.qualifiedPlural() + " \"" + name + "\" not found";
    }

    private static List<KubeObject> objects(JsonNode array) {
        List<KubeObject> out = new ArrayList<>();
        array.forEach(n -> out.add(KubeObject.of((ObjectNode) n)));
        return out;
    }

    /** An exec's standard input: base64 in "stdin", absent when empty. */
    private static byte[] stdin(JsonNode b) {
        JsonNode n = b.path("stdin");
        if (n.isMissingNode() || n.isNull()) {
            return new byte[0];
        }
        byte[] bytes;
        try {
            bytes = n.binaryValue();
        } catch (IOException e) {
            throw new ClusterApiException(400, "error: exec stdin is not base64: " + e.getMessage());
        }
        if (bytes == null) {
            throw new ClusterApiException(400, "error: exec stdin is not base64");
        }
        if (bytes.length > ClusterApi.MAX_EXEC_STDIN) {
            throw new ClusterApiException(413, "error: exec stdin is larger than " + (ClusterApi.MAX_EXEC_STDIN >> 20) + " MiB");
        }
        return bytes;
    }

    private static ResourceKind kind(JsonNode b) {
        return ResourceKind.lookup(b.path("kind").asText())
                .orElseThrow(() -> new ClusterApiException(400, "error: the server doesn't have a resource type \"" + b.path("kind").asText() + "\""));
    }

    private static String ns(JsonNode b) {
        return b.path("namespace").asText("default");
    }

    static Map<String, String> query(String raw) {
        Map<String, String> out = new HashMap<>();
        if (raw == null) {
            return out;
        }
        for (String kv : raw.split("&")) {
            int eq = kv.indexOf('=');
            out.put(URLDecoder.decode(eq < 0 ? kv : kv.substring(0, eq), StandardCharsets.UTF_8),
                    eq < 0 ? "" : URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8));
        }
        return out;
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
