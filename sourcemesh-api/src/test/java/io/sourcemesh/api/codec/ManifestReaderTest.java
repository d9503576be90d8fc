package io.sourcemesh.api.codec;

import io.sourcemesh.api.resource.KubeObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ManifestReaderTest {

    static Path seed(String name) {
        try {
            return Path.of(ManifestReaderTest.class.getResource("/seed/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void readsEverySeedManifest() {
        List<KubeObject> sleep = ManifestReader.read(seed("sleep.yaml"));
        assertEquals(List.of("ServiceAccount", "Service", "Deployment"), sleep.stream().map(KubeObject::kind).toList());
        assertEquals("sleep", sleep.get(2).name());
        assertEquals("/bin/sleep", sleep.get(2).spec().at("/template/spec/containers/0/command/0").asText());

        List<KubeObject> httpbin = ManifestReader.read(seed("httpbin.yaml"));
        assertEquals(8000, httpbin.get(0).spec().at("/ports/0/port").asInt());

        KubeObject filter = ManifestReader.read(seed("enable-xff-for-sidecar-inbound.yaml")).getFirst();
        assertEquals("istio-system", filter.namespace());
        assertEquals("true", filter.labels().get("asm-system"));
        assertTrue(filter.spec().at("/configPatches/0/patch/value/typed_config/use_remote_address").asBoolean());

        assertEquals(List.of("Gateway", "VirtualService"),
                ManifestReader.read(seed("http-demo.yaml")).stream().map(KubeObject::kind).toList());
        KubeObject https = ManifestReader.read(seed("https-demo.yaml")).getFirst();
        assertEquals("myexample-credential", https.spec().at("/servers/0/tls/credentialName").asText());
    }

    @Test
    void readsADirectorySortedByName() {
        List<KubeObject> all = ManifestReader.read(seed("sleep.yaml").getParent());
        assertEquals(List.of("EnvoyFilter", "Gateway", "VirtualService", "Service", "Deployment", "Gateway",
                "VirtualService", "ServiceAccount", "Service", "Deployment"), all.stream().map(KubeObject::kind).toList());
    }

    @Test
    void unknownFieldCarriesFileLineAndColumn() {
        String yaml = """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: sleep
                spec:
                  replicaz: 1
                  selector:
                    matchLabels:
                      app: sleep
                  template:
                    metadata:
                      labels:
                        app: sleep
                    spec:
                      containerz: []
                """;
        ManifestException e = assertThrows(ManifestException.class, () -> ManifestReader.read("sleep.yaml", yaml));
        assertEquals("""
                sleep.yaml:6:3: unknown field "spec.replicaz"
                sleep.yaml:15:7: unknown field "spec.template.spec.containerz"
                sleep.yaml:14:5: spec.template.spec.containers: Required value""", e.getMessage());
    }

    @Test
    void errorsInLaterDocumentsCountLinesFromTheFileStart() {
        String yaml = """
                apiVersion: v1
                kind: ServiceAccount
                metadata:
                  name: sleep
                ---
                apiVersion: v1
                kind: Service
                metadata:
                  name: sleep
                spec:
                  type: Nodeport
                  ports:
                  - port: "80"
                """;
        ManifestException e = assertThrows(ManifestException.class, () -> ManifestReader.read("svc.yaml", yaml));
        assertEquals(List.of(
                "svc.yaml:11:3: spec.type: Unsupported value: \"Nodeport\": supported values: \"ClusterIP\", \"NodePort\", \"LoadBalancer\", \"ExternalName\"",
                "svc.yaml:13:5: spec.ports[0].port: Invalid value: \"80\": must be of type integer, got string"),
                e.problems().stream().map(ManifestProblem::toString).toList());
    }

    @Test
    void unknownKindIsNamedWithItsVersion() {
        ManifestException e = assertThrows(ManifestException.class, () -> ManifestReader.read("x.yaml", """
                apiVersion: networking.istio.io/v1alpha3
                kind: VirtualServise
                metadata:
                  name: x
                """));
        assertEquals("x.yaml:2:1: no matches for kind \"VirtualServise\" in version \"networking.istio.io/v1alpha3\"", e.getMessage());
    }

    @Test
    void envoyFilterIsServedOnlyAsV1alpha3() {
        ManifestException e = assertThrows(ManifestException.class, () -> ManifestReader.read("ef.yaml", """
                apiVersion: networking.istio.io/v1
                kind: EnvoyFilter
                metadata: {name: x}
                """));
        assertEquals("ef.yaml:2:1: no matches for kind \"EnvoyFilter\" in version \"networking.istio.io/v1\"", e.getMessage());
    }

    @Test
    void yamlSyntaxErrorHasItsPosition() {
        ManifestException e = assertThrows(ManifestException.class, () -> ManifestReader.read("bad.yaml", """
                apiVersion: v1
                kind: Service
                metadata:
                  name: x
                 labels: {}
                """));
        assertEquals(1, e.problems().size());
        ManifestProblem p = e.problems().getFirst();
        assertEquals("bad.yaml", p.source());
        assertEquals(5, p.line());
        assertTrue(p.message().startsWith("error converting YAML to JSON: yaml: "), p.message());
    }

    @Test
    void oneBadDocumentYieldsNothingAndAllErrorsAreListed(@TempDir Path dir) throws Exception {
        Files.copy(seed("sleep.yaml"), dir.resolve("a.yaml"));
        Files.writeString(dir.resolve("b.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: 1\n");
        Files.writeString(dir.resolve("c.yml"), "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  k: '%%%'\n");
        Files.writeString(dir.resolve("ignored.txt"), "not: a manifest");
        ManifestException e = assertThrows(ManifestException.class, () -> ManifestReader.read(dir));
        assertEquals(List.of(
                dir.resolve("b.yaml") + ":6:3: data.k: Invalid value: 1: must be of type string, got integer",
                dir.resolve("c.yml") + ":6:3: data.k: Invalid value: \"%%%\": illegal base64 data"),
                e.problems().stream().map(ManifestProblem::toString).toList());
    }

    @Test
    void readsJsonAndUnwrapsLists() {
        String json = """
                {"apiVersion": "v1", "kind": "List", "items": [
                  {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "v"}},
                  {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "b"}}
                ]}
                """;
        List<KubeObject> objects = ManifestReader.read(ManifestReader.STDIN,
                new ByteArrayInputStream(json.getBytes(StandardCharsets.UTF_8)));
        assertEquals(List.of("a", "b"), objects.stream().map(KubeObject::name).toList());
    }

    @Test
    void listItemErrorsPointIntoTheItem() {
        String json = """
                {"apiVersion": "v1", "kind": "List", "items": [
                  {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "dataz": {}}
                ]}
                """;
        ManifestException e = assertThrows(ManifestException.class, () -> ManifestReader.read("l.json", json));
        assertEquals("l.json:2:72: unknown field \"dataz\"", e.getMessage());
    }

    @Test
    void requiredFieldsAndDuplicateKeys() {
        ManifestException e = assertThrows(ManifestException.class, () -> ManifestReader.read("d.yaml", """
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  labels: {app: x}
                spec:
                  selector:
                    matchLabels: {app: x}
                  template:
                    metadata:
                      labels: {app: y}
                    spec:
                      containers:
                      - name: x
                        ports:
                        - name: http
                        env:
                        - value: v
                        - name: A
                          name: B
                """));
        assertEquals(List.of(
                "d.yaml:19:11: error converting YAML to JSON: yaml: duplicate field \"spec.template.spec.containers[0].env[1].name\"",
                "d.yaml:15:11: spec.template.spec.containers[0].ports[0].containerPort: Required value",
                "d.yaml:17:11: spec.template.spec.containers[0].env[0].name: Required value",
                "d.yaml:13:9: spec.template.spec.containers[0].image: Required value",
                "d.yaml:3:1: metadata.name: Required value: name or generateName is required",
                "d.yaml:10:7: spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"y\"}: `selector` does not match template `labels`"),
                e.problems().stream().map(ManifestProblem::toString).toList());
    }

    @Test
    void emptyDocumentsAndCommentsAreSkipped() {
        List<KubeObject> objects = ManifestReader.read("c.yaml", """
                # leading comment
                ---
                ---
                apiVersion: v1
                kind: Namespace
                metadata:
                  name: demo
                  creationTimestamp: null
                ---
                # trailing document with only a comment
                """);
        assertEquals(List.of("demo"), objects.stream().map(KubeObject::name).toList());
        assertEquals(List.of(), ManifestReader.read("empty.yaml", ""));
    }

    @Test
    void namespacesAsKubectlApplyDashN() {
        List<KubeObject> sleep = ManifestReader.inNamespace(ManifestReader.read(seed("sleep.yaml")), "default", true);
        assertEquals(List.of("default", "default", "default"), sleep.stream().map(KubeObject::namespace).toList());
        List<KubeObject> filter = ManifestReader.read(seed("enable-xff-for-sidecar-inbound.yaml"));
        assertEquals("istio-system", ManifestReader.inNamespace(filter, "default", false).getFirst().namespace());
        ManifestException e = assertThrows(ManifestException.class, () -> ManifestReader.inNamespace(filter, "default", true));
        assertTrue(e.getMessage().contains("the namespace from the provided object \"istio-system\" does not match the namespace "
                + "\"default\". You must pass '--namespace=istio-system' to perform this operation."), e.getMessage());
        KubeObject ns = KubeObject.of("v1", "Namespace", "", "demo");
        assertEquals("", ManifestReader.inNamespace(List.of(ns), "default", true).getFirst().namespace());
    }
}
