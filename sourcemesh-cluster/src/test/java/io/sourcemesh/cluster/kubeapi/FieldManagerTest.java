package io.sourcemesh.cluster.kubeapi;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.sourcemesh.api.resource.KubeObject;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

/** Field ownership, after structured-merge-diff's Updater: apply, conflicts, force, removal, updates. */
class FieldManagerTest {
    private static final YAMLMapper YAML = new YAMLMapper();
    private final FieldManager fm = new FieldManager(Clock.fixed(Instant.parse("2026-01-02T03:04:05Z"), ZoneOffset.UTC));

    private static ObjectNode yaml(String s) {
        try {
            return (ObjectNode) YAML.readTree(s);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static FieldManager.Applier applier(String name, boolean force) {
        return new FieldManager.Applier(name, force, FieldPaths.Scope.MAIN);
    }

    private static final String DEPLOYMENT = """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web, namespace: default, labels: {app: web}}
            spec:
              replicas: 2
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec:
                  containers:
                  - name: app
                    image: app:v1
                    args: [a, b]
                    ports: [{containerPort: 8080}, {containerPort: 53, protocol: UDP}]
            """;

    @Test
    void anAppliedConfigurationsFieldSetIsWhatKubeWrites() {
        KubeObject created = fm.apply(null, yaml(DEPLOYMENT), "apps/v1", applier("kubectl", false));
        JsonNode entry = created.node().path("metadata").path("managedFields").get(0);
        assertEquals("kubectl", entry.path("manager").asText());
        assertEquals("Apply", entry.path("operation").asText());
        assertEquals("apps/v1", entry.path("apiVersion").asText());
        assertEquals("2026-01-02T03:04:05Z", entry.path("time").asText());
        assertEquals("FieldsV1", entry.path("fieldsType").asText());
        // Leaves, map entries and list items; a keyed item is "." plus its fields; args (atomic) is one leaf.
        assertEquals(yaml("""
                f:metadata: {f:labels: {f:app: {}}}
                f:spec:
                  f:replicas: {}
                  f:selector: {f:matchLabels: {f:app: {}}}
                  f:template:
                    f:metadata: {f:labels: {f:app: {}}}
                    f:spec:
                      f:containers:
                        'k:{"name":"app"}':
                          .: {}
                          f:args: {}
                          f:image: {}
                          f:name: {}
                          f:ports:
                            'k:{"containerPort":53,"protocol":"UDP"}': {.: {}, f:containerPort: {}, f:protocol: {}}
                            'k:{"containerPort":8080,"protocol":"TCP"}': {.: {}, f:containerPort: {}}
                """), entry.path("fieldsV1"));
        assertEquals("web", created.name());
        assertEquals("default", created.namespace());
    }

    @Test
    void reapplyingTheSameConfigurationIsANoOp() {
        KubeObject live = fm.apply(null, yaml(DEPLOYMENT), "apps/v1", applier("kubectl", false)).withResourceVersion("5");
        FieldManager later = new FieldManager(Clock.fixed(Instant.parse("2026-06-01T00:00:00Z"), ZoneOffset.UTC));
        assertSame(live, later.apply(live, yaml(DEPLOYMENT), "apps/v1", applier("kubectl", false)));
    }

    @Test
    void aDifferentValueOnAnotherManagersFieldConflictsUnlessForced() {
        KubeObject live = fm.apply(null, yaml(DEPLOYMENT), "apps/v1", applier("alice", false));
        ObjectNode bob = yaml("""
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web, namespace: default}
                spec:
                  replicas: 5
                  template:
                    spec:
                      containers: [{name: app, image: app:v2}]
                """);
        ApiException e = assertThrows(ApiException.class, () -> fm.apply(live, bob, "apps/v1", applier("bob", false)));
        assertEquals(409, e.code());
        assertEquals("Apply failed with 2 conflicts: conflicts with \"alice\":\n- .spec.replicas\n"
                + "- .spec.template.spec.containers[name=\"app\"].image", e.getMessage());
        JsonNode causes = e.status().path("details").path("causes");
        assertEquals("FieldManagerConflict", causes.get(0).path("reason").asText());
        assertEquals("conflict with \"alice\"", causes.get(0).path("message").asText());
        assertEquals(".spec.replicas", causes.get(0).path("field").asText());
        assertEquals("Conflict", e.status().path("reason").asText());

        KubeObject forced = fm.apply(live, bob, "apps/v1", applier("bob", true));
        assertEquals(5, forced.spec().path("replicas").asInt());
        assertEquals("app:v2", forced.spec().path("template").path("spec").path("containers").get(0).path("image").asText());
        assertEquals("[a,b]", forced.spec().path("template").path("spec").path("containers").get(0).path("args").toString()
                .replace("\"", ""), "alice's other fields stay");
        JsonNode alice = entry(forced, "alice");
        assertTrue(alice.path("fieldsV1").path("f:spec").path("f:replicas").isMissingNode(), "bob took it");
        assertFalse(alice.path("fieldsV1").path("f:spec").path("f:selector").isMissingNode());
        // The same value is no conflict: both own it.
        ObjectNode same = yaml("""
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web, namespace: default}
                spec: {replicas: 2}
                """);
        KubeObject shared = fm.apply(live, same, "apps/v1", applier("carol", false));
        assertFalse(entry(shared, "alice").path("fieldsV1").path("f:spec").path("f:replicas").isMissingNode());
        assertFalse(entry(shared, "carol").path("fieldsV1").path("f:spec").path("f:replicas").isMissingNode());
    }

    @Test
    void aFieldNoLongerAppliedGoesUnlessAnotherManagerOwnsIt() {
        KubeObject live = fm.apply(null, yaml(DEPLOYMENT), "apps/v1", applier("alice", false));
        ObjectNode sidecar = yaml("""
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web, namespace: default, labels: {team: mesh}}
                spec:
                  template:
                    spec:
                      containers: [{name: side, image: side:v1}]
                """);
        live = fm.apply(live, sidecar, "apps/v1", applier("bob", false));
        assertEquals(2, live.spec().path("template").path("spec").path("containers").size(), "merged by name");
        // alice drops her labels and the UDP port; bob drops his container.
        ObjectNode aliceLess = yaml(DEPLOYMENT.replace(", {containerPort: 53, protocol: UDP}", "").replace(", labels: {app: web}}", "}"));
        live = fm.apply(live, aliceLess, "apps/v1", applier("alice", false));
        assertEquals("{\"team\":\"mesh\"}", live.node().path("metadata").path("labels").toString(), "bob's label stays");
        JsonNode ports = live.spec().path("template").path("spec").path("containers").get(0).path("ports");
        assertEquals(1, ports.size());
        assertEquals(8080, ports.get(0).path("containerPort").asInt());
        ObjectNode bobLess = yaml("""
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web, namespace: default, labels: {team: mesh}}
                """);
        live = fm.apply(live, bobLess, "apps/v1", applier("bob", false));
        assertEquals(1, live.spec().path("template").path("spec").path("containers").size());
        assertEquals("app", live.spec().path("template").path("spec").path("containers").get(0).path("name").asText());
    }

    @Test
    void anUpdateOwnsWhatItChangedAndTakesItFromOthers() {
        KubeObject live = fm.apply(null, yaml(DEPLOYMENT), "apps/v1", applier("kubectl", false));
        ObjectNode edited = live.node();
        ((ObjectNode) edited.path("spec")).put("replicas", 4);
        ((ObjectNode) edited.path("metadata").path("labels")).put("tier", "front");
        KubeObject updated = fm.update(live, KubeObject.of(edited), "apps/v1", "kubectl-edit", FieldPaths.Scope.MAIN);
        JsonNode edit = entry(updated, "kubectl-edit");
        assertEquals("Update", edit.path("operation").asText());
        assertEquals(yaml("{f:metadata: {f:labels: {f:tier: {}}}, f:spec: {f:replicas: {}}}"), edit.path("fieldsV1"));
        assertTrue(entry(updated, "kubectl").path("fieldsV1").path("f:spec").path("f:replicas").isMissingNode());
        // A later apply of the old value now conflicts with the editor, named as kube names an Update manager.
        ApiException e = assertThrows(ApiException.class, () -> fm.apply(updated, yaml(DEPLOYMENT), "apps/v1", applier("kubectl", false)));
        assertEquals("Apply failed with 1 conflict: conflict with \"kubectl-edit\" using apps/v1: .spec.replicas", e.getMessage());
        // A create records every field it set, granular maps and lists as members themselves.
        KubeObject created = fm.update(null, KubeObject.of(yaml("""
                apiVersion: v1
                kind: ConfigMap
                metadata: {name: c, namespace: default, labels: {a: b}}
                data: {k: v}
                """)), "v1", "kubectl-create", FieldPaths.Scope.MAIN);
        assertEquals(yaml("{f:data: {.: {}, f:k: {}}, f:metadata: {f:labels: {.: {}, f:a: {}}}}"),
                entry(created, "kubectl-create").path("fieldsV1"));
    }

    @Test
    void anObjectWhoseListItemsLackTheirKeyIsLeftToValidation() {
        KubeObject pod = KubeObject.of(yaml("""
                apiVersion: v1
                kind: Pod
                metadata: {name: p, namespace: default, managedFields: [{manager: x, operation: Update, fieldsV1: {f:a: {}}}]}
                spec: {containers: [{image: i}]}
                """));
        KubeObject written = fm.update(null, pod, "v1", "kubectl-create", FieldPaths.Scope.MAIN);
        assertTrue(written.node().path("metadata").path("managedFields").isMissingNode());
        assertEquals("i", written.spec().path("containers").get(0).path("image").asText());
        ApiException e = assertThrows(ApiException.class, () -> fm.apply(null, pod.node(), "v1", applier("kubectl", false)));
        assertEquals(400, e.code());
    }

    @Test
    void anObjectNoManagerWroteBelongsToBeforeFirstApply() {
        KubeObject unmanaged = KubeObject.of(yaml(DEPLOYMENT)).withResourceVersion("3");
        ApiException e = assertThrows(ApiException.class,
                () -> fm.apply(unmanaged, yaml(DEPLOYMENT.replace("replicas: 2", "replicas: 4")), "apps/v1", applier("kubectl", false)));
        assertEquals("Apply failed with 1 conflict: conflict with \"before-first-apply\" using apps/v1: .spec.replicas", e.getMessage());
        KubeObject same = fm.apply(unmanaged, yaml(DEPLOYMENT), "apps/v1", applier("kubectl", false));
        assertEquals(2, same.node().path("metadata").path("managedFields").size(), "both own the same values");
    }

    @Test
    void statusIsItsOwnScope() {
        KubeObject live = fm.apply(null, yaml(DEPLOYMENT + "status: {replicas: 9}\n"), "apps/v1", applier("kubectl", false));
        assertFalse(live.node().has("status"), "an apply to the main resource ignores status");
        ObjectNode withStatus = live.node();
        withStatus.putObject("status").put("replicas", 2);
        ((ObjectNode) withStatus.path("spec")).put("replicas", 7);
        KubeObject written = fm.update(live, KubeObject.of(withStatus), "apps/v1", "controller", FieldPaths.Scope.STATUS);
        JsonNode controller = entry(written, "controller");
        assertEquals("status", controller.path("subresource").asText());
        assertEquals(yaml("{f:status: {f:replicas: {}}}"), controller.path("fieldsV1"));
        assertFalse(entry(written, "kubectl").path("fieldsV1").path("f:spec").path("f:replicas").isMissingNode(),
                "a status write takes nothing from the spec's managers");
    }

    @Test
    void managerNamesFollowKubeApiserver() {
        assertEquals("kubectl-edit", FieldManager.managerName(null, "kubectl-edit/v1.32.4 (linux/amd64) kubernetes/abc"));
        assertEquals("mine", FieldManager.managerName("mine", "kubectl/v1.32"));
        assertThrows(ApiException.class, () -> FieldManager.managerName("x".repeat(129), null));
    }

    @Test
    void fieldSetsRoundTripAndPrintPaths() {
        JsonNode v1 = yaml("{f:a: {.: {}, f:b: {}}, f:list: {'v:\"x\"': {}}, f:c: {'k:{\"name\":\"n\",\"port\":1}': {.: {}, f:image: {}}}}");
        FieldSet s = FieldSet.fromFieldsV1(v1);
        assertEquals(v1, s.toFieldsV1());
        assertEquals(java.util.List.of(".a", ".a.b", ".c[name=\"n\",port=1]", ".c[name=\"n\",port=1].image", ".list[=\"x\"]"),
                s.paths().stream().map(FieldSet::print).toList());
    }

    private static JsonNode entry(KubeObject o, String manager) {
        for (JsonNode e : o.node().path("metadata").path("managedFields")) {
            if (e.path("manager").asText().equals(manager)) {
                return e;
            }
        }
        throw new AssertionError("no entry for " + manager + " in " + o.node().path("metadata").path("managedFields"));
    }
}
