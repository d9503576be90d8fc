package io.sourcemesh.cluster.kubeapi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.LabelSelector;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.api.support.SupportCheck;
import io.sourcemesh.cluster.daemon.ClusterApi;
import io.sourcemesh.cluster.store.ObjectStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The REST verbs on one resource URL: get, list (label and field selectors), watch, create, update,
 * patch (JSON, merge, strategic merge), delete, and pods' log. Writes go through {@link ClusterApi};
 * reads, and the resourceVersion a list is consistent at, come from the store under its lock.
 */
final class Resources {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final YAMLMapper YAML = new YAMLMapper();
    private static final long BOOKMARK_EVERY_MS = 5_000;

    private final ClusterApi api;
    private final ObjectStore store;
    private final WatchHub watches;
    private final Clock clock = Clock.systemUTC();

    Resources(ClusterApi api, ObjectStore store, WatchHub watches) {
        this.api = api;
        this.store = store;
        this.watches = watches;
    }

    ClusterApi api() {
        return api;
    }

    ObjectStore store() {
        return store;
    }

    void handle(FullHttpRequest req, ApiTarget t, Map<String, List<String>> q, KubeApiHandler.Exchange ex) {
        String method = req.method().name();
        String sub = t.subresource();
        if (t.name() == null) {
            switch (method) {
                case "GET" -> {
                    if (flag(q, "watch")) {
                        watch(req, t, q, ex);
                    } else {
                        list(req, t, q, ex);
                    }
                }
                case "POST" -> create(req, t, q, ex);
                default -> throw ApiException.methodNotAllowed("the server does not allow this method on the requested resource");
            }
            return;
        }
        if (t.kind().namespaced() && t.namespace() == null) {
            throw ApiTarget.notFound();
        }
        if (sub != null && !sub.equals("status")) {
            if (sub.equals("log") && t.kind().equals(ResourceKind.POD) && method.equals("GET")) {
                logs(t, q, ex);
                return;
            }
            if (sub.equals("exec") && t.kind().equals(ResourceKind.POD)) {
                throw ApiException.badRequest("Upgrade request required: exec is served over WebSocket (v5.channel.k8s.io)");
            }
            throw ApiTarget.notFound();
        }
        switch (method) {
            case "GET" -> get(req, t, q, ex);
            case "PUT" -> {
                if (sub != null) {
                    throw ApiException.methodNotAllowed("the status of " + t.kind().qualifiedPlural()
                            + " is written by the cluster's controllers");
                }
                update(req, t, q, ex);
            }
            case "PATCH" -> {
                if (sub != null) {
                    throw ApiException.methodNotAllowed("the status of " + t.kind().qualifiedPlural()
                            + " is written by the cluster's controllers");
                }
                patch(req, t, q, ex);
            }
            case "DELETE" -> delete(req, t, q, ex);
            default -> throw ApiException.methodNotAllowed("the server does not allow this method on the requested resource");
        }
    }

    // --- reads -----------------------------------------------------------------------------------------------

    private void get(FullHttpRequest req, ApiTarget t, Map<String, List<String>> q, KubeApiHandler.Exchange ex) {
        KubeObject o = store.get(t.kind(), t.namespace(), t.name())
                .orElseThrow(() -> ApiException.notFound(t.kind().qualifiedPlural(), t.name()));
        if (wantsTable(req)) {
            ex.json(200, Tables.of(t.kind(), List.of(present(o, t)), o.resourceVersion(), wholeObjects(q), clock), List.of());
        } else {
            ex.json(200, present(o, t), List.of());
        }
    }

    private void list(FullHttpRequest req, ApiTarget t, Map<String, List<String>> q, KubeApiHandler.Exchange ex) {
        Predicate<KubeObject> fields = FieldSelector.parse(t.kind(), param(q, "fieldSelector"));
        LabelSelector labels = labels(q);
        long rv;
        List<KubeObject> items;
        synchronized (store) {
            rv = store.resourceVersion();
            items = store.list(t.kind(), t.namespace(), labels);
        }
        List<JsonNode> presented = new ArrayList<>();
        for (KubeObject o : items) {
            if (fields.test(o)) {
                presented.add(present(o, t));
            }
        }
        if (wantsTable(req)) {
            ex.json(200, Tables.of(t.kind(), presented, Long.toString(rv), wholeObjects(q), clock), List.of());
            return;
        }
        ObjectNode list = F.objectNode();
        list.put("apiVersion", t.apiVersion()).put("kind", t.kind().kind() + "List");
        list.putObject("metadata").put("resourceVersion", Long.toString(rv));
        ArrayNode arr = list.putArray("items");
        presented.forEach(arr::add);
        ex.json(200, list, List.of());
    }

    /**
     * A watch: chunked JSON events ({"type":"ADDED","object":{...}}) after the requested
     * resourceVersion — or, without one, ADDED for every current object first — until the client
     * goes away or {@code timeoutSeconds} pass. Bookmarks when asked for. 410 Gone when the version
     * is older than the watch cache holds.
     */
    private void watch(FullHttpRequest req, ApiTarget t, Map<String, List<String>> q, KubeApiHandler.Exchange ex) {
        Predicate<KubeObject> fields = FieldSelector.parse(t.kind(), param(q, "fieldSelector"));
        LabelSelector labels = labels(q);
        String ns = t.kind().namespaced() ? t.namespace() : null;
        Predicate<KubeObject> filter = o -> o.kind().equals(t.kind().kind())
                && (ns == null || ns.equals(o.namespace())) && labels.matches(o.labels()) && fields.test(o);
        String rvParam = param(q, "resourceVersion");
        WatchHub.Subscription sub;
        if (rvParam == null || rvParam.isEmpty() || rvParam.equals("0")) {
            synchronized (store) {
                long rv = store.resourceVersion();
                List<KubeObject> initial = store.list(t.kind(), t.namespace(), labels).stream().filter(fields).toList();
                sub = watches.subscribe(rv, filter, initial);
            }
        } else {
            long rv;
            try {
                rv = Long.parseLong(rvParam);
            } catch (NumberFormatException e) {
                throw ApiException.badRequest("invalid resourceVersion \"" + rvParam + "\"");
            }
            sub = watches.subscribe(rv, filter, List.of());
        }
        boolean table = wantsTable(req);
        boolean bookmarks = flag(q, "allowWatchBookmarks");
        String timeout = param(q, "timeoutSeconds");
        long deadline = timeout == null ? Long.MAX_VALUE : System.currentTimeMillis() + 1000L * Long.parseLong(timeout);
        Thread self = Thread.currentThread();
        ex.onClose(self::interrupt);
        try (sub) {
            ex.startStream("application/json");
            long lastWrite = System.currentTimeMillis();
            long lastBookmark = -1;
            while (ex.open() && System.currentTimeMillis() < deadline) {
                WatchHub.Event e = sub.poll(Math.min(1000, Math.max(1, deadline - System.currentTimeMillis())));
                if (e == WatchHub.OVERFLOW) {
                    break; // too far behind: the client lists and watches again
                }
                if (e == null) {
                    long rv = sub.bookmarkVersion();
                    if (bookmarks && rv > lastBookmark && System.currentTimeMillis() - lastWrite >= BOOKMARK_EVERY_MS) {
                        ObjectNode o = F.objectNode();
                        o.put("kind", t.kind().kind()).put("apiVersion", t.apiVersion());
                        o.putObject("metadata").put("resourceVersion", Long.toString(rv));
                        ex.chunk(event("BOOKMARK", o));
                        lastBookmark = rv;
                        lastWrite = System.currentTimeMillis();
                    }
                    continue;
                }
                JsonNode object = present(e.object(), t);
                if (table) {
                    object = Tables.of(t.kind(), List.of(object), e.object().resourceVersion(), wholeObjects(q), clock);
                }
                ex.chunk(event(e.type().name(), object));
                lastWrite = System.currentTimeMillis();
            }
        } catch (InterruptedException gone) {
            Thread.interrupted(); // the client closed the connection
        }
        if (ex.open()) {
            ex.end();
        }
    }

    private static byte[] event(String type, JsonNode object) {
        ObjectNode e = F.objectNode();
        e.put("type", type);
        e.set("object", object);
        try {
            byte[] json = KubeApiHandler.JSON.writeValueAsBytes(e);
            byte[] line = java.util.Arrays.copyOf(json, json.length + 1);
            line[json.length] = '\n';
            return line;
        } catch (IOException x) {
            throw new IllegalStateException(x);
        }
    }

    private static final Set<String> UNSUPPORTED_LOG_PARAMS = Set.of("sinceSeconds", "sinceTime", "limitBytes");

    /** {@code pods/NAME/log}: the container's lines as text, streamed while following. */
    private void logs(ApiTarget t, Map<String, List<String>> q, KubeApiHandler.Exchange ex) {
        for (String p : UNSUPPORTED_LOG_PARAMS) {
            if (q.containsKey(p)) {
                throw ApiException.badRequest("log option " + p + " is not supported by SourceMesh");
            }
        }
        if (flag(q, "previous")) {
            throw ApiException.badRequest("previous terminated container logs are not kept by SourceMesh");
        }
        if (flag(q, "timestamps")) {
            throw ApiException.badRequest("log option timestamps is not supported by SourceMesh");
        }
        KubeObject pod = store.get(ResourceKind.POD, t.namespace(), t.name())
                .orElseThrow(() -> ApiException.notFound("pods", t.name()));
        String container = param(q, "container");
        if (container != null) {
            boolean known = false;
            for (JsonNode c : pod.spec().path("containers")) {
                known |= c.path("name").asText().equals(container);
            }
            if (!known) {
                throw ApiException.badRequest("container " + container + " is not valid for pod " + t.name());
            }
        }
        boolean follow = flag(q, "follow");
        String tail = param(q, "tailLines");
        int tailLines;
        try {
            tailLines = tail == null ? -1 : Integer.parseInt(tail);
        } catch (NumberFormatException e) {
            throw ApiException.badRequest("invalid tailLines \"" + tail + "\"");
        }
        Thread self = Thread.currentThread();
        ex.onClose(self::interrupt);
        ex.startStream("text/plain");
        try {
            api.logs(t.namespace(), t.name(), container, follow, tailLines, line -> {
                if (!ex.open()) {
                    throw new ClientGone();
                }
                ex.chunk((line + "\n").getBytes(StandardCharsets.UTF_8));
            });
        } catch (ClientGone gone) {
            return;
        } catch (RuntimeException e) {
            ex.chunk(("error: " + ApiException.of(e).getMessage() + "\n").getBytes(StandardCharsets.UTF_8));
        } finally {
            Thread.interrupted();
        }
        if (ex.open()) {
            ex.end();
        }
    }

    private static final class ClientGone extends RuntimeException {
        ClientGone() {
            super(null, null, false, false);
        }
    }

    // --- writes ----------------------------------------------------------------------------------------------

    private void create(FullHttpRequest req, ApiTarget t, Map<String, List<String>> q, KubeApiHandler.Exchange ex) {
        writeOptions(q);
        if (t.kind().namespaced() && t.namespace() == null) {
            throw ApiException.methodNotAllowed("POST of " + t.kind().plural() + " needs a namespace in the path");
        }
        KubeObject o = body(req, t);
        KubeObject created = api.create(o);
        ex.json(201, present(created, t), warnings(o, created));
    }

    private void update(FullHttpRequest req, ApiTarget t, Map<String, List<String>> q, KubeApiHandler.Exchange ex) {
        writeOptions(q);
        KubeObject o = body(req, t);
        if (!o.name().equals(t.name())) {
            throw ApiException.badRequest("the name of the object (" + o.name() + ") does not match the name on the URL (" + t.name() + ")");
        }
        KubeObject updated = api.update(o);
        ex.json(200, present(updated, t), warnings(o, updated));
    }

    private void patch(FullHttpRequest req, ApiTarget t, Map<String, List<String>> q, KubeApiHandler.Exchange ex) {
        writeOptions(q);
        String contentType = req.headers().get(HttpHeaderNames.CONTENT_TYPE, "").split(";")[0].strip().toLowerCase(Locale.ROOT);
        PatchType type = switch (contentType) {
            case "application/json-patch+json" -> PatchType.JSON;
            case "application/merge-patch+json" -> PatchType.MERGE;
            case "application/strategic-merge-patch+json" -> PatchType.STRATEGIC;
            case "application/apply-patch+yaml" -> throw new ApiException(415, "UnsupportedMediaType",
                    "server-side apply (application/apply-patch+yaml) is not supported by SourceMesh yet: use client-side kubectl apply");
            default -> throw new ApiException(415, "UnsupportedMediaType", "the body of the request was in an unknown format - "
                    + "accepted media types include: application/json-patch+json, application/merge-patch+json"
                    + (t.kind().builtIn() ? ", application/strategic-merge-patch+json" : ""));
        };
        if (type == PatchType.STRATEGIC && !t.kind().builtIn()) {
            throw new ApiException(415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted media "
                    + "types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml");
        }
        if (store.get(t.kind(), t.namespace(), t.name()).isEmpty()) {
            throw ApiException.notFound(t.kind().qualifiedPlural(), t.name());
        }
        KubeObject patched = api.patch(t.kind(), t.namespace(), t.name(), type, req.content().toString(StandardCharsets.UTF_8));
        ex.json(200, present(patched, t), SupportCheck.applyWarnings(List.of(patched)));
    }

    private void delete(FullHttpRequest req, ApiTarget t, Map<String, List<String>> q, KubeApiHandler.Exchange ex) {
        if (q.containsKey("dryRun")) {
            throw ApiException.badRequest("dryRun is not supported by SourceMesh");
        }
        String propagation = param(q, "propagationPolicy");
        if (req.content().isReadable()) {
            JsonNode opts = parse(req);
            if (opts.has("dryRun") && !opts.path("dryRun").isEmpty()) {
                throw ApiException.badRequest("dryRun is not supported by SourceMesh");
            }
            propagation = opts.path("propagationPolicy").asText(propagation == null ? "" : propagation);
        }
        if ("Orphan".equals(propagation)) {
            throw ApiException.badRequest("propagationPolicy Orphan is not supported by SourceMesh: an object's dependents are deleted with it");
        }
        KubeObject gone = api.delete(t.kind(), t.namespace(), t.name());
        ObjectNode s = F.objectNode();
        s.put("kind", "Status").put("apiVersion", "v1");
        s.putObject("metadata");
        s.put("status", "Success");
        s.putObject("details").put("name", gone.name()).put("group", t.group()).put("kind", t.kind().plural()).put("uid", gone.uid());
        ex.json(200, s, List.of());
    }

    /** A write's warnings: fields SourceMesh does not implement, then, once the proxies answered, what they refused. */
    private List<String> warnings(KubeObject sent, KubeObject written) {
        List<String> all = new ArrayList<>(SupportCheck.applyWarnings(List.of(sent)));
        try {
            all.addAll(api.settle(List.of(written)));
        } catch (RuntimeException slow) {
            // the write is stored and stands; only waiting for its push failed: say so, do not fail the write
            all.add(written.kind() + " " + written.name() + " is stored, but the cluster has not finished applying it: "
                    + slow.getMessage());
        }
        return all;
    }

    /** Query options every write takes; dryRun is refused rather than ignored (the store cannot rehearse a write). */
    private static void writeOptions(Map<String, List<String>> q) {
        if (q.containsKey("dryRun")) {
            throw ApiException.badRequest("dryRun is not supported by SourceMesh");
        }
        String v = param(q, "fieldValidation");
        if (v != null && !Set.of("Strict", "Warn", "Ignore").contains(v)) {
            throw ApiException.badRequest("fieldValidation must be one of Strict, Warn or Ignore, not \"" + v + "\"");
        }
    }

    /** The request's object: its kind and version must be the URL's, and its namespace (if any) the URL's. */
    private static KubeObject body(FullHttpRequest req, ApiTarget t) {
        JsonNode n = parse(req);
        if (!(n instanceof ObjectNode o)) {
            throw ApiException.badRequest("the request body is not an object");
        }
        String apiVersion = o.path("apiVersion").asText("");
        String kind = o.path("kind").asText("");
        if (!kind.isEmpty() && !kind.equals(t.kind().kind())) {
            throw ApiException.badRequest("the kind in the data (" + kind + ") does not match the expected kind (" + t.kind().kind() + ")");
        }
        if (!apiVersion.isEmpty() && !apiVersion.equals(t.apiVersion())) {
            throw ApiException.badRequest("the API version in the data (" + apiVersion + ") does not match the expected API version ("
                    + t.apiVersion() + ")");
        }
        o.put("apiVersion", t.apiVersion()).put("kind", t.kind().kind());
        ObjectNode meta = o.withObjectProperty("metadata");
        if (t.kind().namespaced()) {
            String ns = meta.path("namespace").asText("");
            if (ns.isEmpty()) {
                meta.put("namespace", t.namespace());
            } else if (!ns.equals(t.namespace())) {
                throw ApiException.badRequest("the namespace of the provided object does not match the namespace sent on the request");
            }
        }
        return KubeObject.of(o);
    }

    private static JsonNode parse(FullHttpRequest req) {
        String type = req.headers().get(HttpHeaderNames.CONTENT_TYPE, "application/json").split(";")[0].strip().toLowerCase(Locale.ROOT);
        byte[] bytes = new byte[req.content().readableBytes()];
        req.content().getBytes(req.content().readerIndex(), bytes);
        if (type.equals("application/vnd.kubernetes.protobuf")) {
            return ProtobufBody.decode(bytes); // client-go's typed clients (kubectl create configmap, secret, namespace)
        }
        if (!type.equals("application/json") && !type.equals("application/yaml") && !type.endsWith("+json")) {
            throw new ApiException(415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted media "
                    + "types include: application/json, application/yaml, application/vnd.kubernetes.protobuf");
        }
        try {
            JsonNode n = YAML.readTree(bytes); // JSON is YAML; kubectl sends JSON
            return n == null ? F.objectNode() : n;
        } catch (IOException e) {
            throw ApiException.badRequest("the request body is not valid JSON: " + e.getMessage());
        }
    }

    // --- helpers ---------------------------------------------------------------------------------------------

    /** The object as this URL's group-version presents it (Istio's versions share one schema). */
    static ObjectNode present(KubeObject o, ApiTarget t) {
        ObjectNode n = F.objectNode();
        n.put("apiVersion", t.apiVersion()).put("kind", t.kind().kind());
        o.node().properties().forEach(e -> {
            if (!e.getKey().equals("apiVersion") && !e.getKey().equals("kind")) {
                n.set(e.getKey(), e.getValue());
            }
        });
        return n;
    }

    private static LabelSelector labels(Map<String, List<String>> q) {
        String s = param(q, "labelSelector");
        return s == null || s.isBlank() ? LabelSelector.everything() : LabelSelector.parse(s);
    }

    private static boolean wantsTable(FullHttpRequest req) {
        String accept = req.headers().get(HttpHeaderNames.ACCEPT, "");
        return accept.contains("as=Table") && accept.contains("g=meta.k8s.io");
    }

    private static boolean wholeObjects(Map<String, List<String>> q) {
        return "Object".equals(param(q, "includeObject"));
    }

    static String param(Map<String, List<String>> q, String name) {
        List<String> v = q.get(name);
        return v == null || v.isEmpty() ? null : v.getFirst();
    }

    static boolean flag(Map<String, List<String>> q, String name) {
        String v = param(q, name);
        return v != null && (v.equals("true") || v.equals("1") || v.isEmpty());
    }

}
