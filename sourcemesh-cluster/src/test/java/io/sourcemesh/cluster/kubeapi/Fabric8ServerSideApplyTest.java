package io.sourcemesh.cluster.kubeapi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.store.ObjectStore;
import java.io.FileInputStream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * fabric8's server-side apply against our API server records the same managedFields as kubectl's: an
 * Apply entry per object that owns a field. The seed's ServiceAccount ({@code metadata.name} only) owns
 * none, so it has no entry from either client — as kube-apiserver, whose stripMetaManager drops a
 * manager left with no fields once apiVersion, kind and metadata.name are taken out. (That bare
 * ServiceAccount is where fabric8's "managedFields=[]" came from.)
 */
class Fabric8ServerSideApplyTest {
    static final Path SLEEP = Path.of("src/test/resources/seed/sleep.yaml");

    @TempDir
    Path home;
    ObjectStore store;
    KubeApiServer server;
    KubernetesClient client;

    @BeforeEach
    void up() {
        store = ObjectStore.inMemory();
        server = KubeApiServer.startWithKubeconfig(new InetSocketAddress("127.0.0.1", 0), new StoreOnlyCluster(store), store, home);
        client = KubeClients.of(Kubeconfig.in(home));
    }

    @AfterEach
    void down() {
        client.close();
        server.close();
        store.close();
    }

    @Test
    void theSeedsManagedFieldsAreKubectlsAndTheBareServiceAccountHasNone() throws Exception {
        List<HasMetadata> applied;
        try (var in = new FileInputStream(SLEEP.toFile())) {
            applied = client.resourceList(client.load(in).items()).inNamespace("default").fieldManager("seed").serverSideApply();
        }
        Map<String, List<String>> answered = new LinkedHashMap<>();
        for (HasMetadata o : applied) {
            answered.put(o.getKind() + "/" + o.getMetadata().getName(),
                    o.getMetadata().getManagedFields().stream().map(e -> e.getManager() + " " + e.getOperation()).toList());
        }
        assertEquals(Map.of("ServiceAccount/sleep", List.of(), "Service/sleep", List.of("seed Apply"),
                "Deployment/sleep", List.of("seed Apply")), answered);
        assertEquals(answered, stored("default"), "the answer is what was stored");
        ManagedFieldsEntry deployment = applied.stream().filter(o -> o.getKind().equals("Deployment")).findFirst().orElseThrow()
                .getMetadata().getManagedFields().getFirst();
        assertEquals("{f:spec={f:replicas={}", deployment.getFieldsV1().getAdditionalProperties().toString().substring(0, 22));

        assumeTrue(Kubectl.installed(), "no kubectl on PATH: the comparison with kubectl's apply is skipped");
        client.namespaces().resource(new io.fabric8.kubernetes.api.model.NamespaceBuilder().withNewMetadata().withName("other")
                .endMetadata().build()).create();
        Kubectl.Result r = new Kubectl(Kubeconfig.in(home)).run("-n", "other", "apply", "--server-side", "--field-manager=seed",
                "-f", SLEEP.toAbsolutePath().toString());
        assertEquals(0, r.exit(), r.toString());
        assertEquals(answered, stored("other"), "kubectl's apply --server-side records the same");
    }

    private Map<String, List<String>> stored(String namespace) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (ResourceKind k : List.of(ResourceKind.SERVICE_ACCOUNT, ResourceKind.SERVICE, ResourceKind.DEPLOYMENT)) {
            var o = store.get(k, namespace, "sleep").orElseThrow();
            List<String> managers = new ArrayList<>();
            for (JsonNode e : o.node().path("metadata").path("managedFields")) {
                managers.add(e.path("manager").asText() + " " + e.path("operation").asText());
            }
            out.put(k.kind() + "/sleep", managers);
        }
        return out;
    }
}
