package io.sourcemesh.cluster.store;

import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.LabelSelector;
import io.sourcemesh.api.resource.ResourceKind;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ObjectStoreTest {

    // The user's sleep.yaml and httpbin.yaml, as in the seed document.
    static final String SLEEP = """
            apiVersion: v1
            kind: ServiceAccount
            metadata:
              name: sleep
            ---
            apiVersion: v1
            kind: Service
            metadata:
              name: sleep
              labels:
                app: sleep
                service: sleep
            spec:
              ports:
              - port: 80
                name: http
              selector:
                app: sleep
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: sleep
            spec:
              replicas: 1
              selector:
                matchLabels:
                  app: sleep
              template:
                metadata:
                  labels:
                    app: sleep
                spec:
                  terminationGracePeriodSeconds: 0
                  serviceAccountName: sleep
                  containers:
                  - name: sleep
                    image: curlimages/curl
                    command: ["/bin/sleep", "3650d"]
                    imagePullPolicy: IfNotPresent
                    volumeMounts:
                    - mountPath: /etc/sleep/tls
                      name: secret-volume
                  volumes:
                  - name: secret-volume
                    secret:
                      secretName: sleep-secret
                      optional: true
            """;

    static final String HTTPBIN = """
            apiVersion: v1
            kind: Service
            metadata:
              name: httpbin
              labels:
                app: httpbin
            spec:
              ports:
              - name: http
                port: 8000
              selector:
                app: httpbin
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: httpbin
            spec:
              replicas: 1
              selector:
                matchLabels:
                  app: httpbin
                  version: v1
              template:
                metadata:
                  labels:
                    app: httpbin
                    version: v1
                spec:
                  containers:
                  - image: docker.io/citizenstig/httpbin
                    imagePullPolicy: IfNotPresent
                    name: httpbin
                    ports:
                    - containerPort: 8000
            """;

    private final List<ObjectStore> stores = new ArrayList<>();

    private ObjectStore open(Path dir) {
        ObjectStore s = new ObjectStore(dir);
        stores.add(s);
        return s;
    }

    @AfterEach
    void closeStores() {
        stores.forEach(ObjectStore::close);
    }

    private static List<KubeObject> manifest(String name, String yaml) {
        return ManifestReader.read(name, yaml);
    }

    private static List<String> printed(List<ApplyResult> results) {
        return results.stream().map(ApplyResult::toString).toList();
    }

    @Test
    void anIstioObjectsStatusNamesItsUnimplementedFieldsWhoeverWritesIt(@TempDir Path dir) {
        ObjectStore store = open(dir);
        String vs = """
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: ratings, namespace: default}
                spec:
                  hosts: [ratings]
                  http:
                  - route: [{destination: {host: ratings}}]
                    match: [{statPrefix: ratings}]
                """;
        store.apply(manifest("vs.yaml", vs));
        KubeObject stored = store.get(ResourceKind.VIRTUAL_SERVICE, "default", "ratings").orElseThrow();
        JsonNode message = stored.status().path("validationMessages").path(0);
        assertEquals("WARNING", message.path("level").asText());
        assertEquals("FieldNotImplemented", message.path("type").asText());
        assertEquals("spec.http[0].match[0].statPrefix is not implemented by SourceMesh and has no effect", message.path("description").asText());

        // A controller writing its own status keeps them; an unchanged write is no change at all.
        com.fasterxml.jackson.databind.node.ObjectNode other = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode();
        other.putArray("conditions").addObject().put("type", "Reconciled").put("status", "True");
        KubeObject written = store.updateStatus(stored.withStatus(other));
        assertEquals("FieldNotImplemented", written.status().path("validationMessages").path(0).path("type").asText());
        assertEquals("Reconciled", written.status().path("conditions").path(0).path("type").asText());
        assertEquals(written.resourceVersion(), store.updateStatus(written.withStatus(other)).resourceVersion());

        store.apply(manifest("vs.yaml", vs.replace("    match: [{statPrefix: ratings}]\n", "")));
        KubeObject fixed = store.get(ResourceKind.VIRTUAL_SERVICE, "default", "ratings").orElseThrow();
        assertTrue(fixed.status().path("validationMessages").isMissingNode(), fixed.status().toString());
        assertEquals("Reconciled", fixed.status().path("conditions").path(0).path("type").asText());
    }

    @Test
    void aRefusedFieldIsRefusedWholeAndNothingChanges(@TempDir Path dir) throws Exception {
        ObjectStore store = open(dir);
        // as the daemon receives it from any client, not through the CLI's manifest reader (which refuses it too)
        KubeObject targetPort = KubeObject.of((com.fasterxml.jackson.databind.node.ObjectNode) new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree("""
                        {"apiVersion": "networking.istio.io/v1", "kind": "Gateway",
                         "metadata": {"name": "gw", "namespace": "default"}, "spec": {"selector": {"istio": "ingressgateway"},
                         "servers": [{"port": {"number": 80, "name": "http", "protocol": "HTTP", "targetPort": 8080},
                                      "hosts": ["*"]}]}}
                        """));
        StoreException e = assertThrows(StoreException.class, () -> store.apply(List.of(targetPort)));
        assertEquals(StoreException.Reason.INVALID, e.reason());
        assertTrue(e.getMessage().startsWith("The Gateway \"gw\" is invalid: spec.servers[0].port.targetPort: Forbidden: "
                + "targetPort has no impact on Gateways"), e.getMessage());
        assertTrue(store.list(ResourceKind.GATEWAY, null).isEmpty());
    }

    @Test
    void startsWithDefaultAndIstioSystem(@TempDir Path dir) {
        ObjectStore store = open(dir);
        assertEquals(List.of("default", "istio-system"),
                store.list(ResourceKind.NAMESPACE, null).stream().map(KubeObject::name).toList());
    }

    @Test
    void applyReportsCreatedConfiguredUnchangedLikeKubectl(@TempDir Path dir) {
        ObjectStore store = open(dir);
        assertEquals(List.of("serviceaccount/sleep created", "service/sleep created", "deployment.apps/sleep created"),
                printed(store.apply(manifest("sleep.yaml", SLEEP))));
        assertEquals(List.of("serviceaccount/sleep unchanged", "service/sleep unchanged", "deployment.apps/sleep unchanged"),
                printed(store.apply(manifest("sleep.yaml", SLEEP))));
        assertEquals(List.of("serviceaccount/sleep unchanged", "service/sleep unchanged", "deployment.apps/sleep configured"),
                printed(store.apply(manifest("sleep.yaml", SLEEP.replace("replicas: 1", "replicas: 2")))));
        KubeObject sleep = store.get(ResourceKind.DEPLOYMENT, "default", "sleep").orElseThrow();
        assertEquals("default", sleep.namespace());
        assertEquals(2, sleep.spec().path("replicas").asInt());
        assertFalse(sleep.uid().isEmpty());
        assertTrue(sleep.creationTimestamp().matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ"), sleep.creationTimestamp());
        assertTrue(sleep.annotations().get(ObjectStore.LAST_APPLIED).startsWith("{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\","
                + "\"metadata\":{\"annotations\":{},\"name\":\"sleep\",\"namespace\":\"default\"},\"spec\":{\"replicas\":2,"));
    }

    @Test
    void generationGrowsOnlyWithSpecWhileResourceVersionGrowsWithEveryChange(@TempDir Path dir) {
        ObjectStore store = open(dir);
        store.apply(manifest("httpbin.yaml", HTTPBIN));
        KubeObject v1 = store.get(ResourceKind.DEPLOYMENT, "default", "httpbin").orElseThrow();
        assertEquals(1, v1.generation());

        KubeObject labelled = store.update(v1.withLabels(java.util.Map.of("team", "a")));
        assertEquals(1, labelled.generation());
        assertTrue(Long.parseLong(labelled.resourceVersion()) > Long.parseLong(v1.resourceVersion()));

        KubeObject status = store.updateStatus(labelled.withStatus(JsonNodeFactory.instance.objectNode().put("readyReplicas", 1)));
        assertEquals(1, status.generation());
        assertEquals(1, status.status().path("readyReplicas").asInt());
        assertTrue(Long.parseLong(status.resourceVersion()) > Long.parseLong(labelled.resourceVersion()));

        KubeObject patched = store.patch(ResourceKind.DEPLOYMENT, "default", "httpbin", PatchType.STRATEGIC,
                "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":{\"sidecar.istio.io/interceptionMode\":\"TPROXY\"}}}}}");
        assertEquals(2, patched.generation());
        assertEquals("TPROXY", patched.spec().at("/template/metadata/annotations/sidecar.istio.io~1interceptionMode").asText());
        assertEquals(1, patched.status().path("readyReplicas").asInt());

        // an update that changes nothing is not a change
        assertEquals(patched.resourceVersion(), store.update(patched).resourceVersion());
        // re-applying the manifest keeps what the patch added: three-way merge, as kubectl apply
        assertEquals(List.of("service/httpbin unchanged", "deployment.apps/httpbin unchanged"),
                printed(store.apply(manifest("httpbin.yaml", HTTPBIN))));
    }

    @Test
    void applyDeletesWhatTheManifestNoLongerSays(@TempDir Path dir) {
        ObjectStore store = open(dir);
        store.apply(manifest("sleep.yaml", SLEEP));
        store.apply(manifest("sleep.yaml", SLEEP.replace("    service: sleep\n", "")
                .replace("        imagePullPolicy: IfNotPresent\n", "")));
        KubeObject svc = store.get(ResourceKind.SERVICE, "default", "sleep").orElseThrow();
        assertEquals(java.util.Map.of("app", "sleep"), svc.labels());
        KubeObject deploy = store.get(ResourceKind.DEPLOYMENT, "default", "sleep").orElseThrow();
        assertTrue(deploy.spec().at("/template/spec/containers/0/imagePullPolicy").isMissingNode());
    }

    @Test
    void aRefusedAuthorizationPolicyLeavesTheLastGoodOneInPlace(@TempDir Path dir) throws Exception {
        ObjectStore store = open(dir);
        String policy = """
                apiVersion: security.istio.io/v1
                kind: AuthorizationPolicy
                metadata: {name: ingress-policy, namespace: istio-system}
                spec:
                  selector: {matchLabels: {app: istio-ingressgateway}}
                  action: ALLOW
                  rules:
                  - from: [{source: {ipBlocks: [IP]}}]
                """;
        store.apply(manifest("policy.yaml", policy.replace("IP", "127.120.0.10")));
        long before = store.resourceVersion();
        var mapper = new com.fasterxml.jackson.databind.ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory());
        KubeObject bad = KubeObject.of((com.fasterxml.jackson.databind.node.ObjectNode)
                mapper.readTree(policy.replace("IP", "not-an-ip")));
        StoreException invalid = assertThrows(StoreException.class, () -> store.apply(List.of(bad)));
        assertEquals(StoreException.Reason.INVALID, invalid.reason());
        assertEquals("The AuthorizationPolicy \"ingress-policy\" is invalid: spec.rules[0].from[0].source.ipBlocks[0]: "
                + "Invalid value: \"not-an-ip\": bad IP address (not-an-ip)", invalid.getMessage());
        assertEquals(before, store.resourceVersion());
        KubeObject live = store.get(ResourceKind.AUTHORIZATION_POLICY, "istio-system", "ingress-policy").orElseThrow();
        assertEquals("127.120.0.10", live.spec().at("/rules/0/from/0/source/ipBlocks/0").asText());
    }

    @Test
    void aBatchWithOneBadObjectChangesNothing(@TempDir Path dir) {
        ObjectStore store = open(dir);
        long before = store.resourceVersion();
        List<KubeObject> batch = new ArrayList<>(manifest("sleep.yaml", SLEEP));
        batch.add(KubeObject.of("v1", "Service", "default", "bad").withSpec(JsonNodeFactory.instance.objectNode().put("type", "Nope")));
        StoreException invalid = assertThrows(StoreException.class, () -> store.apply(batch));
        assertEquals(StoreException.Reason.INVALID, invalid.reason());
        assertEquals("The Service \"bad\" is invalid: spec.type: Unsupported value: \"Nope\": supported values: "
                + "\"ClusterIP\", \"NodePort\", \"LoadBalancer\", \"ExternalName\"", invalid.getMessage());

        // valid objects, but the last one's namespace does not exist: still all or nothing
        List<KubeObject> valid = new ArrayList<>(manifest("sleep.yaml", SLEEP));
        valid.add(KubeObject.of("v1", "ConfigMap", "nowhere", "c"));
        StoreException missing = assertThrows(StoreException.class, () -> store.apply(valid));
        assertEquals("namespaces \"nowhere\" not found", missing.getMessage());
        assertEquals(before, store.resourceVersion());
        assertTrue(store.list(ResourceKind.SERVICE, null).isEmpty());

        // a Namespace earlier in the batch holds the objects after it
        List<KubeObject> withNamespace = List.of(KubeObject.of("v1", "Namespace", "", "nowhere"),
                KubeObject.of("v1", "ConfigMap", "nowhere", "c"));
        assertEquals(List.of("namespace/nowhere created", "configmap/c created"), printed(store.apply(withNamespace)));
    }

    @Test
    void survivesARestart(@TempDir Path dir) {
        ObjectStore first = open(dir);
        first.apply(manifest("sleep.yaml", SLEEP));
        KubeObject sleep = first.get(ResourceKind.DEPLOYMENT, "default", "sleep").orElseThrow();
        long rv = first.resourceVersion();
        first.close();

        ObjectStore second = open(dir);
        assertEquals(rv, second.resourceVersion());
        assertEquals(sleep, second.get(ResourceKind.DEPLOYMENT, "default", "sleep").orElseThrow());
        assertEquals(List.of("default", "istio-system"),
                second.list(ResourceKind.NAMESPACE, null).stream().map(KubeObject::name).toList());
        KubeObject cm = second.create(KubeObject.of("v1", "ConfigMap", "default", "after"));
        assertEquals(Long.toString(rv + 1), cm.resourceVersion());
    }

    /**
     * An Istio object stored before a validation rule refused it (an older version's state): Kubernetes keeps it as
     * stored, and istioctl analyze reports it as IST0106 SchemaValidationError (pkg/config/analysis/analyzers/schema/
     * validation.go). Opening the store keeps its spec and metadata as they are, says why in its status, and leaves a
     * valid object, and a second opening, without a write.
     */
    @Test
    void anObjectStoredBeforeARuleRefusedItIsKeptAndItsStatusSaysWhy(@TempDir Path dir) throws Exception {
        ObjectStore first = open(dir);
        first.apply(manifest("gw.yaml", """
                apiVersion: networking.istio.io/v1
                kind: Gateway
                metadata: {name: gw, namespace: default}
                spec:
                  selector: {istio: ingressgateway}
                  servers:
                  - port: {number: 80, name: http, protocol: HTTP}
                    hosts: ['*']
                ---
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: ratings, namespace: default}
                spec:
                  hosts: [ratings]
                  http:
                  - route: [{destination: {host: ratings}}]
                """));
        KubeObject vs = first.get(ResourceKind.VIRTUAL_SERVICE, "default", "ratings").orElseThrow();
        first.close();
        // A second server repeating the port name: Istio's validateServer refuses it; an older SourceMesh stored it.
        Path file = dir.resolve("objects.json");
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        JsonNode state = json.readTree(file.toFile());
        com.fasterxml.jackson.databind.node.ObjectNode stale = null;
        for (JsonNode o : state.path("objects")) {
            if (o.path("kind").asText().equals("Gateway")) {
                stale = (com.fasterxml.jackson.databind.node.ObjectNode) o;
            }
        }
        com.fasterxml.jackson.databind.node.ObjectNode server = ((com.fasterxml.jackson.databind.node.ObjectNode) stale.path("spec")).withArray("servers").addObject();
        server.putObject("port").put("number", 81).put("name", "http").put("protocol", "HTTP");
        server.putArray("hosts").add("*");
        json.writeValue(file.toFile(), state);
        long rv = state.path("resourceVersion").asLong();

        ObjectStore second = open(dir);
        KubeObject gw = second.get(ResourceKind.GATEWAY, "default", "gw").orElseThrow();
        assertEquals(stale.path("spec"), gw.spec(), "the spec is kept as stored");
        assertEquals(((com.fasterxml.jackson.databind.node.ObjectNode) stale.path("metadata").deepCopy()).put("resourceVersion", gw.resourceVersion()), gw.node().path("metadata"),
                "and its metadata, but for the status write's resourceVersion");
        assertEquals(1, gw.generation());
        JsonNode message = gw.status().path("validationMessages").path(0);
        assertEquals("ERROR", message.path("level").asText(), gw.status().toString());
        assertEquals("SchemaValidationError", message.path("type").asText());
        assertEquals("spec.servers[1].port.name: Invalid value: port names in servers must be unique: duplicate name http; "
                + "stored before this rule refused it, it is kept but left out of the proxies' config until it is fixed",
                message.path("description").asText());
        assertEquals(rv + 1, second.resourceVersion(), "one write: the Gateway's status");
        assertEquals(List.of("Gateway default/gw: spec.servers[1].port.name: Invalid value: port names in servers must be "
                + "unique: duplicate name http; left out of the proxies' config"), second.invalid(), "what up and status list");
        assertEquals(vs, second.get(ResourceKind.VIRTUAL_SERVICE, "default", "ratings").orElseThrow(), "a valid object is untouched");
        second.close();

        ObjectStore third = open(dir);
        assertEquals(rv + 1, third.resourceVersion(), "nothing new to say: no write");
        assertEquals(gw, third.get(ResourceKind.GATEWAY, "default", "gw").orElseThrow());
        // Still refused at every write that keeps it invalid, and fixed by one that makes it valid.
        assertThrows(StoreException.class, () -> third.update(gw.withLabels(java.util.Map.of("a", "b"))));
        third.apply(manifest("gw.yaml", """
                apiVersion: networking.istio.io/v1
                kind: Gateway
                metadata: {name: gw, namespace: default}
                spec:
                  selector: {istio: ingressgateway}
                  servers:
                  - port: {number: 80, name: http, protocol: HTTP}
                    hosts: ['*']
                """));
        assertTrue(third.get(ResourceKind.GATEWAY, "default", "gw").orElseThrow().status().path("validationMessages").isMissingNode());
        assertEquals(List.of(), third.invalid(), "fixed: none left");
    }

    /**
     * The list {@code up} and {@code status} print is kept as objects are written, not worked out again on every read:
     * it must follow each write. Two Gateways stored before the rule refusing a repeated server port name: both listed
     * at every opening (the second one writes nothing), after a status write and a dry-run fix; a real fix and a
     * delete each take one off; a namespace's delete takes what it held.
     */
    @Test
    void theInvalidListFollowsFixesAndDeletes(@TempDir Path dir) throws Exception {
        ObjectStore first = open(dir);
        first.apply(manifest("ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: other}\n"));
        first.apply(manifest("gw.yaml", GATEWAY.formatted("a", "default") + "---\n" + GATEWAY.formatted("b", "default")
                + "---\n" + GATEWAY.formatted("c", "other")));
        first.close();
        Path file = dir.resolve("objects.json");
        ObjectMapper json = new ObjectMapper();
        JsonNode state = json.readTree(file.toFile());
        for (JsonNode o : state.path("objects")) {
            if (o.path("kind").asText().equals("Gateway")) {
                ObjectNode server = ((ObjectNode) o.path("spec")).withArray("servers").addObject();
                server.putObject("port").put("number", 81).put("name", "http").put("protocol", "HTTP");
                server.putArray("hosts").add("*");
            }
        }
        json.writeValue(file.toFile(), state);
        String why = ": spec.servers[1].port.name: Invalid value: port names in servers must be unique: duplicate name http; "
                + "left out of the proxies' config";
        List<String> all = List.of("Gateway default/a" + why, "Gateway default/b" + why, "Gateway other/c" + why);

        assertEquals(all, open(dir).invalid(), "opened: the statuses written");
        ObjectStore store = open(dir);
        long rv = store.resourceVersion();
        assertEquals(all, store.invalid(), "opened again: nothing written, still known");
        assertEquals(rv, store.resourceVersion());

        KubeObject a = store.get(ResourceKind.GATEWAY, "default", "a").orElseThrow();
        ObjectNode status = a.status().deepCopy();
        status.putArray("conditions").addObject().put("type", "Reconciled").put("status", "False");
        store.updateStatus(a.withStatus(status));
        assertEquals(all, store.invalid(), "a status write leaves the spec as invalid as it was");
        store.apply(manifest("fix.yaml", GATEWAY.formatted("a", "default")));
        assertEquals(all.subList(1, 3), store.invalid(), "fixed by a later apply");
        store.update(store.get(ResourceKind.GATEWAY, "default", "b").orElseThrow().withSpec(
                store.get(ResourceKind.GATEWAY, "default", "a").orElseThrow().spec()), true);
        assertEquals(all.subList(1, 3), store.invalid(), "a dry-run fix changes nothing");
        store.delete(ResourceKind.GATEWAY, "default", "b", true);
        assertEquals(all.subList(1, 3), store.invalid(), "nor a dry-run delete");
        store.delete(ResourceKind.GATEWAY, "default", "b");
        assertEquals(all.subList(2, 3), store.invalid(), "deleted");
        store.delete(ResourceKind.NAMESPACE, "", "other");
        assertEquals(List.of(), store.invalid(), "its namespace deleted");
        assertEquals(List.of(), open(dir).invalid(), "and so it stays");
    }

    private static final String GATEWAY = """
            apiVersion: networking.istio.io/v1
            kind: Gateway
            metadata: {name: %s, namespace: %s}
            spec:
              selector: {istio: ingressgateway}
              servers:
              - port: {number: 80, name: http, protocol: HTTP}
                hosts: ['*']
            """;

    @Test
    void watchReplaysThenDeliversInCommitOrder(@TempDir Path dir) throws Exception {
        ObjectStore store = open(dir);
        store.apply(manifest("httpbin.yaml", HTTPBIN));
        LinkedBlockingQueue<WatchEvent> events = new LinkedBlockingQueue<>();
        try (Watch w = store.watch(events::add)) {
            assertNotNull(w);
            store.apply(manifest("sleep.yaml", SLEEP));
            store.patch(ResourceKind.DEPLOYMENT, "default", "sleep", PatchType.MERGE, "{\"spec\":{\"replicas\":3}}");
            store.delete(ResourceKind.SERVICE, "default", "httpbin");
            List<String> seen = new ArrayList<>();
            for (int i = 0; i < 9; i++) {
                WatchEvent e = events.poll(5, TimeUnit.SECONDS);
                assertNotNull(e, "only got " + seen);
                seen.add(e.type() + " " + e.object());
            }
            assertEquals(List.of(
                    "ADDED deployment.apps/httpbin", "ADDED namespace/default", "ADDED namespace/istio-system",
                    "ADDED service/httpbin",
                    "ADDED serviceaccount/sleep", "ADDED service/sleep", "ADDED deployment.apps/sleep",
                    "MODIFIED deployment.apps/sleep", "DELETED service/httpbin"), seen);
            assertEquals(null, events.poll(200, TimeUnit.MILLISECONDS));
        }
    }

    @Test
    void watchByKindAndResourceVersionsAreMonotonic(@TempDir Path dir) throws Exception {
        ObjectStore store = open(dir);
        LinkedBlockingQueue<WatchEvent> events = new LinkedBlockingQueue<>();
        store.watch(ResourceKind.CONFIG_MAP, events::add);
        for (int i = 0; i < 20; i++) {
            store.create(KubeObject.of("v1", "ConfigMap", "default", "c" + i));
        }
        long last = 0;
        for (int i = 0; i < 20; i++) {
            WatchEvent e = events.poll(5, TimeUnit.SECONDS);
            assertNotNull(e);
            assertEquals("c" + i, e.object().name());
            long rv = Long.parseLong(e.object().resourceVersion());
            assertTrue(rv > last);
            last = rv;
        }
    }

    @Test
    void aDryRunValidatesAndAnswersButStoresNothingAndTellsNoWatcher(@TempDir Path dir) throws Exception {
        ObjectStore store = open(dir);
        LinkedBlockingQueue<WatchEvent> events = new LinkedBlockingQueue<>();
        store.watch(ResourceKind.CONFIG_MAP, events::add);
        KubeObject cm = KubeObject.of("v1", "ConfigMap", "default", "dry");
        long before = store.resourceVersion();
        KubeObject rehearsed = store.create(cm, true);
        assertEquals("dry", rehearsed.name());
        assertFalse(rehearsed.uid().isEmpty());
        assertTrue(store.get(ResourceKind.CONFIG_MAP, "default", "dry").isEmpty());
        assertThrows(StoreException.class, () -> store.create(KubeObject.of("v1", "ConfigMap", "default", "Bad_Name"), true));
        store.create(cm);
        assertNotNull(events.poll(5, TimeUnit.SECONDS));
        long after = store.resourceVersion();
        store.update(cm.withLabels(java.util.Map.of("a", "b")), true);
        store.updateStatus(cm.withStatus(JsonNodeFactory.instance.objectNode().put("x", 1)), true);
        store.delete(ResourceKind.CONFIG_MAP, "default", "dry", true);
        assertTrue(store.get(ResourceKind.CONFIG_MAP, "default", "dry").orElseThrow().labels().isEmpty());
        assertEquals(after, store.resourceVersion());
        assertEquals(before + 1, after);
        assertEquals(null, events.poll(300, TimeUnit.MILLISECONDS));
    }

    @Test
    void listsBySelectorInOneOrAllNamespaces(@TempDir Path dir) {
        ObjectStore store = open(dir);
        store.apply(manifest("sleep.yaml", SLEEP));
        store.apply(manifest("httpbin.yaml", HTTPBIN));
        store.create(KubeObject.of("v1", "Service", "istio-system", "istio-ingressgateway")
                .withLabels(java.util.Map.of("app", "istio-ingressgateway", "istio", "ingressgateway"))
                .withSpec(JsonNodeFactory.instance.objectNode().put("clusterIP", "None")));
        assertEquals(List.of("httpbin", "sleep"), names(store.list(ResourceKind.SERVICE, "default")));
        assertEquals(List.of("httpbin", "sleep", "istio-ingressgateway"), names(store.list(ResourceKind.SERVICE, null)));
        assertEquals(List.of("sleep"), names(store.list(ResourceKind.SERVICE, null, LabelSelector.parse("app=sleep,service"))));
        assertEquals(List.of("httpbin", "istio-ingressgateway"),
                names(store.list(ResourceKind.SERVICE, null, LabelSelector.parse("app notin (sleep)"))));
        assertEquals(List.of("istio-ingressgateway"),
                names(store.list(ResourceKind.SERVICE, null, LabelSelector.parse("istio in (ingressgateway,egressgateway)"))));
    }

    @Test
    void createUpdateDeleteErrorsAreKubectls(@TempDir Path dir) {
        ObjectStore store = open(dir);
        store.apply(manifest("httpbin.yaml", HTTPBIN));
        KubeObject svc = store.get(ResourceKind.SERVICE, "default", "httpbin").orElseThrow();
        assertEquals("services \"httpbin\" already exists",
                assertThrows(StoreException.class, () -> store.create(svc.withUid(""))).getMessage());
        store.update(svc.withLabels(java.util.Map.of("app", "httpbin", "v", "2")));
        StoreException stale = assertThrows(StoreException.class, () -> store.update(svc.withLabels(java.util.Map.of())));
        assertEquals(StoreException.Reason.CONFLICT, stale.reason());
        assertEquals("deployments.apps \"nope\" not found",
                assertThrows(StoreException.class, () -> store.delete(ResourceKind.DEPLOYMENT, "default", "nope")).getMessage());
        assertEquals(StoreException.Reason.FORBIDDEN,
                assertThrows(StoreException.class, () -> store.delete(ResourceKind.NAMESPACE, "", "default")).reason());
        assertEquals("no matches for kind \"Widget\" in version \"v1\"",
                assertThrows(StoreException.class, () -> store.create(KubeObject.of("v1", "Widget", "default", "w"))).getMessage());
    }

    @Test
    void deletingCascadesToOwnedObjectsAndNamespaceContents(@TempDir Path dir) {
        ObjectStore store = open(dir);
        store.apply(manifest("httpbin.yaml", HTTPBIN));
        KubeObject deploy = store.get(ResourceKind.DEPLOYMENT, "default", "httpbin").orElseThrow();
        var owner = JsonNodeFactory.instance.objectNode().put("apiVersion", "apps/v1").put("kind", "Deployment")
                .put("name", "httpbin").put("uid", deploy.uid()).put("controller", true);
        var rsNode = KubeObject.of("apps/v1", "ReplicaSet", "default", "").node();
        rsNode.withObjectProperty("metadata").put("generateName", "httpbin-").putArray("ownerReferences").add(owner);
        rsNode.set("spec", deploy.spec());
        KubeObject rs = store.create(KubeObject.of(rsNode));
        assertTrue(rs.name().matches("httpbin-[bcdfghjklmnpqrstvwxz2456789]{5}"), rs.name());

        store.delete(ResourceKind.DEPLOYMENT, "default", "httpbin");
        assertTrue(store.list(ResourceKind.REPLICA_SET, null).isEmpty());

        store.create(KubeObject.of("v1", "Namespace", "", "demo"));
        store.create(KubeObject.of("v1", "ConfigMap", "demo", "c"));
        store.delete(ResourceKind.NAMESPACE, null, "demo");
        assertTrue(store.list(ResourceKind.CONFIG_MAP, "demo").isEmpty());
    }

    @Test
    void aDependentOfADeletedOwnerIsRefused(@TempDir Path dir) {
        ObjectStore store = open(dir);
        store.apply(manifest("httpbin.yaml", HTTPBIN));
        KubeObject deploy = store.get(ResourceKind.DEPLOYMENT, "default", "httpbin").orElseThrow();
        var rsNode = KubeObject.of("apps/v1", "ReplicaSet", "default", "httpbin-x").node();
        rsNode.withObjectProperty("metadata").putArray("ownerReferences").addObject().put("apiVersion", "apps/v1")
                .put("kind", "Deployment").put("name", "httpbin").put("uid", deploy.uid()).put("controller", true);
        rsNode.set("spec", deploy.spec());
        store.delete(ResourceKind.DEPLOYMENT, "default", "httpbin");
        store.apply(manifest("httpbin.yaml", HTTPBIN)); // the same name again, another uid

        StoreException refused = assertThrows(StoreException.class, () -> store.create(KubeObject.of(rsNode)));
        assertEquals(StoreException.Reason.CONFLICT, refused.reason());
        assertEquals("Operation cannot be fulfilled on replicasets.apps \"httpbin-x\": its owner Deployment \"httpbin\" (uid "
                + deploy.uid() + ") no longer exists", refused.getMessage());
        assertTrue(store.list(ResourceKind.REPLICA_SET, null).isEmpty());
    }

    @Test
    void dependentsAnOlderBuildLeftWithoutTheirOwnerAreCollectedOnLoad(@TempDir Path dir) throws Exception {
        ObjectStore first = open(dir);
        first.apply(manifest("httpbin.yaml", HTTPBIN));
        KubeObject deploy = first.get(ResourceKind.DEPLOYMENT, "default", "httpbin").orElseThrow();
        var rsNode = KubeObject.of("apps/v1", "ReplicaSet", "default", "httpbin-x").node();
        rsNode.withObjectProperty("metadata").putArray("ownerReferences").addObject().put("apiVersion", "apps/v1")
                .put("kind", "Deployment").put("name", "httpbin").put("uid", deploy.uid()).put("controller", true);
        rsNode.set("spec", deploy.spec());
        KubeObject rs = first.create(KubeObject.of(rsNode));
        var podNode = KubeObject.of("v1", "Pod", "default", "httpbin-x-abcde").node();
        podNode.withObjectProperty("metadata").putArray("ownerReferences").addObject().put("apiVersion", "apps/v1")
                .put("kind", "ReplicaSet").put("name", rs.name()).put("uid", rs.uid()).put("controller", true);
        podNode.withObjectProperty("spec").putArray("containers").addObject().put("name", "httpbin").put("image", "httpbin");
        first.create(KubeObject.of(podNode));
        first.close();
        // the state as a build that let a pass outlive the delete saved it: the Deployment gone, its dependents not
        Path state = dir.resolve("objects.json");
        var root = (com.fasterxml.jackson.databind.node.ObjectNode) new com.fasterxml.jackson.databind.ObjectMapper().readTree(state.toFile());
        var objects = (com.fasterxml.jackson.databind.node.ArrayNode) root.path("objects");
        for (int i = objects.size() - 1; i >= 0; i--) {
            if (objects.get(i).path("metadata").path("uid").asText().equals(deploy.uid())) {
                objects.remove(i);
            }
        }
        java.nio.file.Files.writeString(state, root.toString());

        ObjectStore second = open(dir);
        assertTrue(second.list(ResourceKind.REPLICA_SET, null).isEmpty());
        assertTrue(second.list(ResourceKind.POD, null).isEmpty());
        assertTrue(second.get(ResourceKind.SERVICE, "default", "httpbin").isPresent());
        assertTrue(open(dir).list(ResourceKind.POD, null).isEmpty(), "the collection is saved");
    }

    @Test
    void inMemoryStoreWorksWithoutADirectory() {
        ObjectStore store = ObjectStore.inMemory();
        stores.add(store);
        assertEquals(List.of("serviceaccount/sleep created", "service/sleep created", "deployment.apps/sleep created"),
                printed(store.apply(manifest("sleep.yaml", SLEEP))));
    }

    private static List<String> names(List<KubeObject> objects) {
        return objects.stream().map(KubeObject::name).toList();
    }

    @Test
    void concurrentWritersSeeOneCommitOrder(@TempDir Path dir) throws Exception {
        ObjectStore store = open(dir);
        LinkedBlockingQueue<WatchEvent> events = new LinkedBlockingQueue<>();
        store.watch(ResourceKind.CONFIG_MAP, events::add);
        List<Thread> writers = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            int id = t;
            writers.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < 25; i++) {
                    store.create(KubeObject.of("v1", "ConfigMap", "default", "w" + id + "-" + i));
                }
            }));
        }
        for (Thread w : writers) {
            w.join();
        }
        long last = 0;
        for (int i = 0; i < 100; i++) {
            WatchEvent e = events.poll(5, TimeUnit.SECONDS);
            assertNotNull(e);
            long rv = Long.parseLong(e.object().resourceVersion());
            assertTrue(rv > last, rv + " after " + last);
            last = rv;
        }
        assertEquals(100, store.list(ResourceKind.CONFIG_MAP, "default").size());
        assertEquals(last, store.resourceVersion());
    }

    @Test
    void aLeftoverTemporaryFileFromACrashIsIgnored(@TempDir Path dir) throws Exception {
        ObjectStore first = open(dir);
        first.create(KubeObject.of("v1", "ConfigMap", "default", "kept"));
        first.close();
        java.nio.file.Files.writeString(dir.resolve("objects.json.tmp"), "{half a wri");
        ObjectStore second = open(dir);
        assertTrue(second.get(ResourceKind.CONFIG_MAP, "default", "kept").isPresent());
        second.create(KubeObject.of("v1", "ConfigMap", "default", "next"));
        assertTrue(open(dir).get(ResourceKind.CONFIG_MAP, "default", "next").isPresent());
    }
}
