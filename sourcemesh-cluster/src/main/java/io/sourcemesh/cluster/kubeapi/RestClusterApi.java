package io.sourcemesh.cluster.kubeapi;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.sourcemesh.cluster.exec.ExecResult;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.patch.ClientSideApply;
import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.daemon.ClusterApi;
import io.sourcemesh.cluster.daemon.ClusterApiException;
import io.sourcemesh.cluster.daemon.Home;
import io.sourcemesh.cluster.daemon.HttpClusterApi;
import io.sourcemesh.cluster.daemon.JsonTrees;
import io.sourcemesh.cluster.store.ApplyResult;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Predicate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;

/**
 * The CLI's cluster verbs over the Kubernetes REST API, with the kubeconfig's CA and client
 * certificate — the requests the real kubectl makes, so the two cannot disagree. Apply is
 * kubectl's client-side apply (get, then create or a three-way-merged update); exec is the
 * WebSocket channel protocol ({@link ExecClient}). What is not Kubernetes API (a proxy's config
 * dump and admin endpoint, proxy-status, the daemon's own info) goes to the daemon ({@link HttpClusterApi}).
 */
public final class RestClusterApi implements ClusterApi {
    /** Writes only: reads go through {@link io.sourcemesh.cluster.daemon.JsonTrees}, a get needs no mapper. */
    private static final class Json {
        static final ObjectMapper MAPPER = new ObjectMapper();
    }

    private final URI server;
    private final String token;
    private final SSLContext tls;
    private final ApiConnection connection;
    private final HttpClusterApi daemon;
    private HttpClient http; // made on first use: only the streams (logs, exec) need it

    private RestClusterApi(KubeconfigCredentials credentials, HttpClusterApi daemon) {
        this.server = credentials.server();
        this.token = credentials.token();
        this.tls = credentials.tls();
        this.connection = new ApiConnection(tls, server);
        this.daemon = daemon;
    }

    private synchronized HttpClient http() {
        if (http == null) {
            http = HttpClient.newBuilder().sslContext(tls).version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(5)).build();
        }
        return http;
    }

    /** The API of the cluster running in {@code home}, or an error saying how to start one. */
    public static RestClusterApi forHome(Home home) {
        HttpClusterApi daemon = home.client();
        Path kubeconfig = Kubeconfig.in(home.path());
        if (!Files.exists(kubeconfig)) {
            throw new ClusterApiException(503, "error: the cluster in " + home.path() + " has no kubeconfig (" + kubeconfig
                    + "): restart it with `sourcemesh down` and `sourcemesh up`");
        }
        return new RestClusterApi(KubeconfigCredentials.read(kubeconfig), daemon);
    }

    /** A client of the API server {@code credentials} name; {@code daemon} (may be null) serves what is not Kubernetes API. */
    public static RestClusterApi of(KubeconfigCredentials credentials, HttpClusterApi daemon) {
        return new RestClusterApi(credentials, daemon);
    }

    // --- the Kubernetes verbs ---------------------------------------------------------------------------------

    /** kubectl's client-side apply, object by object: created, configured or unchanged; the server's warnings. */
    @Override
    public ApplyResponse apply(List<KubeObject> objects) {
        List<ApplyResult> results = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        for (KubeObject o : objects) {
            ResourceKind kind = kindOf(o);
            KubeObject modified = ClientSideApply.annotated(o);
            String version = versionOf(o, kind);
            Reply live = call("GET", url(kind, version, o.namespace(), o.name(), null, null), null, null);
            if (live.status() == 404) {
                Reply created = send("POST", url(kind, version, o.namespace(), null, null, null), "application/json", modified.node());
                warnings.addAll(created.warnings());
                results.add(new ApplyResult(created.object(), ApplyResult.Outcome.CREATED));
                continue;
            }
            KubeObject current = live.object();
            KubeObject merged = ClientSideApply.merged(modified, current, kind);
            Reply updated = send("PUT", url(kind, version, o.namespace(), o.name(), null, null), "application/json", merged.node());
            warnings.addAll(updated.warnings());
            KubeObject stored = updated.object();
            results.add(new ApplyResult(stored, stored.resourceVersion().equals(current.resourceVersion())
                    ? ApplyResult.Outcome.UNCHANGED : ApplyResult.Outcome.CONFIGURED));
        }
        return new ApplyResponse(results, warnings);
    }

    @Override
    public KubeObject create(KubeObject object) {
        ResourceKind kind = kindOf(object);
        return send("POST", url(kind, versionOf(object, kind), object.namespace(), null, null, null), "application/json",
                object.node()).object();
    }

    @Override
    public KubeObject update(KubeObject object) {
        ResourceKind kind = kindOf(object);
        return send("PUT", url(kind, versionOf(object, kind), object.namespace(), object.name(), null, null), "application/json",
                object.node()).object();
    }

    /** Deletes the object; answers its last state as read just before (the API answers a Status). */
    @Override
    public KubeObject delete(ResourceKind kind, String namespace, String name) {
        String url = url(kind, kind.versions().getFirst(), namespace, name, null, null);
        KubeObject last = call("GET", url, null, null).object();
        call("DELETE", url, null, null).ok();
        return last;
    }

    @Override
    public Optional<KubeObject> get(ResourceKind kind, String namespace, String name) {
        Reply r = call("GET", url(kind, kind.versions().getFirst(), namespace, name, null, null), null, null);
        return r.status() == 404 ? Optional.empty() : Optional.of(r.object());
    }

    @Override
    public List<KubeObject> list(ResourceKind kind, String namespace, String selector) {
        String query = selector == null || selector.isBlank() ? null : "labelSelector=" + encode(selector);
        JsonNode list = call("GET", url(kind, kind.versions().getFirst(), namespace, null, null, query), null, null).ok().json();
        List<KubeObject> out = new ArrayList<>();
        list.path("items").forEach(n -> out.add(KubeObject.of((ObjectNode) n)));
        return out;
    }

    @Override
    public KubeObject patch(ResourceKind kind, String namespace, String name, PatchType type, String patch) {
        String contentType = switch (type) {
            case JSON -> "application/json-patch+json";
            case MERGE -> "application/merge-patch+json";
            case STRATEGIC -> "application/strategic-merge-patch+json";
        };
        return call("PATCH", url(kind, kind.versions().getFirst(), namespace, name, null, null), contentType,
                patch.getBytes(StandardCharsets.UTF_8)).object();
    }

    @Override
    public ExecResult exec(String namespace, String pod, String container, List<String> command, byte[] stdin) {
        StringBuilder q = new StringBuilder();
        for (String c : command) {
            q.append("command=").append(encode(c)).append('&');
        }
        if (container != null) {
            q.append("container=").append(encode(container)).append('&');
        }
        boolean input = stdin != null && stdin.length > 0;
        q.append("stdout=true&stderr=true").append(input ? "&stdin=true" : "");
        URI uri = URI.create("wss" + server.toString().substring("https".length()) + path(ResourceKind.POD, "v1", namespace, pod, "exec")
                + "?" + q);
        return ExecClient.run(http(), uri, token, input ? stdin : new byte[0]);
    }

    @Override
    public void logs(String namespace, String pod, String container, boolean follow, int tail, Consumer<String> lines) {
        StringBuilder q = new StringBuilder();
        if (container != null) {
            q.append("container=").append(encode(container)).append('&');
        }
        if (follow) {
            q.append("follow=true&");
        }
        if (tail >= 0) {
            q.append("tailLines=").append(tail).append('&');
        }
        String query = q.isEmpty() ? null : q.substring(0, q.length() - 1);
        HttpRequest req = request("GET", url(ResourceKind.POD, "v1", namespace, pod, "log", query), null, null)
                .timeout(Duration.ofDays(365)).build();
        try {
            HttpResponse<InputStream> res = http().send(req, HttpResponse.BodyHandlers.ofInputStream());
            if (res.statusCode() != 200) {
                try (InputStream in = res.body()) {
                    throw failure(res.statusCode(), in.readAllBytes());
                }
            }
            try (BufferedReader r = new BufferedReader(new InputStreamReader(res.body(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    lines.accept(line);
                }
            }
        } catch (IOException e) {
            throw unreachable(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Waits, on the API's watch (no polling), until {@code done} accepts the object: it sees the
     * object as it is now (empty when there is none), then every change to it, as kubectl's waits do.
     * Answers whether {@code done} accepted it before {@code timeout} passed.
     */
    public boolean await(ResourceKind kind, String namespace, String name, Predicate<Optional<KubeObject>> done,
            Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        String version = kind.versions().getFirst();
        while (true) {
            Reply now = call("GET", url(kind, version, namespace, name, null, null), null, null);
            Optional<KubeObject> current = now.status() == 404 ? Optional.empty() : Optional.of(now.ok().object());
            if (done.test(current)) {
                return true;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            // the list's version would do as well; the object's (or "0" for none yet) starts the watch just after what was seen
            String from = current.map(KubeObject::resourceVersion).orElse("0");
            String query = "watch=1&fieldSelector=" + encode("metadata.name=" + name) + "&resourceVersion=" + encode(from)
                    + "&timeoutSeconds=" + Math.min(600, Duration.ofNanos(left).toSeconds() + 1);
            HttpRequest req = request("GET", url(kind, version, namespace, null, null, query), null, null)
                    .timeout(Duration.ofSeconds(Math.min(600, Duration.ofNanos(left).toSeconds() + 1) + 5)).build();
            try {
                HttpResponse<InputStream> res = http().send(req, HttpResponse.BodyHandlers.ofInputStream());
                if (res.statusCode() != 200) {
                    try (InputStream in = res.body()) {
                        byte[] body = in.readAllBytes();
                        if (res.statusCode() != 410) {
                            throw failure(res.statusCode(), body);
                        }
                    }
                    continue; // 410 Gone: the version is too old; read anew and watch from there
                }
                try (BufferedReader r = new BufferedReader(new InputStreamReader(res.body(), StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null; ) {
                        JsonNode event = JsonTrees.read(line.getBytes(StandardCharsets.UTF_8));
                        String type = event.path("type").asText();
                        if (type.equals("ERROR")) {
                            break; // a Status: read anew and watch again
                        }
                        if (!(event.path("object") instanceof ObjectNode o) || type.equals("BOOKMARK")) {
                            continue;
                        }
                        Optional<KubeObject> changed = type.equals("DELETED") ? Optional.empty() : Optional.of(KubeObject.of(o));
                        if (done.test(changed)) {
                            return true;
                        }
                    }
                }
            } catch (IOException e) {
                throw unreachable(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ClusterApiException(503, "error: interrupted");
            }
            if (System.nanoTime() >= deadline) {
                return false;
            }
        }
    }

    // --- what is not Kubernetes API: the daemon's own ---------------------------------------------------------

    @Override
    public String proxyConfig(String namespace, String pod) {
        return daemon().proxyConfig(namespace, pod);
    }

    @Override
    public String proxyAdmin(String namespace, String pod, String pathAndQuery) {
        return daemon().proxyAdmin(namespace, pod, pathAndQuery);
    }

    @Override
    public ClusterInfo info() {
        return daemon().info();
    }

    @Override
    public List<ProxyStatus> proxyStatus() {
        return daemon().proxyStatus();
    }

    private HttpClusterApi daemon() {
        if (daemon == null) {
            throw new ClusterApiException(503, "error: no SourceMesh daemon to ask (this client only has a kubeconfig)");
        }
        return daemon;
    }

    // --- HTTP -------------------------------------------------------------------------------------------------

    /** One answer: its status, body and the server's warnings (the {@code Warning} headers' texts). */
    record Reply(int status, byte[] body, List<String> warnings) {
        Reply ok() {
            if (status / 100 != 2) {
                throw failure(status, body);
            }
            return this;
        }

        JsonNode json() {
            try {
                return JsonTrees.read(body);
            } catch (IOException e) {
                throw new ClusterApiException(500, "error: the API server answered something that is not JSON: " + e.getMessage());
            }
        }

        KubeObject object() {
            ok();
            if (!(json() instanceof ObjectNode o)) {
                throw new ClusterApiException(500, "error: the API server answered something that is not an object");
            }
            return KubeObject.of(o);
        }
    }

    private Reply send(String method, String url, String contentType, JsonNode body) {
        try {
            return call(method, url, contentType, Json.MAPPER.writeValueAsBytes(body)).ok();
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private Reply call(String method, String url, String contentType, byte[] body) {
        URI uri = URI.create(url);
        String target = uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
        List<String> headers = new ArrayList<>(List.of("Accept", "application/json"));
        if (contentType != null) {
            headers.addAll(List.of("Content-Type", contentType));
        }
        if (token != null) {
            headers.addAll(List.of("Authorization", "Bearer " + token));
        }
        try {
            ApiConnection.Response res = connection.exchange(method, target, headers, body);
            List<String> warnings = new ArrayList<>();
            res.warnings().forEach(w -> warnings.add(warningText(w)));
            return new Reply(res.status(), res.body(), warnings);
        } catch (IOException e) {
            throw unreachable(e);
        }
    }

    private HttpRequest.Builder request(String method, String url, String contentType, byte[] body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofMinutes(5)).header("Accept", "application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return b;
    }

    private ClusterApiException unreachable(IOException e) {
        String why = e instanceof SSLException ? "TLS: " + e.getMessage() : String.valueOf(e.getMessage());
        return new ClusterApiException(503, "error: the Kubernetes API at " + server + " is not reachable (" + why
                + "): is the cluster up? try `sourcemesh up`");
    }

    /** A refusal as kubectl prints it: the Status's message (the CLI adds kubectl's prefix for its code). */
    static ClusterApiException failure(int status, byte[] body) {
        if (status == 401) {
            return new ClusterApiException(401, "error: You must be logged in to the server (Unauthorized)");
        }
        String message;
        try {
            JsonNode s = JsonTrees.read(body);
            message = s.path("message").asText("");
        } catch (IOException | RuntimeException e) {
            message = "";
        }
        if (message.isEmpty()) {
            message = "the server answered " + status + ": " + new String(body, StandardCharsets.UTF_8).strip();
        }
        return new ClusterApiException(status, message);
    }

    /** {@code 299 - "text"} → {@code text}. */
    static String warningText(String header) {
        int open = header.indexOf('"');
        int close = header.lastIndexOf('"');
        if (open < 0 || close <= open) {
            return header;
        }
        return header.substring(open + 1, close).replace("\\\"", "\"").replace("\\\\", "\\");
    }

    private String url(ResourceKind kind, String version, String namespace, String name, String sub, String query) {
        return server + path(kind, version, namespace, name, sub) + (query == null ? "" : "?" + query);
    }

    private static String path(ResourceKind kind, String version, String namespace, String name, String sub) {
        StringBuilder p = new StringBuilder(kind.group().isEmpty() ? "/api/" + version : "/apis/" + kind.group() + "/" + version);
        if (kind.namespaced() && namespace != null) {
            p.append("/namespaces/").append(encode(namespace.isEmpty() ? "default" : namespace));
        }
        p.append('/').append(kind.plural());
        if (name != null) {
            p.append('/').append(encode(name));
        }
        if (sub != null) {
            p.append('/').append(sub);
        }
        return p.toString();
    }

    private static ResourceKind kindOf(KubeObject o) {
        return o.resourceKind().orElseThrow(() -> new ClusterApiException(400,
                "error: the server doesn't have a resource type \"" + o.kind() + "\""));
    }

    /** The version an object names, if this kind serves it (a manifest's apiVersion is kept), else the preferred one. */
    private static String versionOf(KubeObject o, ResourceKind kind) {
        String apiVersion = o.node().path("apiVersion").asText("");
        String v = apiVersion.substring(apiVersion.indexOf('/') + 1);
        return kind.versions().contains(v) ? v : kind.versions().getFirst();
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
