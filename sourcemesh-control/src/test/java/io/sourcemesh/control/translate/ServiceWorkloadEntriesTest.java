package io.sourcemesh.control.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.Golden;
import io.sourcemesh.control.ca.MeshCa;
import io.sourcemesh.control.model.MeshModel;
import io.sourcemesh.control.model.WorkloadEntry;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Kubernetes Services selecting WorkloadEntries in the sleep sidecar's clusters (topology/service-workload-entries.yaml),
 * as Istio's Kubernetes registry (kube/controller/controller.go serviceInstancesFromWorkloadInstances,
 * PILOT_ENABLE_K8S_SELECT_WORKLOAD_ENTRIES): the entries of the Service's namespace whose labels hold its selector are
 * endpoints of outbound|port||svc.ns.svc.cluster.local beside its pods, at their own port of the service port's name,
 * else the targetPort; a named targetPort only through the entry's port of that name.
 */
class ServiceWorkloadEntriesTest {
    private static final String VMS = "vms.default.svc.cluster.local";
    private static final String HTTPBIN = "httpbin.default.svc.cluster.local";

    private final MeshModel model = MeshModel.of(Fixtures.seed("topology/service-workload-entries.yaml"));

    private ProxyResources sleepsSidecar() {
        return Translator.create().translate(model, Fixtures.sidecar(model, "sleep"));
    }

    /** Sleep's config with a mesh CA, so auto mTLS chooses per endpoint. */
    private static ProxyResources withMeshCa() {
        List<ObjectNode> objects = Fixtures.seed("topology/service-workload-entries.yaml");
        ObjectNode secret = Fixtures.parseYaml("apiVersion: v1\nkind: Secret\nmetadata: {name: " + MeshCa.SELF_SIGNED_SECRET
                + ", namespace: istio-system}\n");
        ObjectNode data = secret.putObject("data");
        MeshCa.selfSigned("cluster.local").forEach((k, v) ->
                data.put(k, Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.US_ASCII))));
        objects.add(secret);
        MeshModel model = MeshModel.of(objects);
        return Translator.create().translate(model, Fixtures.sidecar(model, "sleep"));
    }

    private static List<String> endpoints(Cluster c) {
        return c.getLoadAssignment().getEndpointsList().stream().flatMap(l -> l.getLbEndpointsList().stream())
                .map(e -> e.getEndpoint().getAddress().getSocketAddress().getAddress() + ":"
                        + e.getEndpoint().getAddress().getSocketAddress().getPortValue() + "*"
                        + e.getLoadBalancingWeight().getValue()
                        + (e.hasMetadata() ? " mtls" : ""))
                .toList();
    }

    @Test
    void aServiceSelectingOnlyWorkloadEntriesHasThemAsEndpoints() {
        ProxyResources r = sleepsSidecar();
        Golden.assertMatches("sidecar-service-workload-entries", r.toJson());
        assertEquals(List.of("127.0.0.71:18080*2", "127.0.0.72:8080*1"),
                endpoints(r.cluster("outbound|80||" + VMS).orElseThrow()),
                "their own port of the service port's name, else the targetPort; their weight");
        assertEquals(List.of("127.0.0.71:15432*2"), endpoints(r.cluster("outbound|5432||" + VMS).orElseThrow()),
                "a named targetPort through the entry's port of that name; vm-b has none, so is no endpoint of it");
        assertTrue(r.warnings().isEmpty(), r.warnings().toString());
    }

    @Test
    void udpAndSctpPortsGetNoListenerOrCluster() {
        ProxyResources r = sleepsSidecar();
        String vip = model.service("default", "vms").orElseThrow().clusterIp();
        assertTrue(r.listener(vip + "_5432").isPresent(), "the TCP port has its listener");
        for (int port : new int[] {53, 2905}) {
            assertFalse(r.listener(vip + "_" + port).isPresent(), "no listener for port " + port);
            assertFalse(r.cluster("outbound|" + port + "||" + VMS).isPresent(), "no cluster for port " + port);
        }
    }

    @Test
    void autoMtlsGoesToTheEntriesWithASidecar() {
        ProxyResources r = withMeshCa();
        assertEquals(List.of("127.0.0.71:18080*2 mtls", "127.0.0.72:8080*1"),
                endpoints(r.cluster("outbound|80||" + VMS).orElseThrow()),
                "the entry with an account and no tlsMode label has a sidecar; tlsMode disabled has none");
        assertEquals(List.of("127.17.0.5:8000*1 mtls", "127.0.0.75:8000*1"),
                endpoints(r.cluster("outbound|8000||" + HTTPBIN).orElseThrow()),
                "the pod, then the entry at the targetPort (no account, no tlsMode label: plaintext)");
    }

    @Test
    void subsetsSelectTheEntriesByLabel() {
        ProxyResources r = sleepsSidecar();
        assertEquals(List.of("127.0.0.71:18080*2"), endpoints(r.cluster("outbound|80|v1|" + VMS).orElseThrow()));
        assertEquals(List.of("127.0.0.72:8080*1"), endpoints(r.cluster("outbound|80|v2|" + VMS).orElseThrow()));
    }

    @Test
    void aServiceSelectingPodsAndEntriesHasBoth() {
        ProxyResources r = sleepsSidecar();
        assertEquals(List.of("127.17.0.5:8000*1", "127.0.0.75:8000*1"),
                endpoints(r.cluster("outbound|8000||" + HTTPBIN).orElseThrow()), "the pod, then the entry at the targetPort");
    }

    @Test
    void theEntriesAccountsAreIdentitiesOfTheService() throws Exception {
        Cluster vms = withMeshCa().cluster("outbound|80||" + VMS).orElseThrow();
        UpstreamTlsContext tls = vms.getTransportSocketMatches(0).getTransportSocket().getTypedConfig()
                .unpack(UpstreamTlsContext.class);
        assertEquals(List.of("spiffe://cluster.local/ns/default/sa/vm"), tls.getCommonTlsContext().getValidationContext()
                .getMatchSubjectAltNamesList().stream().map(m -> m.getExact()).toList());
    }

    @Test
    void onlyTheServicesNamespacesHealthyIpEntriesAreSelected() {
        assertEquals(List.of("vm-a", "vm-b"), model.service("default", "vms").orElseThrow().workloads().stream()
                .map(WorkloadEntry::name).toList());
        assertEquals(List.of(), model.service("default", "vms-headless").orElseThrow().workloads(),
                "a headless Service is the client's passthrough: Istio selects no entries for it");
        assertEquals(List.of(), model.service("default", "sleep").orElseThrow().workloads());
    }

    @Test
    void anEntryWhoseLabelsNoLongerMatchIsNoEndpoint() {
        List<ObjectNode> objects = Fixtures.seed("topology/service-workload-entries.yaml");
        objects.stream().filter(o -> o.path("metadata").path("name").asText().equals("vm-a"))
                .forEach(o -> ((ObjectNode) o.path("spec").path("labels")).put("app", "db"));
        MeshModel changed = MeshModel.of(objects);
        ProxyResources r = Translator.create().translate(changed, Fixtures.sidecar(changed, "sleep"));
        assertEquals(List.of("127.0.0.72:8080*1"), endpoints(r.cluster("outbound|80||" + VMS).orElseThrow()));
        assertFalse(r.cluster("outbound|5432||" + VMS).orElseThrow().getLoadAssignment().getEndpointsCount() > 0,
                "no entry left for the named targetPort");
    }
}
