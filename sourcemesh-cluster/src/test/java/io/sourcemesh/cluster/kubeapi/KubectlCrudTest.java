package io.sourcemesh.cluster.kubeapi;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sourcemesh.cluster.store.ObjectStore;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real kubectl against the API server over a store with no kubelet: discovery, CRUD, errors, apply, watch. */
class KubectlCrudTest {
    @TempDir
    Path home;
    ObjectStore store;
    KubeApiServer server;
    Kubectl kubectl;

    @BeforeEach
    void up() {
        assumeTrue(Kubectl.installed(), "no kubectl on PATH: the tests that drive the real kubectl are skipped");
        store = ObjectStore.inMemory();
        server = KubeApiServer.startWithKubeconfig(new InetSocketAddress("127.0.0.1", 0), new StoreOnlyCluster(store), store, home);
        kubectl = new Kubectl(home.resolve("kubeconfig"));
    }

    @AfterEach
    void down() {
        if (server != null) {
            server.close();
        }
        if (store != null) {
            store.close();
        }
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
    }

    @Test
    void applyGetPatchDelete() throws Exception {
        Path cm = home.resolve("cm.yaml");
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
}
