package io.sourcemesh.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.api.resource.ResourceKind;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ApplyCommandTest {
    @TempDir
    Path home;

    @TempDir
    Path files;

    FakeCluster cluster;

    @BeforeEach
    void start() throws IOException {
        cluster = FakeCluster.start(home);
    }

    @AfterEach
    void stop() {
        cluster.close();
    }

    @Test
    void appliesTheSeedManifestsAsTheDocumentDoes() {
        FakeCluster.Run sleep = cluster.run("-n", "default", "apply", "-f", FakeCluster.seed("sleep.yaml"));
        // the API server's warnings: what the document sets that SourceMesh does not implement
        assertEquals(new FakeCluster.Run(0, """
                serviceaccount/sleep created
                service/sleep created
                deployment.apps/sleep created
                """, """
                Warning: Deployment/sleep: spec.template.spec.terminationGracePeriodSeconds is not implemented by SourceMesh and has no effect
                Warning: Deployment/sleep: spec.template.spec.serviceAccountName is not implemented by SourceMesh and has no effect
                Warning: Deployment/sleep: spec.template.spec.containers[0].volumeMounts is not implemented by SourceMesh and has no effect
                Warning: Deployment/sleep: spec.template.spec.volumes is not implemented by SourceMesh and has no effect
                """), sleep);
        FakeCluster.Run httpbin = cluster.run("-n", "default", "apply", "-f", FakeCluster.seed("httpbin.yaml"));
        assertEquals("service/httpbin created\ndeployment.apps/httpbin created\n", httpbin.out());
        FakeCluster.Run demo = cluster.run("-n", "default", "apply", "-f", FakeCluster.seed("http-demo.yaml"));
        assertEquals("gateway.networking.istio.io/httpbin-gw-httpprotocol created\nvirtualservice.networking.istio.io/httpbin created\n",
                demo.out());
        FakeCluster.Run xff = cluster.run("apply", "-f", FakeCluster.seed("enable-xff-for-sidecar-inbound.yaml"));
        assertEquals("envoyfilter.networking.istio.io/enable-xff-for-sidecar-inbound created\n", xff.out());
        assertTrue(cluster.store.get(ResourceKind.ENVOY_FILTER, "istio-system", "enable-xff-for-sidecar-inbound").isPresent());
    }

    @Test
    void reappliesAsUnchangedThenConfigured() throws IOException {
        cluster.applySeed("httpbin.yaml");
        assertEquals("service/httpbin unchanged\ndeployment.apps/httpbin unchanged\n",
                cluster.run("-n", "default", "apply", "-f", FakeCluster.seed("httpbin.yaml")).out());
        Path changed = files.resolve("httpbin.yaml");
        Files.writeString(changed, Files.readString(Path.of(FakeCluster.seed("httpbin.yaml"))).replace("replicas: 1", "replicas: 2"));
        assertEquals("service/httpbin unchanged\ndeployment.apps/httpbin configured\n",
                cluster.run("apply", "-f", changed.toString()).out());
    }

    @Test
    void readsStdinAndDirectories() throws IOException {
        Files.copy(Path.of(FakeCluster.seed("sleep.yaml")), files.resolve("sleep.yaml"));
        Files.copy(Path.of(FakeCluster.seed("httpbin.yaml")), files.resolve("httpbin.yaml"));
        assertEquals("service/httpbin created\ndeployment.apps/httpbin created\nserviceaccount/sleep created\n"
                + "service/sleep created\ndeployment.apps/sleep created\n", cluster.run("apply", "-f", files.toString()).out());
        String gateway = Files.readString(Path.of(FakeCluster.seed("https-demo.yaml")));
        FakeCluster.Run r = cluster.runWithStdin(gateway, "apply", "-f", "-");
        assertEquals("gateway.networking.istio.io/httpbin-gw-https created\nvirtualservice.networking.istio.io/httpbin-https created\n", r.out());
    }

    @Test
    void aBadManifestIsAnErrorWithItsPlaceAndNothingIsApplied() throws IOException {
        Path bad = files.resolve("sleep.yaml");
        Files.writeString(bad, """
                apiVersion: v1
                kind: Service
                metadata:
                  name: sleep
                spec:
                  ports:
                  - port: 80
                    name: http
                ---
                apiVersion: apps/v1
                kind: Deployment
                metadata:
                  name: sleep
                spec:
                  replicas: one
                """);
        FakeCluster.Run r = cluster.run("apply", "-f", bad.toString());
        assertEquals(1, r.code());
        assertEquals("", r.out());
        assertTrue(r.err().startsWith("error: error parsing " + bad + ":15:3: "), r.err());
        assertTrue(cluster.store.list(ResourceKind.SERVICE, "default").isEmpty());
    }

    @Test
    void yamlSyntaxErrorsNameTheLine() throws IOException {
        Path bad = files.resolve("broken.yaml");
        Files.writeString(bad, "apiVersion: v1\nkind: Service\nmetadata:\n  name: [sleep\n");
        FakeCluster.Run r = cluster.run("apply", "-f", bad.toString());
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("error: error parsing " + bad + ":"), r.err());
        assertTrue(r.err().contains("error converting YAML to JSON: yaml: "), r.err());
    }

    @Test
    void aMissingFileIsAnError() {
        FakeCluster.Run r = cluster.run("apply", "-f", files.resolve("nope.yaml").toString());
        assertEquals(new FakeCluster.Run(1, "", "error: the path \"" + files.resolve("nope.yaml") + "\" does not exist or cannot be read\n"), r);
    }

    @Test
    void anExplicitNamespaceMustMatchTheManifests() {
        FakeCluster.Run r = cluster.run("-n", "default", "apply", "-f", FakeCluster.seed("enable-xff-for-sidecar-inbound.yaml"));
        assertEquals(1, r.code());
        assertEquals("error: the namespace from the provided object \"istio-system\" does not match the namespace \"default\". "
                + "You must pass '--namespace=istio-system' to perform this operation.\n", r.err());
    }

    @Test
    void anUnimplementedFieldIsAServerWarningAndARefusedOneIsRefusedAtItsLine() throws IOException {
        Path vs = files.resolve("ratings.yaml");
        Files.writeString(vs, """
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata:
                  name: ratings
                spec:
                  hosts:
                  - ratings
                  http:
                  - match:
                    - statPrefix: ratings
                    route:
                    - destination:
                        host: ratings
                        subset: v1
                """);
        assertEquals(new FakeCluster.Run(0, "virtualservice.networking.istio.io/ratings created\n",
                "Warning: VirtualService/ratings: spec.http[0].match[0].statPrefix is not implemented by SourceMesh and has no effect\n"),
                cluster.run("-n", "default", "apply", "-f", vs.toString()));
        assertEquals("spec.http[0].match[0].statPrefix is not implemented by SourceMesh and has no effect", cluster.store
                .get(ResourceKind.VIRTUAL_SERVICE, "default", "ratings").orElseThrow().status().path("validationMessages").path(0)
                .path("description").asText());

        Path gw = files.resolve("gateway.yaml");
        Files.writeString(gw, """
                apiVersion: networking.istio.io/v1
                kind: Gateway
                metadata:
                  name: gw
                spec:
                  selector: {istio: ingressgateway}
                  servers:
                  - port: {number: 80, name: http, protocol: HTTP, targetPort: 8080}
                    hosts: ["*"]
                """);
        FakeCluster.Run refused = cluster.run("apply", "-f", gw.toString());
        assertEquals(1, refused.code());
        // refused before it leaves the CLI, at its line, as every invalid field is
        assertTrue(refused.err().startsWith("error: error parsing " + gw + ":8:52: spec.servers[0].port.targetPort: Forbidden: "
                + "targetPort has no impact on Gateways"), refused.err());
        assertTrue(cluster.store.list(ResourceKind.GATEWAY, null).isEmpty());
    }

    @Test
    void warningsGoToStderr() {
        cluster.warnings.add("EnvoyFilter istio-system/enable-xff-for-sidecar-inbound: no proxy matched");
        FakeCluster.Run r = cluster.run("apply", "-f", FakeCluster.seed("enable-xff-for-sidecar-inbound.yaml"));
        assertEquals(0, r.code());
        assertEquals("Warning: EnvoyFilter istio-system/enable-xff-for-sidecar-inbound: no proxy matched\n", r.err());
    }

    @Test
    void withoutADaemonItSaysHowToStartOne(@TempDir Path empty) {
        StringWriter err = new StringWriter();
        int code = Main.execute(Clock.systemUTC(), InputStream.nullInputStream(), new PrintWriter(new StringWriter()),
                new PrintWriter(err), "apply", "--home", empty.toString(), "-f", FakeCluster.seed("sleep.yaml"));
        assertEquals(1, code);
        assertEquals("error: no SourceMesh cluster is running in " + empty + ": start one with `sourcemesh up`\n", err.toString());
    }
}
