package io.sourcemesh.cluster.kubeapi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.LabelSelector;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.daemon.ClusterApi;
import io.sourcemesh.cluster.store.ObjectStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The REST verbs on one resource URL: get, list (label and field selectors, pages: {@link ListPages}), watch and
 * pods' log; the writes (and the status subresource's) are {@link Writes}'. Writes go through {@link ClusterApi};
 * reads, and the resourceVersion a list is consistent at, come from the store under its lock.
 */
final class Resources {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final long BOOKMARK_EVERY_MS = 5_000;

    private final ClusterApi api;
    private final ObjectStore store;
    private final WatchHub watches;
    private final Clock clock = Clock.systemUTC();
    private final Writes writes;

    Resources(ClusterApi api, ObjectStore store, WatchHub watches) {
        this.api = api;
        this.store = store;
        this.watches = watches;
        this.writes = new Writes(api, store, clock);
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
                case "POST" -> writes.create(req, t, q, ex);
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
            if (sub.equals("scale") && Scale.scalable(t.kind())) {
                switch (method) {
                    case "GET" -> ex.json(200, Scale.of(store.get(t.kind(), t.namespace(), t.name())
                            .orElseThrow(() -> ApiException.notFound(t.kind().qualifiedPlural(), t.name()))), List.of());
                    case "PUT", "PATCH" -> writes.scale(req, t, q, ex);
                    default -> throw ApiException.methodNotAllowed("the server does not allow this method on the requested resource");
                }
                return;
            }
            if (sub.equals("eviction") && t.kind().equals(ResourceKind.POD)) {
                if (!method.equals("POST")) {
                    throw ApiException.methodNotAllowed("the server does not allow this method on the requested resource");
                }
                Eviction.create(req, t, q, api, store, ex);
                return;
            }
            if (sub.equals("exec") && t.kind().equals(ResourceKind.POD)) {
                throw ApiException.badRequest("Upgrade request required: exec is served over WebSocket (v5.channel.k8s.io)");
            }
            throw ApiTarget.notFound();
        }
        if (sub != null && !Writes.hasStatus(t.kind())) {
            throw ApiTarget.notFound();
        }
        switch (method) {
            case "GET" -> get(req, t, q, ex);
            case "PUT" -> writes.update(req, t, q, ex);
            case "PATCH" -> writes.patch(req, t, q, ex);
            case "DELETE" -> {
                if (sub != null) {
                    throw ApiException.methodNotAllowed("the server does not allow this method on the requested resource");
                }
                writes.delete(req, t, q, ex);
            }
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
        int limit = ListPages.limit(q);
        String cont = param(q, "continue");
        ListPages.Token token = cont == null || cont.isEmpty() ? null : ListPages.parse(cont);
        long rv;
        List<KubeObject> items;
        if (token != null && token.resourceVersion() > 0) {
            rv = token.resourceVersion(); // a later page: as of the first
            String ns = t.kind().namespaced() ? t.namespace() : null;
            try {
                items = watches.at(rv, o -> o.kind().equals(t.kind().kind()) && (ns == null || ns.equals(o.namespace()))
                        && labels.matches(o.labels()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ApiException(503, "ServiceUnavailable", "list interrupted");
            } catch (ApiException e) {
                if (e.code() != 410) {
                    throw e;
                }
                // As kube-apiserver: the Status carries a token that continues inconsistently, from the objects as they are now.
                ObjectNode gone = ApiException.status(410, "Expired", ListPages.EXPIRED, null, null);
                gone.with("metadata").put("continue", new ListPages.Token(-1, token.start()).encode());
                ex.json(410, gone, List.of());
                return;
            }
        } else {
            synchronized (store) {
                rv = store.resourceVersion();
                items = store.list(t.kind(), t.namespace(), labels);
            }
        }
        boolean selected = param(q, "fieldSelector") != null || param(q, "labelSelector") != null;
        // kube-apiserver counts what remains only for a list without selectors (it would have to filter the rest).
        ListPages.Page page = ListPages.page(items.stream().filter(fields).toList(), token == null ? null : token.start(), limit, rv,
                !selected);
        List<JsonNode> presented = new ArrayList<>();
        for (KubeObject o : page.items()) {
            presented.add(present(o, t));
        }
        ObjectNode list;
        if (wantsTable(req)) {
            list = Tables.of(t.kind(), presented, Long.toString(rv), wholeObjects(q), clock);
        } else {
            list = F.objectNode();
            list.put("apiVersion", t.apiVersion()).put("kind", t.kind().kind() + "List");
            list.putObject("metadata").put("resourceVersion", Long.toString(rv));
            ArrayNode arr = list.putArray("items");
            presented.forEach(arr::add);
        }
        if (page.continueToken() != null) {
            ObjectNode meta = list.with("metadata");
            meta.put("continue", page.continueToken());
            if (page.remainingItemCount() != null) {
                meta.put("remainingItemCount", page.remainingItemCount());
            }
        }
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
            try {
                watches.awaitResume();
            } catch (InterruptedException e) {
                return; // the server's thread asked to stop while a resumption was held
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
            byte[] line = Arrays.copyOf(json, json.length + 1);
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
