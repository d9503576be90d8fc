package io.sourcemesh.cluster.kubeapi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.api.resource.FieldError;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.store.ObjectStore;
import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Field ownership as kube-apiserver's field manager keeps it, after structured-merge-diff's
 * {@code merge.Updater}: server-side apply merges a manager's configuration into the live object and
 * makes the manager own exactly the fields it applied (a field it stops applying is removed unless
 * another manager owns it); a field another manager owns with a different value is a conflict unless
 * forced, and forcing takes it over. An ordinary write (create, update, patch) makes its manager own
 * what it changed and takes those fields from every other manager.
 */
final class FieldManager {
    private static final JsonNodeFactory F = JsonNodeFactory.instance;
    static final String BEFORE_FIRST_APPLY = "before-first-apply";

    private final Clock clock;

    FieldManager(Clock clock) {
        this.clock = clock;
    }

    /** An applier's identity: its name, whether it forces conflicts, and what it writes (main resource or status). */
    record Applier(String manager, boolean force, FieldPaths.Scope scope) {
        String subresource() {
            return scope == FieldPaths.Scope.STATUS ? "status" : "";
        }
    }

    /**
     * Server-side apply of {@code config} (the request's object) onto {@code live} (null: the object is
     * created). Returns the object to store with its managedFields, or {@code live} itself when nothing
     * would change. Conflicts are a 409 naming each field and its manager.
     */
    KubeObject apply(KubeObject live, ObjectNode config, String apiVersion, Applier who) {
        ResourceKind kind = kindOf(config);
        FieldPaths paths = FieldPaths.of(kind);
        if (live != null && ManagedFields.decode(live.node().path("metadata")).isEmpty()) {
            // An object no manager has written through this API (our CLI, a controller): "before-first-apply"
            // owns what it holds, so applying a different value conflicts, as kube-apiserver's skipNonApplied does.
            live = tracked(null, live, apiVersion, BEFORE_FIRST_APPLY, who.scope());
        }
        ObjectNode liveNode = live == null ? identity(config) : live.node();
        List<ManagedFields.Entry> managers = ManagedFields.decode(liveNode.path("metadata"));
        ManagedFields.Entry self = new ManagedFields.Entry(who.manager(), "Apply", apiVersion, "", who.subresource(), FieldSet.empty());

        ObjectNode applied = FieldPaths.managedPart(config, who.scope());
        FieldSet set = paths.toFieldSet(applied);
        ManagedFields.Entry previous = find(managers, self);
        FieldSet lastSet = previous == null ? FieldSet.empty() : previous.fields();

        ObjectNode liveScoped = FieldPaths.managedPart(liveNode, who.scope());
        ObjectNode merged = paths.merge(liveScoped, applied);
        // Fields this manager applied before and applies no more go, unless another manager still owns them.
        FieldSet ownedByOthers = FieldSet.empty();
        for (ManagedFields.Entry e : managers) {
            if (!e.sameManager(self)) {
                ownedByOthers = ownedByOthers.union(e.fields());
            }
        }
        FieldSet owned = ownedByOthers.union(set);
        for (List<String> p : lastSet.difference(set).paths()) {
            if (!owned.hasPrefix(p)) {
                paths.remove(merged, p);
            }
        }

        FieldPaths.Comparison change = paths.compare(liveScoped, merged);
        Map<String, List<String>> conflicts = new TreeMap<>();
        List<ManagedFields.Entry> next = new ArrayList<>();
        FieldSet changed = change.modified().union(change.added());
        FieldSet conflicting = FieldSet.empty();
        for (ManagedFields.Entry e : managers) {
            if (e.sameManager(self) || !sameScope(e, who.subresource())) {
                if (!e.sameManager(self)) {
                    next.add(e);
                }
                continue;
            }
            FieldSet conflict = e.fields().intersection(changed);
            conflicting = conflicting.union(conflict);
            for (List<String> p : conflict.paths()) {
                conflicts.computeIfAbsent(e.printed(), k -> new ArrayList<>()).add(FieldSet.print(p));
            }
            FieldSet kept = e.fields().difference(conflict).difference(change.removed());
            if (!kept.isEmpty()) {
                next.add(kept.equals(e.fields()) ? e : e.withFields(kept));
            }
        }
        if (!conflicts.isEmpty() && !who.force() && !upgradesClientSideApply(who, liveNode, conflicting, paths)) {
            throw conflict(conflicts);
        }
        boolean ownershipChanged = previous == null || !previous.fields().equals(set) || next.size() != managers.size() - 1;
        if (live != null && change.isSame() && !ownershipChanged && sameOthers(managers, next, self)) {
            return live; // a no-op apply writes nothing
        }
        if (!set.isEmpty()) {
            next.add(new ManagedFields.Entry(who.manager(), "Apply", apiVersion, now(), who.subresource(), set));
        }
        ObjectNode result = whole(liveNode, merged, who.scope());
        result.withObjectProperty("metadata").set("managedFields", ManagedFields.encode(next));
        if (live == null) {
            copyIdentity(config, result);
        }
        return KubeObject.of(result);
    }

    /**
     * An ordinary write by {@code manager} ({@code live} null for a create): the written object with
     * its managedFields, the manager owning what it changed.
     */
    KubeObject update(KubeObject live, KubeObject written, String apiVersion, String manager, FieldPaths.Scope scope) {
        try {
            return tracked(live, written, apiVersion, manager, scope);
        } catch (RuntimeException e) {
            // An object the fields cannot be told apart in (a list item without its key) is validation's to refuse;
            // its managedFields go rather than hold garbage, as kube-apiserver's UpdateNoErrors does.
            ObjectNode n = written.node();
            n.withObjectProperty("metadata").remove("managedFields");
            return KubeObject.of(n);
        }
    }

    private KubeObject tracked(KubeObject live, KubeObject written, String apiVersion, String manager, FieldPaths.Scope scope) {
        ResourceKind kind = kindOf(written.node());
        FieldPaths paths = FieldPaths.of(kind);
        String subresource = scope == FieldPaths.Scope.STATUS ? "status" : "";
        ObjectNode node = written.node();
        // A client that sends managedFields sets them; one that sends none keeps the live ones (kube's rule).
        List<ManagedFields.Entry> managers = ManagedFields.decode(node.path("metadata"));
        if (managers.isEmpty() || scope == FieldPaths.Scope.STATUS) {
            managers = live == null ? List.of() : ManagedFields.decode(live.node().path("metadata"));
        }
        FieldPaths.Comparison change = paths.compare(FieldPaths.managedPart(live == null ? null : live.node(), scope),
                FieldPaths.managedPart(node, scope));
        ManagedFields.Entry self = new ManagedFields.Entry(manager, "Update", apiVersion, "", subresource, FieldSet.empty());
        List<ManagedFields.Entry> next = new ArrayList<>();
        FieldSet taken = change.modified().union(change.added()).union(change.removed());
        ManagedFields.Entry previous = null;
        for (ManagedFields.Entry e : managers) {
            if (e.sameManager(self)) {
                previous = e;
                continue;
            }
            FieldSet kept = sameScope(e, subresource) ? e.fields().difference(taken) : e.fields();
            if (!kept.isEmpty()) {
                next.add(kept.equals(e.fields()) ? e : e.withFields(kept));
            }
        }
        FieldSet mine = (previous == null ? FieldSet.empty() : previous.fields()).difference(change.removed())
                .union(change.modified()).union(change.added());
        if (!mine.isEmpty()) {
            boolean same = previous != null && previous.fields().equals(mine) && change.isSame();
            next.add(same ? previous : new ManagedFields.Entry(manager, "Update", apiVersion, now(), subresource, mine));
        }
        ObjectNode meta = node.withObjectProperty("metadata");
        if (next.isEmpty()) {
            meta.remove("managedFields");
        } else {
            meta.set("managedFields", ManagedFields.encode(next));
        }
        return KubeObject.of(node);
    }

    /** The field manager a request names ({@code fieldManager}), else its User-Agent's product, as kube-apiserver derives it. */
    static String managerName(String fieldManager, String userAgent) {
        if (fieldManager != null && !fieldManager.isEmpty()) {
            if (fieldManager.length() > 128) {
                throw ApiException.badRequest("fieldManager: Too long: may not be longer than 128");
            }
            return fieldManager;
        }
        String ua = userAgent == null ? "unknown" : userAgent;
        int slash = ua.indexOf('/');
        String prefix = slash < 0 ? ua : ua.substring(0, slash);
        return prefix.length() > 128 ? prefix.substring(0, 128) : prefix;
    }

    /**
     * kubectl moving an object from client-side to server-side apply: conflicts only on fields its own
     * last-applied-configuration annotation holds are taken over, as kube-apiserver's lastAppliedManager
     * does for a manager named kubectl*.
     */
    private static boolean upgradesClientSideApply(Applier who, ObjectNode live, FieldSet conflicting, FieldPaths paths) {
        String lastApplied = live.path("metadata").path("annotations").path(ObjectStore.LAST_APPLIED).asText("");
        if (!who.manager().startsWith("kubectl") || lastApplied.isEmpty() || who.scope() != FieldPaths.Scope.MAIN) {
            return false;
        }
        try {
            JsonNode config = KubeApiHandler.JSON.readTree(lastApplied);
            if (!(config instanceof ObjectNode o)) {
                return false;
            }
            return conflicting.difference(paths.toFieldSet(FieldPaths.managedPart(o, FieldPaths.Scope.MAIN))).isEmpty();
        } catch (IOException | RuntimeException e) {
            return false; // a hand-edited annotation: no upgrade
        }
    }

    // --- helpers ---------------------------------------------------------------------------------------------

    private static boolean sameScope(ManagedFields.Entry e, String subresource) {
        return e.subresource().equals(subresource);
    }

    private static boolean sameOthers(List<ManagedFields.Entry> before, List<ManagedFields.Entry> after, ManagedFields.Entry self) {
        return before.stream().filter(e -> !e.sameManager(self)).toList().equals(after);
    }

    private static ManagedFields.Entry find(List<ManagedFields.Entry> entries, ManagedFields.Entry who) {
        for (ManagedFields.Entry e : entries) {
            if (e.sameManager(who)) {
                return e;
            }
        }
        return null;
    }

    /** The live object with its managed part replaced by {@code merged}; bookkeeping (and the other scope) kept. */
    private static ObjectNode whole(ObjectNode live, ObjectNode merged, FieldPaths.Scope scope) {
        ObjectNode out = F.objectNode();
        if (scope == FieldPaths.Scope.STATUS) {
            out.setAll(live);
            out.remove("status");
            if (merged.has("status")) {
                out.set("status", merged.get("status"));
            }
            return out;
        }
        out.put("apiVersion", live.path("apiVersion").asText()).put("kind", live.path("kind").asText());
        ObjectNode meta = out.putObject("metadata");
        live.path("metadata").properties().forEach(e -> {
            if (!FieldPaths.managedPart(live, scope).path("metadata").has(e.getKey())) {
                meta.set(e.getKey(), e.getValue()); // name, uid, resourceVersion...
            }
        });
        merged.path("metadata").properties().forEach(e -> meta.set(e.getKey(), e.getValue()));
        merged.properties().forEach(e -> {
            if (!e.getKey().equals("metadata")) {
                out.set(e.getKey(), e.getValue());
            }
        });
        if (live.has("status")) {
            out.set("status", live.get("status"));
        }
        return out;
    }

    private static ObjectNode identity(ObjectNode config) {
        ObjectNode n = F.objectNode();
        n.put("apiVersion", config.path("apiVersion").asText()).put("kind", config.path("kind").asText());
        copyIdentity(config, n);
        return n;
    }

    private static void copyIdentity(ObjectNode config, ObjectNode target) {
        ObjectNode meta = target.withObjectProperty("metadata");
        for (String f : List.of("name", "namespace", "generateName")) {
            if (config.path("metadata").hasNonNull(f)) {
                meta.set(f, config.path("metadata").get(f));
            }
        }
    }

    private static ResourceKind kindOf(JsonNode o) {
        return ResourceKind.of(o.path("apiVersion").asText(), o.path("kind").asText())
                .orElseThrow(() -> ApiException.badRequest("no kind \"" + o.path("kind").asText() + "\" is served"));
    }

    private String now() {
        return Instant.now(clock).truncatedTo(ChronoUnit.SECONDS).toString();
    }

    /** kube-apiserver's apply conflict: 409, reason Conflict, one cause per field (apimachinery managedfields/internal/conflict.go). */
    private static ApiException conflict(Map<String, List<String>> byManager) {
        int count = byManager.values().stream().mapToInt(List::size).sum();
        List<FieldError> causes = new ArrayList<>();
        byManager.forEach((m, ps) -> ps.forEach(p -> causes.add(new FieldError(p, "conflict with " + m))));
        String message;
        if (count == 1) {
            Map.Entry<String, List<String>> only = byManager.entrySet().iterator().next();
            message = "Apply failed with 1 conflict: conflict with " + only.getKey() + ": " + only.getValue().getFirst();
        } else {
            List<String> lines = new ArrayList<>();
            byManager.forEach((m, ps) -> {
                lines.add("conflicts with " + m + ":");
                ps.forEach(p -> lines.add("- " + p));
            });
            message = "Apply failed with " + count + " conflicts: " + String.join("\n", lines);
        }
        return ApiException.applyConflict(message, causes);
    }
}
