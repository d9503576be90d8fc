package io.sourcemesh.cluster.kubeapi;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sourcemesh.api.resource.ResourceKind;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The real kubectl's server-side apply, dry runs, diff, field validation and the status subresource
 * against the API server over a store with no kubelet.
 */
class KubectlServerSideApplyTest {
    @RegisterExtension
    final ApiServerExtension api = new ApiServerExtension();
    Kubectl kubectl;

    @BeforeEach
    void up() {
        assumeTrue(Kubectl.installed(), "no kubectl on PATH: the tests that drive the real kubectl are skipped");
        kubectl = api.start().kubectl();
    }

    private Path write(String name, String yaml) throws Exception {
        Path f = api.home().resolve(name);
        Files.writeString(f, yaml);
        return f;
    }

    private Kubectl.Result ok(String... args) throws Exception {
        Kubectl.Result r = kubectl.run(args);
        assertEquals(0, r.exit(), String.join(" ", args) + "\n" + r);
        return r;
    }

    private static String configMap(String data) {
        return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\n  labels: {app: demo}\ndata:\n" + data;
    }

    @Test
    void applyTwiceRecordsManagedFieldsAndChangesNothingTheSecondTime() throws Exception {
        Path cm = write("cm.yaml", configMap("  a: \"1\"\n"));
        Kubectl.Result first = ok("apply", "--server-side", "-f", cm.toString());
        assertEquals("configmap/demo serverside-applied\n", first.out(), first.toString());
        String rv = ok("get", "cm", "demo", "-o", "jsonpath={.metadata.resourceVersion}").out();
        long storeVersion = api.store().resourceVersion();
        ok("apply", "--server-side", "-f", cm.toString());
        assertEquals(rv, ok("get", "cm", "demo", "-o", "jsonpath={.metadata.resourceVersion}").out(), "a no-op apply writes nothing");
        assertEquals(storeVersion, api.store().resourceVersion());

        String yaml = ok("get", "cm", "demo", "-o", "yaml", "--show-managed-fields").out();
        assertTrue(yaml.contains(String.join("\n",
                "  managedFields:",
                "  - apiVersion: v1",
                "    fieldsType: FieldsV1",
                "    fieldsV1:",
                "      f:data:",
                "        f:a: {}",
                "      f:metadata:",
                "        f:labels:",
                "          f:app: {}",
                "    manager: kubectl",
                "    operation: Apply",
                "    time: \"")), yaml);
        assertFalse(ok("get", "cm", "demo", "-o", "yaml").out().contains("managedFields"), "kubectl hides them by default");
    }

    @Test
    void conflictsBetweenManagersAndForce() throws Exception {
        Path alice = write("alice.yaml", configMap("  a: \"1\"\n  b: \"1\"\n"));
        ok("apply", "--server-side", "--field-manager=alice", "-f", alice.toString());
        Path bob = write("bob.yaml", configMap("  a: \"2\"\n  b: \"1\"\n  c: \"3\"\n"));
        Kubectl.Result conflict = kubectl.run("apply", "--server-side", "--field-manager=bob", "-f", bob.toString());
        assertEquals(1, conflict.exit(), conflict.toString());
        assertTrue(conflict.err().startsWith("error: Apply failed with 1 conflict: conflict with \"alice\": .data.a\n"
                + "Please review the fields above--they currently have other managers."), conflict.toString());
        assertEquals("1", ok("get", "cm", "demo", "-o", "jsonpath={.data.a}").out(), "a conflict changes nothing");

        ok("apply", "--server-side", "--field-manager=bob", "--force-conflicts", "-f", bob.toString());
        assertEquals("{\"a\":\"2\",\"b\":\"1\",\"c\":\"3\"}", ok("get", "cm", "demo", "-o", "jsonpath={.data}").out());
        // alice lost .data.a to bob; both own b (same value); bob alone owns c.
        assertEquals("alice:{\"f:data\":{\"f:b\":{}},\"f:metadata\":{\"f:labels\":{\"f:app\":{}}}} "
                        + "bob:{\"f:data\":{\"f:a\":{},\"f:b\":{},\"f:c\":{}},\"f:metadata\":{\"f:labels\":{\"f:app\":{}}}} ",
                ok("get", "cm", "demo", "-o", "jsonpath={range .metadata.managedFields[*]}{.manager}:{.fieldsV1} {end}").out());

        // bob stops applying b and c: c goes (only bob owned it), b stays (alice still applies it).
        Path bob2 = write("bob2.yaml", configMap("  a: \"2\"\n"));
        ok("apply", "--server-side", "--field-manager=bob", "-f", bob2.toString());
        assertEquals("{\"a\":\"2\",\"b\":\"1\"}", ok("get", "cm", "demo", "-o", "jsonpath={.data}").out());
    }

    @Test
    void containersMergeByNameAndAnUpdateTakesOwnership() throws Exception {
        Path app = write("app.yaml", """
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
                      - name: app
                        image: app:v1
                        ports: [{containerPort: 8080}]
                """);
        ok("apply", "--server-side", "--field-manager=team-app", "-f", app.toString());
        Path side = write("side.yaml", """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web}
                spec:
                  template:
                    spec:
                      containers:
                      - name: side
                        image: side:v1
                """);
        ok("apply", "--server-side", "--field-manager=team-side", "-f", side.toString());
        assertEquals("app=app:v1 side=side:v1 ", ok("get", "deploy", "web", "-o",
                "jsonpath={range .spec.template.spec.containers[*]}{.name}={.image} {end}").out());
        String fields = ok("get", "deploy", "web", "-o", "jsonpath={.metadata.managedFields[?(@.manager==\"team-app\")].fieldsV1}").out();
        assertTrue(fields.contains("\"k:{\\\"name\\\":\\\"app\\\"}\":{\".\":{},\"f:image\":{},\"f:name\":{},\"f:ports\":{\"k:{\\\"containerPort\\\":8080,"
                + "\\\"protocol\\\":\\\"TCP\\\"}\":{\".\":{},\"f:containerPort\":{}}}}"), fields);

        // kubectl patch (an Update by another manager) takes .spec.replicas from team-app: its next apply conflicts.
        ok("patch", "deploy", "web", "-p", "{\"spec\":{\"replicas\":3}}");
        Kubectl.Result again = kubectl.run("apply", "--server-side", "--field-manager=team-app", "-f", app.toString());
        assertEquals(1, again.exit(), again.toString());
        assertTrue(again.err().startsWith("error: Apply failed with 1 conflict: conflict with \"kubectl-patch\" using apps/v1: .spec.replicas\n"),
                again.toString());
        assertEquals("kubectl-patch:{\"f:spec\":{\"f:replicas\":{}}}", ok("get", "deploy", "web", "-o",
                "jsonpath={range .metadata.managedFields[?(@.operation==\"Update\")]}{.manager}:{.fieldsV1}{end}").out());
    }

    @Test
    void serverDryRunChangesNothing() throws Exception {
        Path cm = write("cm.yaml", configMap("  a: \"1\"\n"));
        long before = api.store().resourceVersion();
        Kubectl.Result r = ok("apply", "--server-side", "--dry-run=server", "-f", cm.toString());
        assertEquals("configmap/demo serverside-applied (server dry run)\n", r.out(), r.toString());
        r = ok("create", "--dry-run=server", "-f", cm.toString(), "-o", "jsonpath={.data.a}");
        assertEquals("1", r.out());
        assertTrue(api.store().get(ResourceKind.CONFIG_MAP, "default", "demo").isEmpty());
        assertEquals(before, api.store().resourceVersion(), "no write, so no watch event");

        ok("create", "-f", cm.toString());
        before = api.store().resourceVersion();
        r = ok("patch", "cm", "demo", "--dry-run=server", "-p", "{\"data\":{\"a\":\"9\"}}", "-o", "jsonpath={.data.a}");
        assertEquals("9", r.out());
        r = ok("delete", "cm", "demo", "--dry-run=server");
        assertEquals("configmap \"demo\" deleted (server dry run)\n", r.out());
        ok("apply", "-f", write("cm2.yaml", configMap("  a: \"7\"\n")).toString(), "--dry-run=server");
        assertEquals("1", ok("get", "cm", "demo", "-o", "jsonpath={.data.a}").out());
        assertEquals(before, api.store().resourceVersion());
        Kubectl.Result bad = kubectl.run("apply", "--dry-run=server", "-f",
                write("bad.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: bad}\nspec:\n  ports: [{port: 70000}]\n").toString());
        assertEquals(1, bad.exit(), "a dry run still validates: " + bad);
        assertTrue(bad.err().contains("spec.ports[0].port: Invalid value: 70000"), bad.toString());
    }

    @Test
    void diffShowsTheChangeAndExitsOneOnlyWhenThereIsOne() throws Exception {
        Path cm = write("cm.yaml", configMap("  a: \"1\"\n"));
        ok("apply", "-f", cm.toString());
        Kubectl.Result same = kubectl.run("diff", "-f", cm.toString());
        assertEquals(0, same.exit(), same.toString());
        assertEquals("", same.out(), same.toString());

        Path changed = write("cm2.yaml", configMap("  a: \"2\"\n"));
        long before = api.store().resourceVersion();
        Kubectl.Result diff = kubectl.run("diff", "-f", changed.toString());
        assertEquals(1, diff.exit(), diff.toString());
        assertTrue(diff.out().contains("\n-  a: \"1\"\n+  a: \"2\"\n"), diff.toString());
        assertFalse(diff.out().contains("managedFields"), diff.toString());
        Kubectl.Result ssaDiff = kubectl.run("diff", "--server-side", "-f", changed.toString());
        assertEquals(1, ssaDiff.exit(), ssaDiff.toString());
        assertTrue(ssaDiff.out().contains("\n-  a: \"1\"\n+  a: \"2\"\n"), ssaDiff.toString());
        Kubectl.Result created = kubectl.run("diff", "-f", write("new.yaml", configMap("  a: \"1\"\n").replace("name: demo", "name: fresh")).toString());
        assertEquals(1, created.exit(), created.toString());
        assertTrue(created.out().contains("+  name: fresh"), created.toString());
        assertEquals(before, api.store().resourceVersion(), "diff writes nothing");
    }

    @Test
    void fieldValidationStrictWarnAndIgnore() throws Exception {
        String yaml = configMap("  a: \"1\"\n") + "bogus: 1\n";
        Path cm = write("cm.yaml", yaml);
        Kubectl.Result strict = kubectl.run("create", "-f", cm.toString());
        assertEquals(1, strict.exit(), strict.toString());
        assertTrue(strict.err().contains("Error from server (BadRequest): error when creating \"" + cm + "\": ConfigMap in version \"v1\" "
                + "cannot be handled as a ConfigMap: strict decoding error: unknown field \"bogus\""), strict.toString());
        Path dep = write("dep.yaml", """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web}
                spec:
                  foo: 1
                  selector: {matchLabels: {app: web}}
                  template:
                    metadata: {labels: {app: web}}
                    spec:
                      containers: [{name: app, image: app:v1, colour: blue}]
                """);
        // Server-side apply refuses undeclared fields whatever the validation asked, in structured-merge-diff's words.
        for (String validate : new String[] {"strict", "warn", "false"}) {
            Kubectl.Result ssa = kubectl.run("apply", "--server-side", "--validate=" + validate, "-f", dep.toString());
            assertEquals(1, ssa.exit(), ssa.toString());
            assertTrue(ssa.err().contains("failed to create typed patch object (default/web; apps/v1, Kind=Deployment): errors:\n"
                    + "  .spec.foo: field not declared in schema\n"
                    + "  .spec.template.spec.containers[name=\"app\"].colour: field not declared in schema"), ssa.toString());
        }

        Kubectl.Result warn = ok("create", "--validate=warn", "-f", cm.toString());
        assertTrue(warn.err().contains("Warning: unknown field \"bogus\""), warn.toString());
        assertEquals("", ok("get", "cm", "demo", "-o", "jsonpath={.bogus}").out());
        ok("delete", "cm", "demo");
        Kubectl.Result ignore = ok("create", "--validate=false", "-f", cm.toString());
        assertEquals("", ignore.err(), ignore.toString());
        // kubectl patch sends no fieldValidation: the server's default, Warn.
        Kubectl.Result patch = ok("patch", "cm", "demo", "--type=merge", "-p", "{\"data\":{\"b\":\"2\"},\"extra\":true}");
        assertEquals("Warning: unknown field \"extra\"\n", patch.err(), patch.toString());
        assertEquals("{\"a\":\"1\",\"b\":\"2\"}", ok("get", "cm", "demo", "-o", "jsonpath={.data}").out());
    }

    @Test
    void istioKindsWarnOfUnknownAndUnimplementedFieldsBothAndApplyServerSide() throws Exception {
        Path gw = write("gw.yaml", """
                apiVersion: networking.istio.io/v1
                kind: Gateway
                metadata: {name: gw}
                spec:
                  selector: {istio: ingressgateway}
                  colour: blue
                  servers:
                  - port: {number: 80, name: http, protocol: HTTP}
                    hosts: ["*"]
                    bind: 0.0.0.0
                """);
        Kubectl.Result r = ok("create", "--validate=warn", "-f", gw.toString());
        assertTrue(r.err().contains("Warning: unknown field \"spec.colour\""), r.toString());
        assertTrue(r.err().contains("spec.servers[0].bind is not implemented"), r.toString());
        ok("delete", "gateway", "gw");
        Files.writeString(gw, Files.readString(gw).replace("  colour: blue\n", ""));
        r = ok("apply", "--server-side", "--field-manager=ops", "-f", gw.toString());
        assertEquals("gateway.networking.istio.io/gw serverside-applied\n", r.out(), r.toString());
        assertTrue(r.err().contains("spec.servers[0].bind is not implemented"), r.toString());
        // Lists in Istio kinds are atomic (CRDs' default): another manager's different hosts conflict on the whole list.
        Path other = write("gw2.yaml", """
                apiVersion: networking.istio.io/v1
                kind: Gateway
                metadata: {name: gw}
                spec:
                  servers:
                  - port: {number: 80, name: http, protocol: HTTP}
                    hosts: ["example.com"]
                """);
        Kubectl.Result conflict = kubectl.run("apply", "--server-side", "--field-manager=dev", "-f", other.toString());
        assertEquals(1, conflict.exit(), conflict.toString());
        assertTrue(conflict.err().startsWith("error: Apply failed with 1 conflict: conflict with \"ops\": .spec.servers\n"), conflict.toString());
    }

    @Test
    void statusSubresourceWritesOnlyStatus() throws Exception {
        Path dep = write("dep.yaml", """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web}
                spec:
                  replicas: 2
                  selector: {matchLabels: {app: web}}
                  template:
                    metadata: {labels: {app: web}}
                    spec:
                      containers: [{name: app, image: app:v1}]
                """);
        ok("apply", "-f", dep.toString());
        ok("patch", "deploy", "web", "--subresource=status", "--type=merge", "-p", "{\"status\":{\"replicas\":5},\"spec\":{\"replicas\":9}}");
        assertEquals("2 5", ok("get", "deploy", "web", "-o", "jsonpath={.spec.replicas} {.status.replicas}").out());
        ok("patch", "deploy", "web", "--type=merge", "-p", "{\"status\":{\"replicas\":7},\"spec\":{\"replicas\":3}}");
        assertEquals("3 5", ok("get", "deploy", "web", "-o", "jsonpath={.spec.replicas} {.status.replicas}").out());
        assertEquals("5", ok("get", "deploy", "web", "--subresource=status", "-o", "jsonpath={.status.replicas}").out());
        String live = ok("get", "deploy", "web", "-o", "json").out();
        Kubectl.Result replaced = kubectl.runWithInput(live.replace("\"replicas\": 5", "\"replicas\": 6").replace("\"replicas\": 3", "\"replicas\": 8"),
                "replace", "--subresource=status", "-f", "-");
        assertEquals(0, replaced.exit(), replaced.toString());
        assertEquals("3 6", ok("get", "deploy", "web", "-o", "jsonpath={.spec.replicas} {.status.replicas}").out());
        // replace took status.replicas over from the status patch, whose entry, now empty, went.
        assertEquals("kubectl-replace/status ", ok("get", "deploy", "web", "-o",
                "jsonpath={range .metadata.managedFields[?(@.subresource==\"status\")]}{.manager}/{.subresource} {end}").out());

        // A kind without status has no status subresource.
        ok("create", "configmap", "plain", "--from-literal=a=1");
        Kubectl.Result none = kubectl.run("patch", "cm", "plain", "--subresource=status", "--type=merge", "-p", "{\"data\":{\"a\":\"2\"}}");
        assertEquals(1, none.exit(), none.toString());
        assertEquals("1", ok("get", "cm", "plain", "-o", "jsonpath={.data.a}").out());
        // Server-side apply of the status: it owns status.readyReplicas; spec in the same file is not its to change.
        Path status = write("status.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n"
                + "spec: {replicas: 1}\nstatus: {readyReplicas: 1}\n");
        ok("apply", "--server-side", "--subresource=status", "--field-manager=probe", "-f", status.toString());
        assertEquals("3 6 1", ok("get", "deploy", "web", "-o", "jsonpath={.spec.replicas} {.status.replicas} {.status.readyReplicas}").out());
        assertEquals("{\"f:status\":{\"f:readyReplicas\":{}}}", ok("get", "deploy", "web", "-o",
                "jsonpath={.metadata.managedFields[?(@.manager==\"probe\")].fieldsV1}").out());
    }
}
