package io.sourcemesh.cluster.kubeapi;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** OpenAPI v3 with our kinds' schemas: read with real curl, and by the real kubectl's explain and strict validation. */
class KubeApiOpenApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @RegisterExtension
    final ApiServerExtension api = new ApiServerExtension();

    @BeforeEach
    void up() {
        api.start();
    }

    private JsonNode curl(String path) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--fail", "--max-time", "20"));
        cmd.addAll(api.curlAsAdmin());
        cmd.add(api.url(path));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()); // read first: a document is larger than a pipe holds
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return JSON.readTree(out);
    }

    private JsonNode document(String groupVersion) throws Exception {
        String url = curl("/openapi/v3").path("paths").path(groupVersion).path("serverRelativeURL").asText();
        assertTrue(url.contains("?hash="), url);
        return curl(url);
    }

    @Test
    void builtInSchemasCarryKubesListKeys() throws Exception {
        JsonNode deployment = document("apis/apps/v1").path("components").path("schemas").path("io.k8s.api.apps.v1.Deployment");
        assertEquals("[{\"group\":\"apps\",\"version\":\"v1\",\"kind\":\"Deployment\"}]",
                deployment.path("x-kubernetes-group-version-kind").toString());
        JsonNode spec = deployment.path("properties").path("spec");
        assertEquals("integer", spec.path("properties").path("replicas").path("type").asText());
        assertEquals("[\"selector\",\"template\"]", spec.path("required").toString());
        JsonNode containers = spec.at("/properties/template/properties/spec/properties/containers");
        assertEquals("name", containers.path("x-kubernetes-patch-merge-key").asText());
        assertEquals("merge", containers.path("x-kubernetes-patch-strategy").asText());
        assertEquals("map", containers.path("x-kubernetes-list-type").asText());
        assertEquals("[\"name\"]", containers.path("x-kubernetes-list-map-keys").toString());
        JsonNode ports = containers.at("/items/properties/ports");
        assertEquals("containerPort", ports.path("x-kubernetes-patch-merge-key").asText());
        assertEquals("[\"containerPort\",\"protocol\"]", ports.path("x-kubernetes-list-map-keys").toString());
        assertEquals("mountPath", containers.at("/items/properties/volumeMounts/x-kubernetes-patch-merge-key").asText());
        assertEquals("name", containers.at("/items/properties/env/x-kubernetes-patch-merge-key").asText());
        assertEquals("[\"Always\",\"Never\",\"IfNotPresent\"]", containers.at("/items/properties/imagePullPolicy/enum").toString());
        assertEquals("[\"HTTP\",\"HTTPS\"]", containers.at("/items/properties/readinessProbe/properties/httpGet/properties/scheme/enum")
                .toString(), "probes are typed now that the kubelet runs them");
        JsonNode finalizers = deployment.at("/properties/metadata/properties/finalizers");
        assertEquals("set", finalizers.path("x-kubernetes-list-type").asText());

        JsonNode service = document("api/v1").path("components").path("schemas").path("io.k8s.api.core.v1.Service");
        JsonNode servicePorts = service.at("/properties/spec/properties/ports");
        assertEquals("port", servicePorts.path("x-kubernetes-patch-merge-key").asText());
        assertEquals("[\"port\",\"protocol\"]", servicePorts.path("x-kubernetes-list-map-keys").toString());
        assertTrue(service.at("/properties/spec/properties/loadBalancerSourceRanges/description").asText()
                .startsWith("Supported by SourceMesh"), service.toString());
        assertTrue(service.at("/properties/spec/properties/loadBalancerIP/description").asText()
                .startsWith("Not implemented by SourceMesh"), service.toString());
        assertTrue(servicePorts.at("/items/properties/targetPort/x-kubernetes-int-or-string").asBoolean());
    }

    @Test
    void istioSchemasComeFromTheSupportTable() throws Exception {
        JsonNode doc = document("apis/networking.istio.io/v1");
        JsonNode vs = doc.path("components").path("schemas").path("io.istio.networking.v1.VirtualService");
        assertEquals("VirtualService", vs.path("x-kubernetes-group-version-kind").get(0).path("kind").asText());
        JsonNode http = vs.at("/properties/spec/properties/http");
        assertEquals("array", http.path("type").asText());
        assertFalse(http.has("x-kubernetes-patch-merge-key"), "a custom resource takes no strategic merge");
        assertTrue(http.at("/items/properties/fault/properties/delay/properties/exponentialDelay/description").asText()
                .startsWith("Not implemented by SourceMesh"), http.toString());
        assertTrue(http.at("/items/properties/retries/properties/retryRemoteLocalities/description").asText()
                .startsWith("Supported by SourceMesh"), http.toString());
        assertTrue(http.at("/items/properties/delegate/description").asText().startsWith("Supported by SourceMesh"), http.toString());
        assertTrue(http.at("/items/properties/route/items/properties/weight/description").asText().startsWith("Supported by SourceMesh"),
                http.toString());
        assertEquals(100, http.at("/items/properties/route/items/properties/weight/maximum").asInt());
        // each version's document has its own kinds, EnvoyFilter only in v1alpha3
        assertTrue(doc.path("components").path("schemas").path("io.istio.networking.v1.EnvoyFilter").isMissingNode());
        assertFalse(document("apis/networking.istio.io/v1alpha3").path("components").path("schemas")
                .path("io.istio.networking.v1alpha3.EnvoyFilter").isMissingNode());
        assertEquals("PeerAuthentication", document("apis/security.istio.io/v1beta1").path("components").path("schemas")
                .path("io.istio.security.v1beta1.PeerAuthentication").path("x-kubernetes-group-version-kind").get(0).path("kind").asText());
    }

    @Test
    void kubectlExplainsOurKinds() throws Exception {
        assumeTrue(Kubectl.installed(), "no kubectl on PATH: the tests that drive the real kubectl are skipped");
        Kubectl kubectl = api.kubectl();
        Kubectl.Result replicas = kubectl.run("explain", "deployment.spec.replicas");
        assertEquals(0, replicas.exit(), replicas.toString());
        assertTrue(replicas.out().contains("KIND:       Deployment"), replicas.out());
        assertTrue(replicas.out().contains("FIELD: replicas <integer>"), replicas.out());
        assertTrue(replicas.out().contains("Supported by SourceMesh."), replicas.out());

        Kubectl.Result http = kubectl.run("explain", "virtualservice.spec.http");
        assertEquals(0, http.exit(), http.toString());
        assertTrue(http.out().contains("GROUP:      networking.istio.io"), http.out());
        assertTrue(http.out().contains("FIELD: http <[]Object>"), http.out());
        assertTrue(http.out().matches("(?s).*\\n  delegate\\t<Object>\\n\\s+Supported by SourceMesh.*"), http.out());
        assertTrue(http.out().matches("(?s).*\\n  route\\t<\\[\\]Object>\\n.*"), http.out());
        Kubectl.Result delay = kubectl.run("explain", "virtualservice.spec.http.fault.delay");
        assertEquals(0, delay.exit(), delay.toString());
        assertTrue(delay.out().matches("(?s).*\\n  exponentialDelay\\t<string>\\n\\s+Not implemented by SourceMesh.*"),
                delay.out());

        Kubectl.Result recursive = kubectl.run("explain", "svc.spec.ports", "--recursive");
        assertEquals(0, recursive.exit(), recursive.toString());
        assertTrue(recursive.out().contains("port\t<integer> -required-"), recursive.out());

        Kubectl.Result missing = kubectl.run("explain", "deployment.spec.colour");
        assertNotEquals(0, missing.exit(), missing.toString());
        assertTrue(missing.err().contains("field \"colour\" does not exist"), missing.toString());
    }

    /** kubectl apply's strict validation names an unknown field; a Deployment with a probe applies twice without a patch warning. */
    @Test
    void kubectlStrictValidationAndApply() throws Exception {
        assumeTrue(Kubectl.installed(), "no kubectl on PATH: the tests that drive the real kubectl are skipped");
        Kubectl kubectl = api.kubectl();
        Path file = api.home().resolve("web.yaml");
        String deployment = """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web}
                spec:
                  replicas: 1
                  selector: {matchLabels: {app: web}}
                  template:
                    metadata: {labels: {app: web}}
                    spec:
                      containers:
                      - name: web
                        image: docker.io/kennethreitz/httpbin
                        ports: [{containerPort: 80}]
                        env: [{name: A, valueFrom: {fieldRef: {fieldPath: metadata.name}}}]
                        readinessProbe: {httpGet: {path: /get, port: 80}}
                """;
        Files.writeString(file, deployment.replace("replicas: 1", "replicas: 1\n  colour: blue"));
        Kubectl.Result strict = kubectl.run("apply", "--validate=strict", "-f", file.toString());
        assertNotEquals(0, strict.exit(), strict.toString());
        assertTrue(strict.err().contains("unknown field \"spec.colour\""), strict.toString());

        Files.writeString(file, deployment);
        Kubectl.Result first = kubectl.run("apply", "-f", file.toString());
        assertEquals("deployment.apps/web created\n", first.out(), first.toString());
        Files.writeString(file, deployment.replace("path: /get", "path: /status/200"));
        Kubectl.Result again = kubectl.run("apply", "-f", file.toString());
        assertEquals("deployment.apps/web configured\n", again.out(), again.toString());
        assertFalse(again.err().contains("error calculating patch"), again.toString());
        assertTrue(again.err().contains("env is not implemented by SourceMesh"), "the server's own warnings only: " + again);
        assertEquals("/status/200", kubectl.run("get", "deploy", "web", "-o",
                "jsonpath={.spec.template.spec.containers[0].readinessProbe.httpGet.path}").out());
    }
}
