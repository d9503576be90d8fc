package io.sourcemesh.cluster.kubeapi;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.sourcemesh.api.patch.JsonMergePatch;
import io.sourcemesh.api.patch.JsonPatch;
import io.sourcemesh.api.patch.PatchException;
import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.patch.Patches;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.api.resource.Schemas;
import io.sourcemesh.api.support.SupportCheck;
import io.sourcemesh.cluster.daemon.ClusterApi;
import io.sourcemesh.cluster.store.ObjectStore;
import io.sourcemesh.cluster.store.StoreException;
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The writing verbs on one resource URL: create, update, patch (JSON, merge, strategic merge, and
 * server-side apply), delete, and the status subresource's update and patch. Each records field
 * ownership ({@link FieldManager}), honours {@code fieldValidation} ({@link FieldValidation}) and
 * {@code dryRun=All} (the store rehearses the write: validated, returned, not stored, no watch event).
 * Real writes go through {@link ClusterApi}: its verb stores, then its {@code settle} waits until the
 * runtime reconciled and the proxies answered (a delete does not wait, as before).
 */
final class Writes {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    private static final YAMLMapper YAML = new YAMLMapper();
    private static final String APPLY = "application/apply-patch+yaml";
    /** How often a patch or apply is recomputed when another write got in between (kube's GuaranteedUpdate retries too). */
    private static final int ATTEMPTS = 5;

    private final ClusterApi api;
    private final ObjectStore store;
    private final FieldManager fieldManager;

    Writes(ClusterApi api, ObjectStore store, Clock clock) {
        this.api = api;
        this.store = store;
        this.fieldManager = new FieldManager(clock);
    }

    void create(FullHttpRequest req, ApiTarget t, Map<String, List<String>> q, KubeApiHandler.Exchange ex) {
        boolean dryRun = dryRun(q);
        noForce(q);
        if (t.kind().namespaced() && t.namespace() == null) {
            throw ApiException.methodNotAllowed("POST of " + t.kind().plural() + " needs a namespace in the path");
        }
        ObjectNode n = body(req, t);
        List<String> warnings = new ArrayList<>(FieldValidation.of(q).check(n, t.kind(), bytes(req), cannotHandle(t)));
        KubeObject o = fieldManager.update(null, KubeObject.of(n), t.apiVersion(), manager(req, q), FieldPaths.Scope.MAIN);
        KubeObject created = dryRun ? store.create(o, true) : api.create(o);
        warnings.addAll(afterWrite(o, created, dryRun));
        ex.json(201, Resources.present(created, t), warnings);
    }

    void update(FullHttpRequest req, ApiTarget t, Map<String, List<String>> q, KubeApiHandler.Exchange ex) {
        boolean dryRun = dryRun(q);
        noForce(q);
        ObjectNode n = body(req, t);
        String name = n.path("metadata").path("name").asText("");
        if (!name.equals(t.name())) {
            throw ApiException.badRequest("the name of the object (" + name + ") does not match the name on the URL (" + t.name() + ")");
        }
        List<String> warnings = new ArrayList<>(FieldValidation.of(q).check(n, t.kind(), bytes(req), cannotHandle(t)));
        String manager = manager(req, q);
        KubeObject live = live(t);
        if (t.subresource() != null) {
            KubeObject o = fieldManager.update(live, KubeObject.of(n), t.apiVersion(), manager, FieldPaths.Scope.STATUS);
            ex.json(200, Resources.present(writeStatus(o, dryRun), t), warnings);
            return;
        }
        KubeObject o = fieldManager.update(live, KubeObject.of(n), t.apiVersion(), manager, FieldPaths.Scope.MAIN);
        KubeObject updated = dryRun ? store.update(o, true) : api.update(o);
        warnings.addAll(afterWrite(o, updated, dryRun));
        ex.json(200, Resources.present(updated, t), warnings);
    }

    void patch(FullHttpRequest req, ApiTarget t, Map<String, List<String>> q, KubeApiHandler.Exchange ex) {
        boolean dryRun = dryRun(q);
        String contentType = req.headers().get(HttpHeaderNames.CONTENT_TYPE, "").split(";")[0].strip().toLowerCase(Locale.ROOT);
        if (contentType.equals(APPLY)) {
            apply(req, t, q, ex, dryRun);
            return;
        }
        noForce(q);
        PatchType type = switch (contentType) {
            case "application/json-patch+json" -> PatchType.JSON;
            case "application/merge-patch+json" -> PatchType.MERGE;
            case "application/strategic-merge-patch+json" -> PatchType.STRATEGIC;
            default -> throw new ApiException(415, "UnsupportedMediaType", "the body of the request was in an unknown format - "
                    + "accepted media types include: application/json-patch+json, application/merge-patch+json, "
                    + (t.kind().builtIn() ? "application/strategic-merge-patch+json, " : "") + APPLY);
        };
        if (type == PatchType.STRATEGIC && !t.kind().builtIn()) {
            throw new ApiException(415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted media "
                    + "types include: application/json-patch+json, application/merge-patch+json, " + APPLY);
        }
        JsonNode patch;
        try {
            patch = YAML.readTree(bytes(req));
        } catch (IOException e) {
            throw new PatchException("unable to parse the patch: " + e.getMessage());
        }
        FieldValidation validation = FieldValidation.of(q);
        String manager = manager(req, q);
        FieldPaths.Scope scope = t.subresource() != null ? FieldPaths.Scope.STATUS : FieldPaths.Scope.MAIN;
        List<String> warnings = new ArrayList<>();
        KubeObject written = retrying(() -> {
            warnings.clear();
            KubeObject live = live(t);
            ObjectNode n = Patches.unvalidated(live, type, patch).node();
            warnings.addAll(validation.check(n, t.kind(), type == PatchType.JSON ? null : bytes(req), ""));
            KubeObject o = fieldManager.update(live, KubeObject.of(n), t.apiVersion(), manager, scope);
            if (scope == FieldPaths.Scope.STATUS) {
                return writeStatus(o, dryRun);
            }
            return dryRun ? store.update(o, true) : api.update(o);
        });
        if (scope == FieldPaths.Scope.MAIN) {
            warnings.addAll(afterWrite(written, written, dryRun));
        }
        ex.json(200, Resources.present(written, t), warnings);
    }

    /**
     * Server-side apply: the body is the manager's whole intent for the object. Creates it when absent
     * (201), else merges by field ownership (200); {@code force=true} takes conflicting fields over.
     */
    private void apply(FullHttpRequest req, ApiTarget t, Map<String, List<String>> q, KubeApiHandler.Exchange ex, boolean dryRun) {
        String fieldManagerName = Resources.param(q, "fieldManager");
        if (fieldManagerName == null || fieldManagerName.isEmpty()) {
            throw ApiException.badRequest("PATCH, application/apply-patch+yaml requests require fieldManager to be set");
        }
        boolean force = Resources.flag(q, "force");
        ObjectNode config = body(req, t);
        String name = config.path("metadata").path("name").asText("");
        if (!name.equals(t.name())) {
            throw ApiException.badRequest("the name of the object (" + name + ") does not match the name on the URL (" + t.name() + ")");
        }
        FieldPaths.Scope scope = t.subresource() != null ? FieldPaths.Scope.STATUS : FieldPaths.Scope.MAIN;
        List<String> undeclared = FieldPaths.of(t.kind()).undeclared(FieldPaths.managedPart(config, scope));
        if (!undeclared.isEmpty()) {
            String gvk = (t.apiVersion().contains("/") ? t.apiVersion() : "/" + t.apiVersion()) + ", Kind=" + t.kind().kind();
            List<String> lines = undeclared.stream().map(p -> p + ": field not declared in schema").toList();
            throw ApiException.badRequest("failed to create typed patch object (" + (t.namespace() == null ? "" : t.namespace()) + "/"
                    + t.name() + "; " + gvk + "): " + (lines.size() == 1 ? lines.getFirst() : "errors:\n  " + String.join("\n  ", lines)));
        }
        List<String> warnings = new ArrayList<>(FieldValidation.of(q).check(config, t.kind(), bytes(req), ""));
        FieldManager.Applier who = new FieldManager.Applier(FieldManager.managerName(fieldManagerName, null), force, scope);
        boolean[] created = {false};
        KubeObject written = retrying(() -> {
            KubeObject live = store.get(t.kind(), t.namespace(), t.name()).orElse(null);
            if (live == null && scope == FieldPaths.Scope.STATUS) {
                throw ApiException.notFound(t.kind().qualifiedPlural(), t.name());
            }
            KubeObject o = fieldManager.apply(live, config, t.apiVersion(), who);
            created[0] = live == null;
            if (o == live) {
                return live;
            }
            if (live == null) {
                return dryRun ? store.create(o, true) : api.create(o);
            }
            if (scope == FieldPaths.Scope.STATUS) {
                return writeStatus(o, dryRun);
            }
            return dryRun ? store.update(o, true) : api.update(o);
        });
        if (scope == FieldPaths.Scope.MAIN) {
            warnings.addAll(afterWrite(written, written, dryRun));
        }
        ex.json(created[0] ? 201 : 200, Resources.present(written, t), warnings);
    }

    void delete(FullHttpRequest req, ApiTarget t, Map<String, List<String>> q, KubeApiHandler.Exchange ex) {
        boolean dryRun = dryRun(q);
        String propagation = Resources.param(q, "propagationPolicy");
        if (req.content().isReadable()) {
            JsonNode opts = parse(req);
            for (JsonNode d : opts.path("dryRun")) {
                dryRun |= dryRunValue(d.asText());
            }
            propagation = opts.path("propagationPolicy").asText(propagation == null ? "" : propagation);
        }
        if ("Orphan".equals(propagation)) {
            throw ApiException.badRequest("propagationPolicy Orphan is not supported by SourceMesh: an object's dependents are deleted with it");
        }
        KubeObject gone = dryRun ? store.delete(t.kind(), t.namespace(), t.name(), true) : api.delete(t.kind(), t.namespace(), t.name());
        ObjectNode s = F.objectNode();
        s.put("kind", "Status").put("apiVersion", "v1");
        s.putObject("metadata");
        s.put("status", "Success");
        s.putObject("details").put("name", gone.name()).put("group", t.group()).put("kind", t.kind().plural()).put("uid", gone.uid());
        ex.json(200, s, List.of());
    }

    /**
     * PUT or PATCH of the scale subresource: the Scale is computed from the workload, updated or patched
     * (JSON, merge; a strategic merge of a Scale is a merge, it has no lists), and its {@code spec.replicas}
     * written to the workload.
     */
    void scale(FullHttpRequest req, ApiTarget t, Map<String, List<String>> q, KubeApiHandler.Exchange ex) {
        boolean dryRun = dryRun(q);
        noForce(q);
        String manager = manager(req, q);
        boolean put = req.method().name().equals("PUT");
        JsonNode body;
        PatchType type = null;
        if (put) {
            body = parse(req);
        } else {
            String contentType = req.headers().get(HttpHeaderNames.CONTENT_TYPE, "").split(";")[0].strip().toLowerCase(Locale.ROOT);
            type = switch (contentType) {
                case "application/json-patch+json" -> PatchType.JSON;
                case "application/merge-patch+json", "application/strategic-merge-patch+json" -> PatchType.MERGE;
                default -> throw new ApiException(415, "UnsupportedMediaType", "the body of the request was in an unknown format - "
                        + "accepted media types include: application/json-patch+json, application/merge-patch+json, "
                        + "application/strategic-merge-patch+json");
            };
            try {
                body = YAML.readTree(bytes(req));
            } catch (IOException e) {
                throw new PatchException("unable to parse the patch: " + e.getMessage());
            }
        }
        PatchType patchType = type;
        JsonNode request = body;
        KubeObject written = retrying(() -> {
            KubeObject live = live(t);
            JsonNode scale = patchType == null ? request : switch (patchType) {
                case JSON -> JsonPatch.apply(Scale.of(live), request);
                default -> JsonMergePatch.apply(Scale.of(live), request);
            };
            KubeObject o = fieldManager.update(live, Scale.apply(live, scale), t.apiVersion(), manager, FieldPaths.Scope.MAIN);
            return dryRun ? store.update(o, true) : api.update(o);
        });
        ex.json(200, Scale.of(written), settled(written, dryRun));
    }

    /** Whether the kind has a status subresource: it has a status in its schema. */
    static boolean hasStatus(ResourceKind kind) {
        return Schemas.of(kind).fields().containsKey("status");
    }

    // --- helpers ---------------------------------------------------------------------------------------------

    /**
     * What kubectl is told after a write of an object's main resource: the fields of {@code sent} SourceMesh does not
     * implement and Istio's validation warnings, then what the proxies refused of {@code written}'s push.
     */
    private List<String> afterWrite(KubeObject sent, KubeObject written, boolean dryRun) {
        List<String> warnings = new ArrayList<>(SupportCheck.applyWarnings(List.of(sent)));
        warnings.addAll(settled(written, dryRun));
        return warnings;
    }

    /**
     * After a write that is stored (not a rehearsal): waits until the proxies answered its push and
     * returns what they refused of it, so kubectl returns with the write in effect and says what did not take.
     */
    private List<String> settled(KubeObject written, boolean dryRun) {
        if (dryRun) {
            return List.of();
        }
        try {
            return api.settle(List.of(written));
        } catch (RuntimeException slow) {
            // the write is stored and stands; only waiting for its push failed: say so, do not fail the write
            return List.of(written.kind() + " " + written.name() + " is stored, but the cluster has not finished applying it: "
                    + slow.getMessage());
        }
    }

    private KubeObject writeStatus(KubeObject o, boolean dryRun) {
        return store.updateStatus(o, dryRun);
    }

    private KubeObject live(ApiTarget t) {
        return store.get(t.kind(), t.namespace(), t.name()).orElseThrow(() -> ApiException.notFound(t.kind().qualifiedPlural(), t.name()));
    }

    /** Runs a read-compute-write again when the object changed under it (an optimistic-concurrency conflict of our own making). */
    private static KubeObject retrying(Supplier<KubeObject> write) {
        for (int attempt = 1; ; attempt++) {
            try {
                return write.get();
            } catch (StoreException e) {
                if (e.reason() != StoreException.Reason.CONFLICT || attempt >= ATTEMPTS) {
                    throw e;
                }
            }
        }
    }

    private static String manager(FullHttpRequest req, Map<String, List<String>> q) {
        return FieldManager.managerName(Resources.param(q, "fieldManager"), req.headers().get(HttpHeaderNames.USER_AGENT));
    }

    /** {@code dryRun=All}, the only value kube-apiserver knows; anything else is refused, never ignored. */
    static boolean dryRun(Map<String, List<String>> q) {
        boolean dry = false;
        for (String v : q.getOrDefault("dryRun", List.of())) {
            dry |= dryRunValue(v);
        }
        return dry;
    }

    static boolean dryRunValue(String v) {
        if (!v.equals("All")) {
            throw new ApiException(400, "BadRequest", "dryRun: Unsupported value: \"" + v + "\": supported values: \"All\"");
        }
        return true;
    }

    private static void noForce(Map<String, List<String>> q) {
        if (q.containsKey("force")) {
            throw ApiException.badRequest("force: Forbidden: may not be specified for non-apply patch");
        }
    }

    private static String cannotHandle(ApiTarget t) {
        String version = t.apiVersion().contains("/") ? t.apiVersion().substring(t.apiVersion().indexOf('/') + 1) : t.apiVersion();
        return t.kind().kind() + " in version \"" + version + "\" cannot be handled as a " + t.kind().kind() + ": ";
    }

    private static byte[] bytes(FullHttpRequest req) {
        byte[] bytes = new byte[req.content().readableBytes()];
        req.content().getBytes(req.content().readerIndex(), bytes);
        return bytes;
    }

    /** The request's object: its kind and version must be the URL's, and its namespace (if any) the URL's. */
    private static ObjectNode body(FullHttpRequest req, ApiTarget t) {
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
        return o;
    }

    static JsonNode parse(FullHttpRequest req) {
        String type = req.headers().get(HttpHeaderNames.CONTENT_TYPE, "application/json").split(";")[0].strip().toLowerCase(Locale.ROOT);
        byte[] bytes = bytes(req);
        if (type.equals("application/vnd.kubernetes.protobuf")) {
            return ProtobufBody.decode(bytes); // client-go's typed clients (kubectl create configmap, secret, namespace)
        }
        if (!type.equals("application/json") && !type.equals("application/yaml") && !type.endsWith("+json") && !type.equals(APPLY)) {
            throw new ApiException(415, "UnsupportedMediaType", "the body of the request was in an unknown format - accepted media "
                    + "types include: application/json, application/yaml, application/vnd.kubernetes.protobuf");
        }
        try {
            JsonNode n = YAML.readTree(bytes); // JSON is YAML; kubectl sends JSON
            return n == null ? F.objectNode() : n;
        } catch (JsonProcessingException e) {
            throw ApiException.badRequest("the request body is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw ApiException.badRequest("the request body is not valid JSON: " + e.getMessage());
        }
    }
}
