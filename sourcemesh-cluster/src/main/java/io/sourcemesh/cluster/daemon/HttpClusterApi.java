package io.sourcemesh.cluster.daemon;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.store.ApplyResult;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/** The CLI's side of {@link ClusterApiServer}: each verb one JSON POST to the daemon on loopback. */
public final class HttpClusterApi implements ClusterApi {
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final URI base;

    public HttpClusterApi(int port) {
        this.base = URI.create("http://127.0.0.1:" + port + "/v1/");
    }

    private JsonNode call(String verb, ObjectNode body) {
        try {
            HttpRequest req = HttpRequest.newBuilder(base.resolve(verb))
                    .timeout(Duration.ofMinutes(5))
                    .header("content-type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(ClusterApiServer.JSON.writeValueAsBytes(body)))
                    .build();
            HttpResponse<byte[]> res = http.send(req, HttpResponse.BodyHandlers.ofByteArray());
            JsonNode json = ClusterApiServer.JSON.readTree(res.body());
            if (res.statusCode() != 200) {
                throw new ClusterApiException(res.statusCode(), json.path("message").asText("error " + res.statusCode()));
            }
            return json;
        } catch (IOException e) {
            throw new ClusterApiException(503, "the cluster is not reachable (" + e.getMessage() + "): is it up? try `sourcemesh up`");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ClusterApiException(503, "interrupted");
        }
    }

    private static ObjectNode body() {
        return ClusterApiServer.JSON.createObjectNode();
    }

    private static ObjectNode ref(ResourceKind kind, String namespace, String name) {
        ObjectNode b = body().put("kind", kind.qualifiedPlural()).put("name", name);
        if (namespace != null) {
            b.put("namespace", namespace);
        }
        return b;
    }

    @Override
    public ApplyResponse apply(List<KubeObject> objects) {
        ObjectNode b = body();
        ArrayNode arr = b.putArray("objects");
        objects.forEach(o -> arr.add(o.node()));
        JsonNode r = call("apply", b);
        List<ApplyResult> results = new ArrayList<>();
        r.path("results").forEach(n -> results.add(new ApplyResult(KubeObject.of((ObjectNode) n.path("object")),
                ApplyResult.Outcome.valueOf(n.path("outcome").asText()))));
        List<String> warnings = new ArrayList<>();
        r.path("warnings").forEach(w -> warnings.add(w.asText()));
        return new ApplyResponse(results, warnings);
    }

    @Override
    public KubeObject create(KubeObject object) {
        ObjectNode b = body();
        b.set("object", object.node());
        return KubeObject.of((ObjectNode) call("create", b));
    }

    @Override
    public KubeObject delete(ResourceKind kind, String namespace, String name) {
        return KubeObject.of((ObjectNode) call("delete", ref(kind, namespace, name)));
    }

    @Override
    public Optional<KubeObject> get(ResourceKind kind, String namespace, String name) {
        try {
            return Optional.of(KubeObject.of((ObjectNode) call("get", ref(kind, namespace, name))));
        } catch (ClusterApiException e) {
            if (e.status() == 404) {
                return Optional.empty();
            }
            throw e;
        }
    }

    @Override
    public List<KubeObject> list(ResourceKind kind, String namespace, String selector) {
        ObjectNode b = body().put("kind", kind.qualifiedPlural()).put("selector", selector == null ? "" : selector);
        if (namespace != null) {
            b.put("namespace", namespace);
        }
        List<KubeObject> out = new ArrayList<>();
        call("list", b).forEach(n -> out.add(KubeObject.of((ObjectNode) n)));
        return out;
    }

    @Override
    public KubeObject patch(ResourceKind kind, String namespace, String name, PatchType type, String patch) {
        ObjectNode b = ref(kind, namespace, name).put("type", type.name()).put("patch", patch);
        return KubeObject.of((ObjectNode) call("patch", b));
    }

    @Override
    public ExecResult exec(String namespace, String pod, String container, List<String> command, byte[] stdin) {
        ObjectNode b = body().put("namespace", namespace).put("pod", pod);
        if (container != null) {
            b.put("container", container);
        }
        ArrayNode cmd = b.putArray("command");
        command.forEach(cmd::add);
        if (stdin != null && stdin.length > 0) {
            b.put("stdin", stdin); // base64, as Jackson writes binary
        }
        JsonNode r = call("exec", b);
        return new ExecResult(r.path("exitCode").asInt(), r.path("stdout").asText(), r.path("stderr").asText());
    }

    @Override
    public void logs(String namespace, String pod, String container, boolean follow, int tail, Consumer<String> lines) {
        ObjectNode b = body().put("namespace", namespace).put("pod", pod).put("follow", follow).put("tail", tail);
        if (container != null) {
            b.put("container", container);
        }
        try {
            HttpRequest req = HttpRequest.newBuilder(base.resolve("logs"))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(ClusterApiServer.JSON.writeValueAsBytes(b))).build();
            HttpResponse<java.io.InputStream> res = http.send(req, HttpResponse.BodyHandlers.ofInputStream());
            try (BufferedReader r = new BufferedReader(new InputStreamReader(res.body(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    lines.accept(line);
                }
            }
        } catch (IOException e) {
            throw new ClusterApiException(503, "the cluster is not reachable: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String proxyConfig(String namespace, String pod) {
        return call("proxy-config", body().put("namespace", namespace).put("pod", pod)).path("dump").asText();
    }

    @Override
    public String proxyAdmin(String namespace, String pod, String pathAndQuery) {
        return call("proxy-admin", body().put("namespace", namespace).put("pod", pod).put("path", pathAndQuery)).path("body").asText();
    }

    @Override
    public KubeObject rolloutRestart(String namespace, String deployment) {
        return KubeObject.of((ObjectNode) call("rollout-restart", body().put("namespace", namespace).put("name", deployment)));
    }

    @Override
    public ClusterInfo info() {
        return ClusterApiServer.JSON.convertValue(call("info", body()), ClusterInfo.class);
    }

    @Override
    public List<ProxyStatus> proxyStatus() {
        return List.of(ClusterApiServer.JSON.convertValue(call("proxy-status", body()), ProxyStatus[].class));
    }

    /** Asks the daemon to stop. */
    public void shutdown() {
        call("shutdown", body());
    }
}
