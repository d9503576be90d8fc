package io.sourcemesh.cluster.controller;

import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.store.ObjectStore;
import io.sourcemesh.cluster.store.StoreException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The controllers against a store that changes under a pass: the demo's reset deletes and re-applies
 * httpbin while the reconcile thread still holds what it listed before the delete.
 */
class WorkloadsTest {

    private static final String HTTPBIN = """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: httpbin
            spec:
              replicas: 1
              selector:
                matchLabels:
                  app: httpbin
              template:
                metadata:
                  labels:
                    app: httpbin
                spec:
                  containers:
                  - name: httpbin
                    image: docker.io/kennethreitz/httpbin
            """;
    private static final String TPROXY = "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":"
            + "{\"sidecar.istio.io/interceptionMode\":\"TPROXY\"}}}}}";
    private static final String REDIRECT = "{\"spec\":{\"template\":{\"metadata\":{\"annotations\":"
            + "{\"sidecar.istio.io/interceptionMode\":null}}}}}";

    private final ObjectStore store = ObjectStore.inMemory();

    @Test
    void aDeploymentReadBeforeItsDeleteLeavesNoReplicaSetThatStallsItsSuccessor() {
        Workloads workloads = new Workloads(store, pod -> pod);
        store.apply(deployment());
        patch(TPROXY);
        patch(REDIRECT); // the template the first demo ends with
        workloads.reconcile();
        KubeObject listedBeforeTheDelete = deployment("httpbin");

        // the reset: httpbin deleted (its ReplicaSets and pods with it) and applied again
        store.delete(ResourceKind.DEPLOYMENT, "default", "httpbin");
        store.apply(deployment());
        // the pass goes on with what it listed (reconcile() swallows what the store refuses: the next pass sees it)
        try {
            workloads.reconcileDeployment(listedBeforeTheDelete);
        } catch (StoreException refused) {
            assertEquals(StoreException.Reason.CONFLICT, refused.reason());
        }
        workloads.reconcile();

        // the demo's patches: back to REDIRECT is the first demo's last template, whose ReplicaSet name a leftover would hold
        patch(TPROXY);
        workloads.reconcile();
        patch(REDIRECT);
        workloads.reconcile();
        KubeObject d = deployment("httpbin");
        assertEquals(d.generation(), d.status().path("observedGeneration").asLong(-1), "never observed: " + d.status());
        assertEquals(List.of(d.uid()), owners(ResourceKind.REPLICA_SET));
    }

    @Test
    void aReplicaSetReadBeforeItsDeleteGetsNoPod() {
        AtomicBoolean deleteDuringAdmission = new AtomicBoolean(true);
        Workloads workloads = new Workloads(store, pod -> {
            if (deleteDuringAdmission.getAndSet(false)) { // the API server's delete lands while the pass admits a pod
                store.delete(ResourceKind.DEPLOYMENT, "default", "httpbin");
            }
            return pod;
        });
        store.apply(deployment());
        workloads.reconcile();
        assertTrue(store.list(ResourceKind.POD, null).isEmpty(), () -> "orphans: " + owners(ResourceKind.POD));
        assertTrue(store.list(ResourceKind.REPLICA_SET, null).isEmpty());
    }

    @Test
    void aRefusalThatRepeatsEveryPassIsLoggedOnce() {
        Workloads workloads = new Workloads(store, pod -> pod);
        store.apply(deployment());
        workloads.reconcile();
        KubeObject rs = store.list(ResourceKind.REPLICA_SET, null).getFirst();
        KubeObject d = deployment("httpbin");
        store.delete(ResourceKind.DEPLOYMENT, "default", "httpbin");
        // a ReplicaSet of no one's holds the name the Deployment's template hashes to
        var taken = rs.node();
        taken.withObjectProperty("metadata").remove(List.of("ownerReferences", "uid", "resourceVersion", "creationTimestamp"));
        store.create(KubeObject.of(taken));
        store.create(d.withUid("").withResourceVersion("").withStatus(com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.objectNode()));

        List<LogRecord> records = new ArrayList<>();
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord r) {
                records.add(r);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger log = Logger.getLogger(Workloads.class.getName());
        log.addHandler(handler);
        try {
            workloads.reconcile();
            workloads.reconcile();
        } finally {
            log.removeHandler(handler);
        }
        List<String> warnings = records.stream().filter(r -> r.getLevel() == Level.WARNING).map(LogRecord::getMessage).toList();
        assertEquals(1, warnings.size(), warnings::toString);
        assertTrue(warnings.getFirst().startsWith("Deployment default/httpbin "), warnings.getFirst());
        assertTrue(warnings.getFirst().endsWith("cannot be reconciled: replicasets.apps \"" + rs.name() + "\" already exists"),
                warnings.getFirst());
    }

    private static List<KubeObject> deployment() {
        return ManifestReader.read("httpbin.yaml", HTTPBIN);
    }

    private KubeObject deployment(String name) {
        return store.get(ResourceKind.DEPLOYMENT, "default", name).orElseThrow();
    }

    private void patch(String patch) {
        store.patch(ResourceKind.DEPLOYMENT, "default", "httpbin", PatchType.STRATEGIC, patch);
    }

    private List<String> owners(ResourceKind kind) {
        return store.list(kind, null).stream()
                .map(o -> o.node().path("metadata").path("ownerReferences").path(0).path("uid").asText()).distinct().toList();
    }
}
