package io.sourcemesh.cluster.kubeapi;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The real kubectl against the API server over a store with no kubelet: discovery, CRUD, errors, apply, watch. */
class KubectlCrudTest {
    @RegisterExtension
    final ApiServerExtension api = new ApiServerExtension();
    Kubectl kubectl;

    @BeforeEach
    void up() {
        assumeTrue(Kubectl.installed(), "no kubectl on PATH: the tests that drive the real kubectl are skipped");
        kubectl = api.start().kubectl();
    }

    @Test
    void versionAndNamespaces() throws Exception {
        Kubectl.Result v = kubectl.run("version", "-o", "json");
        assertEquals(0, v.exit(), v.toString());
        assertTrue(v.out().contains("v1.32.0-sourcemesh"), v.toString());
        Kubectl.Result ns = kubectl.run("get", "namespaces");
        assertEquals(0, ns.exit(), ns.toString());
        assertTrue(ns.out().startsWith("NAME"), ns.toString());
        assertTrue(ns.out().contains("istio-system   Active"), ns.toString());
        // The kubeconfig's second context logs in with the bearer token instead of the certificate.
        Kubectl.Result byToken = kubectl.run("--context", "sourcemesh-token", "get", "namespace", "default", "-o", "name");
        assertEquals("namespace/default\n", byToken.out(), byToken.toString());
        Kubectl.Result all = kubectl.run("get", "configmaps", "-A");
        assertEquals(0, all.exit(), all.toString());
        // kubectl offers h2 by ALPN: every connection it opened (one per process) chose HTTP/2
        assertTrue(api.server().connectionsAccepted() >= 4, "connections: " + api.server().connectionsAccepted());
        assertEquals(api.server().connectionsAccepted(), api.server().http2Connections(), "kubectl's connections over HTTP/2");
    }

    @Test
    void applyGetPatchDelete() throws Exception {
        Path cm = api.home().resolve("cm.yaml");
        Files.writeString(cm, """
                apiVersion: v1
                kind: ConfigMap
                metadata:
                  name: demo
                  labels: {app: demo}
                data:
                  a: "1"
                """);
        Kubectl.Result r = kubectl.run("apply", "-f", cm.toString());
        assertEquals(0, r.exit(), r.toString());
        assertEquals("configmap/demo created\n", r.out(), r.toString());
        r = kubectl.run("apply", "-f", cm.toString());
        assertEquals("configmap/demo unchanged\n", r.out(), r.toString());
        Files.writeString(cm, Files.readString(cm).replace("a: \"1\"", "a: \"2\""));
        r = kubectl.run("apply", "-f", cm.toString());
        assertEquals("configmap/demo configured\n", r.out(), r.toString());
        r = kubectl.run("get", "configmap", "demo", "-o", "jsonpath={.data.a}");
        assertEquals("2", r.out(), r.toString());
        r = kubectl.run("get", "cm", "-l", "app=demo", "-o", "name");
        assertEquals("configmap/demo\n", r.out(), r.toString());
        r = kubectl.run("patch", "configmap", "demo", "-p", "{\"data\":{\"b\":\"3\"}}");
        assertEquals(0, r.exit(), r.toString());
        assertEquals("configmap/demo patched\n", r.out(), r.toString());
        r = kubectl.run("patch", "configmap", "demo", "--type", "json", "-p", "[{\"op\":\"remove\",\"path\":\"/data/a\"}]");
        assertEquals(0, r.exit(), r.toString());
        r = kubectl.run("patch", "configmap", "demo", "--type", "merge", "-p", "{\"data\":{\"c\":\"4\"}}");
        assertEquals(0, r.exit(), r.toString());
        r = kubectl.run("get", "configmap", "demo", "-o", "jsonpath={.data}");
        assertEquals("{\"b\":\"3\",\"c\":\"4\"}", r.out(), r.toString());
        r = kubectl.run("delete", "configmap", "demo");
        assertEquals(0, r.exit(), r.toString());
        assertEquals("configmap \"demo\" deleted\n", r.out(), r.toString());
        r = kubectl.run("get", "configmap", "demo");
        assertEquals(1, r.exit(), r.toString());
        assertEquals("Error from server (NotFound): configmaps \"demo\" not found\n", r.err(), r.toString());
    }

    private Path write(String name, String yaml) throws Exception {
        Path f = api.home().resolve(name);
        Files.writeString(f, yaml);
        return f;
    }

    @Test
    void errorsCarryKubectlsReasons() throws Exception {
        Path cm = write("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: twice}\ndata: {a: \"1\"}\n");
        assertEquals(0, kubectl.run("create", "-f", cm.toString()).exit());
        Kubectl.Result again = kubectl.run("create", "-f", cm.toString());
        assertEquals(1, again.exit(), again.toString());
        assertTrue(again.err().contains("Error from server (AlreadyExists)") && again.err().contains("configmaps \"twice\" already exists"),
                again.toString());

        Path bad = write("svc.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: bad}\nspec:\n  ports: [{port: 70000}]\n");
        Kubectl.Result invalid = kubectl.run("apply", "-f", bad.toString());
        assertEquals(1, invalid.exit(), invalid.toString());
        assertEquals("The Service \"bad\" is invalid: spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive\n",
                invalid.err(), invalid.toString());
        assertTrue(api.store().get(io.sourcemesh.api.resource.ResourceKind.SERVICE, "default", "bad").isEmpty());

        Kubectl.Result ns = kubectl.run("-n", "nowhere", "create", "-f", cm.toString());
        assertEquals(1, ns.exit());
        assertTrue(ns.err().contains("(NotFound)") && ns.err().contains("namespaces \"nowhere\" not found"), ns.toString());

        // replace with a stale resourceVersion: the optimistic-concurrency conflict.
        String live = kubectl.run("get", "cm", "twice", "-o", "yaml").out();
        assertEquals(0, kubectl.run("patch", "cm", "twice", "-p", "{\"data\":{\"a\":\"2\"}}").exit());
        Kubectl.Result conflict = kubectl.runWithInput(live.replace("a: \"1\"", "a: \"3\""), "replace", "-f", "-");
        assertEquals(1, conflict.exit(), conflict.toString());
        assertTrue(conflict.err().contains("(Conflict)") && conflict.err().contains("the object has been modified"), conflict.toString());

        // Server-side apply of a="1" over the field kubectl patch set to "2": a conflict with that manager.
        Kubectl.Result ssa = kubectl.run("apply", "--server-side", "-f", cm.toString());
        assertEquals(1, ssa.exit(), ssa.toString());
        assertTrue(ssa.err().startsWith("error: Apply failed with 1 conflict: conflict with \"kubectl-patch\" using v1: .data.a\n"),
                ssa.toString());

        Kubectl.Result field = kubectl.run("get", "pods", "--field-selector", "spec.restartPolicy=Always");
        assertEquals(1, field.exit(), field.toString());
        assertTrue(field.err().contains("(BadRequest)") && field.err().contains("field label not supported: spec.restartPolicy"), field.toString());
    }

    @Test
    void istioKindsInEveryServedVersionAndTheSupportTablesWarnings() throws Exception {
        Path gw = write("gw.yaml", """
                apiVersion: networking.istio.io/v1beta1
                kind: Gateway
                metadata: {name: gw}
                spec:
                  selector: {istio: ingressgateway}
                  servers:
                  - port: {number: 80, name: http, protocol: HTTP}
                    hosts: ["*"]
                    bind: 0.0.0.0
                """);
        Kubectl.Result r = kubectl.run("apply", "-f", gw.toString());
        assertEquals(0, r.exit(), r.toString());
        assertEquals("gateway.networking.istio.io/gw created\n", r.out(), r.toString());
        assertTrue(r.err().contains("Warning: ") && r.err().contains("spec.servers[0].bind is not implemented"), r.toString());
        Kubectl.Result vs = kubectl.run("apply", "-f", write("vs.yaml", """
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: vs, labels: {tier: edge}}
                spec:
                  hosts: ["*"]
                  gateways: [gw]
                  http:
                  - route:
                    - destination: {host: httpbin, port: {number: 8000}}
                """).toString());
        assertEquals(0, vs.exit(), vs.toString());
        Kubectl.Result list = kubectl.run("get", "gw,vs");
        assertTrue(list.out().contains("gateway.networking.istio.io/gw"), list.toString());
        assertTrue(list.out().contains("virtualservice.networking.istio.io/vs   [\"gw\"]"), list.toString());
        Kubectl.Result v1alpha3 = kubectl.run("get", "virtualservices.v1alpha3.networking.istio.io", "vs", "-o", "jsonpath={.apiVersion}");
        assertEquals("networking.istio.io/v1alpha3", v1alpha3.out(), v1alpha3.toString());
        Kubectl.Result selected = kubectl.run("get", "vs", "-l", "tier=edge", "-o", "name");
        assertEquals("virtualservice.networking.istio.io/vs\n", selected.out(), selected.toString());
        Kubectl.Result patched = kubectl.run("patch", "vs", "vs", "--type", "merge", "-p", "{\"spec\":{\"hosts\":[\"a.example\"]}}");
        assertEquals(0, patched.exit(), patched.toString());
        Kubectl.Result strategic = kubectl.run("patch", "vs", "vs", "-p", "{\"spec\":{\"hosts\":[\"b.example\"]}}");
        assertEquals(1, strategic.exit(), "a custom resource takes no strategic merge patch: " + strategic);
        assertTrue(strategic.err().contains("application/strategic-merge-patch+json is not supported by networking.istio.io/v1, "
                + "Kind=VirtualService: the body of the request was in an unknown format"), strategic.toString());
        assertEquals("[\"a.example\"]", kubectl.run("get", "vs", "vs", "-o", "jsonpath={.spec.hosts}").out());
    }

    /** A WorkloadEntry by its short name, with Istio's printer columns; its unimplemented fields warned, its errors refused by path. */
    @Test
    void workloadEntriesAsIstiosCrd() throws Exception {
        Kubectl.Result r = kubectl.run("apply", "-f", write("we.yaml", """
                apiVersion: networking.istio.io/v1
                kind: WorkloadEntry
                metadata: {name: vm-1}
                spec: {address: 127.0.0.77, labels: {app: vm}, network: vm-net}
                """).toString());
        assertEquals("workloadentry.networking.istio.io/vm-1 created\n", r.out(), r.toString());
        assertTrue(r.err().contains("Warning: ") && r.err().contains("spec.network is not implemented"), r.toString());
        Kubectl.Result list = kubectl.run("get", "we");
        assertTrue(list.out().startsWith("NAME   AGE") && list.out().contains("ADDRESS"), list.toString());
        assertTrue(list.out().contains("127.0.0.77"), list.toString());
        assertEquals("workloadentry.networking.istio.io/vm-1\n", kubectl.run("get", "workloadentries", "-o", "name").out());
        Kubectl.Result invalid = kubectl.run("apply", "-f", write("bad-we.yaml", """
                apiVersion: networking.istio.io/v1
                kind: WorkloadEntry
                metadata: {name: bad}
                spec: {labels: {app: vm}, hosts: [vm]}
                """).toString());
        assertEquals(1, invalid.exit(), invalid.toString());
        assertTrue(invalid.err().contains("unknown field \"spec.hosts\""), invalid.toString());
    }

    @Test
    void getWatchPrintsChangesAsTheyHappen() throws Exception {
        Path out = api.home().resolve("watch.out");
        Kubectl.Result first = kubectl.run("create", "configmap", "first", "--from-literal=a=1");
        assertEquals(0, first.exit(), first.toString());
        Process w = kubectl.start(out, "get", "configmaps", "-w", "--output-watch-events");
        try {
            io.sourcemesh.cluster.testing.ExternalClient.awaitTrue(() -> read(out).contains("NAME"), "the initial list is printed");
            kubectl.run("create", "configmap", "watched", "--from-literal=a=1");
            io.sourcemesh.cluster.testing.ExternalClient.awaitTrue(() -> read(out).contains("ADDED      watched"), "ADDED watched: " + read(out));
            kubectl.run("delete", "configmap", "watched");
            io.sourcemesh.cluster.testing.ExternalClient.awaitTrue(() -> read(out).contains("DELETED    watched"), "DELETED watched: " + read(out));
        } finally {
            w.destroy();
            w.waitFor();
        }
    }

    private static String read(Path f) {
        try {
            return Files.readString(f);
        } catch (java.io.IOException e) {
            return "";
        }
    }

    @Test
    void waitAndDeleteWaitForTheObject() throws Exception {
        Kubectl.Result created = kubectl.run("create", "configmap", "w", "--from-literal=phase=one");
        assertEquals(0, created.exit(), created.toString());
        Process waiter = kubectl.start(api.home().resolve("wait.out"), "wait", "--for=jsonpath={.data.phase}=two", "configmap/w", "--timeout=60s");
        Thread.sleep(500);
        assertEquals(0, kubectl.run("patch", "cm", "w", "-p", "{\"data\":{\"phase\":\"two\"}}").exit());
        assertTrue(waiter.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
        assertEquals(0, waiter.exitValue(), read(api.home().resolve("wait.out")) + read(api.home().resolve("wait.err")));
        assertEquals("configmap/w condition met\n", read(api.home().resolve("wait.out")));
    }

    /** kubectl's typed-client verbs send protobuf bodies: create namespace, create secret tls, create configmap. */
    @Test
    void createNamespaceLabelAndSecretTls() throws Exception {
        Kubectl.Result ns = kubectl.run("create", "namespace", "demo");
        assertEquals("namespace/demo created\n", ns.out(), ns.toString());
        Kubectl.Result label = kubectl.run("label", "namespace", "demo", "istio-injection=enabled");
        assertEquals("namespace/demo labeled\n", label.out(), label.toString());
        assertEquals("enabled", api.store().get(io.sourcemesh.api.resource.ResourceKind.NAMESPACE, null, "demo").orElseThrow()
                .labels().get("istio-injection"));
        Kubectl.Result tls = kubectl.run("-n", "demo", "create", "secret", "tls", "gw-cert", "--cert", api.home().resolve("pki/apiserver.crt").toString(),
                "--key", api.home().resolve("pki/apiserver.key").toString());
        assertEquals("secret/gw-cert created\n", tls.out(), tls.toString());
        var secret = api.store().get(io.sourcemesh.api.resource.ResourceKind.SECRET, "demo", "gw-cert").orElseThrow();
        assertEquals("kubernetes.io/tls", secret.field("type").asText());
        assertEquals(Files.readString(api.home().resolve("pki/apiserver.crt")),
                new String(java.util.Base64.getDecoder().decode(secret.field("data").path("tls.crt").asText())));
        Kubectl.Result sa = kubectl.run("-n", "demo", "create", "serviceaccount", "robot");
        assertEquals("serviceaccount/robot created\n", sa.out(), sa.toString());
        Kubectl.Result deploy = kubectl.run("-n", "demo", "create", "deployment", "web", "--image=nginx");
        assertEquals("deployment.apps/web created\n", deploy.out(), "a protobuf Deployment (KubectlCreateScaleTest has more): " + deploy);
    }
}
