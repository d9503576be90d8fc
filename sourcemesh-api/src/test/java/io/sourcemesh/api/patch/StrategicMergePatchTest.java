package io.sourcemesh.api.patch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import org.junit.jupiter.api.Test;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class StrategicMergePatchTest {

    private static final ObjectMapper YAML = new YAMLMapper();

    private static Path seed(String name) throws URISyntaxException {
        return Path.of(StrategicMergePatchTest.class.getResource("/seed/" + name).toURI());
    }

    private static KubeObject httpbin() throws Exception {
        return ManifestReader.read(seed("httpbin.yaml")).get(1);
    }

    private static JsonNode yaml(String text) throws Exception {
        return YAML.readTree(text);
    }

    @Test
    void seedTproxyPatchAddsTheTemplateAnnotationAndNothingElse() throws Exception {
        KubeObject before = httpbin();
        String patch = Files.readString(seed("patches/tproxy-patch.json"));
        KubeObject after = Patches.apply(before, PatchType.STRATEGIC, patch);
        assertEquals("TPROXY", after.spec().at("/template/metadata/annotations/sidecar.istio.io~1interceptionMode").asText());
        assertEquals(Map.of("app", "httpbin", "version", "v1"),
                YAML.convertValue(after.spec().at("/template/metadata/labels"), Map.class));
        JsonNode expected = before.node();
        ((com.fasterxml.jackson.databind.node.ObjectNode) expected.at("/spec/template/metadata"))
                .putObject("annotations").put("sidecar.istio.io/interceptionMode", "TPROXY");
        assertEquals(expected, after.node());
        // The same patch as a merge patch gives the same object: no lists are involved.
        assertEquals(after, Patches.apply(before, PatchType.MERGE, patch));
    }

    @Test
    void containersMergeByNameAndPortsByContainerPort() throws Exception {
        KubeObject after = Patches.apply(httpbin(), PatchType.STRATEGIC, yaml("""
                spec:
                  template:
                    spec:
                      containers:
                      - name: httpbin
                        ports:
                        - containerPort: 8000
                          name: http
                        - containerPort: 9000
                      - name: istio-proxy
                        image: sourcemesh/proxy
                """));
        JsonNode containers = after.spec().at("/template/spec/containers");
        assertEquals(2, containers.size());
        assertEquals("docker.io/citizenstig/httpbin", containers.get(0).path("image").asText());
        assertEquals(yaml("[{containerPort: 8000, name: http}, {containerPort: 9000}]"), containers.get(0).path("ports"));
        assertEquals("sourcemesh/proxy", containers.get(1).path("image").asText());
    }

    @Test
    void servicePortsMergeByPortAndNullDeletes() throws Exception {
        KubeObject svc = ManifestReader.read(seed("httpbin.yaml")).get(0);
        KubeObject after = Patches.apply(svc, PatchType.STRATEGIC, yaml("""
                metadata:
                  labels: {app: null, tier: web}
                spec:
                  type: NodePort
                  ports:
                  - port: 8000
                    nodePort: 30080
                  - port: 9000
                    name: admin
                """));
        assertEquals(Map.of("tier", "web"), after.labels());
        assertEquals(yaml("[{name: http, port: 8000, nodePort: 30080}, {port: 9000, name: admin}]"), after.spec().path("ports"));
    }

    @Test
    void deleteAndReplaceDirectives() throws Exception {
        KubeObject sleep = ManifestReader.read(seed("sleep.yaml")).get(2);
        KubeObject after = Patches.apply(sleep, PatchType.STRATEGIC, yaml("""
                spec:
                  template:
                    spec:
                      volumes:
                      - name: secret-volume
                        $patch: delete
                      containers:
                      - name: sleep
                        volumeMounts:
                        - mountPath: /etc/sleep/tls
                          $patch: delete
                        command: [/bin/sh]
                """));
        JsonNode pod = after.spec().at("/template/spec");
        assertEquals(0, pod.path("volumes").size());
        assertEquals(0, pod.at("/containers/0/volumeMounts").size());
        assertEquals(yaml("[/bin/sh]"), pod.at("/containers/0/command"));

        KubeObject replaced = Patches.apply(sleep, PatchType.STRATEGIC, yaml("""
                spec:
                  selector:
                    $patch: replace
                    matchLabels: {app: sleep}
                  template:
                    spec:
                      containers:
                      - $patch: replace
                      - name: other
                        image: busybox
                """));
        assertEquals(List.of("other"), replaced.spec().at("/template/spec/containers").findValuesAsText("name"));
    }

    @Test
    void mergeKeysFollowTheApiTypes() {
        assertEquals("name", StrategicMergePatch.mergeKey(ResourceKind.DEPLOYMENT, List.of("spec", "template", "spec", "containers")));
        assertEquals("containerPort", StrategicMergePatch.mergeKey(ResourceKind.POD, List.of("spec", "containers", "ports")));
        assertEquals("port", StrategicMergePatch.mergeKey(ResourceKind.SERVICE, List.of("spec", "ports")));
        assertEquals("mountPath", StrategicMergePatch.mergeKey(ResourceKind.POD, List.of("spec", "initContainers", "volumeMounts")));
        assertEquals("name", StrategicMergePatch.mergeKey(ResourceKind.POD, List.of("spec", "containers", "env")));
        assertEquals(null, StrategicMergePatch.mergeKey(ResourceKind.POD, List.of("spec", "containers", "args")));
        assertEquals(null, StrategicMergePatch.mergeKey(ResourceKind.ENDPOINTS, List.of("subsets", "ports")));
    }

    @Test
    void aPatchThatBreaksTheObjectFailsValidation() throws Exception {
        PatchException e = assertThrows(PatchException.class, () -> Patches.apply(httpbin(), PatchType.STRATEGIC,
                "{\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"httpbin\",\"image\":null}]}}}}"));
        assertEquals("The Deployment \"httpbin\" is invalid: spec.template.spec.containers[0].image: Required value", e.getMessage());
        PatchException unknown = assertThrows(PatchException.class, () -> Patches.apply(httpbin(), PatchType.MERGE,
                "{\"spec\":{\"replicaz\":2}}"));
        assertEquals("The Deployment \"httpbin\" is invalid: unknown field \"spec.replicaz\"", unknown.getMessage());
    }

    @Test
    void customResourcesTakeNoStrategicPatch() throws Exception {
        KubeObject gw = ManifestReader.read(seed("http-demo.yaml")).getFirst();
        assertThrows(PatchException.class, () -> Patches.apply(gw, PatchType.STRATEGIC, "{\"spec\":{}}"));
        KubeObject patched = Patches.apply(gw, PatchType.JSON,
                "[{\"op\":\"replace\",\"path\":\"/spec/servers/0/port/number\",\"value\":8080}]");
        assertEquals(8080, patched.spec().at("/servers/0/port/number").asInt());
    }
}
