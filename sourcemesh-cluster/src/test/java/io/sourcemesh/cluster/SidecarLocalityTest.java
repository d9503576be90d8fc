package io.sourcemesh.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.patch.PatchType;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.testing.ClusterExtension;
import io.sourcemesh.cluster.testing.ClusterRuntime;
import io.sourcemesh.cluster.testing.ExternalClient;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A Node's topology labels, set with a patch as kubectl label does, are its sidecars' locality: the node their bootstrap
 * (and xDS) reports, as istio-agent's; a pod's istio-locality label overrides it. On both runtimes: the embedded
 * kubelet's sidecar and the netns runtime's proxy process, which reads it from its bootstrap file.
 */
class SidecarLocalityTest {
    private static final String NODE = "sourcemesh-node-1";

    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();

    @ParameterizedTest(name = "{0}")
    @EnumSource(ClusterRuntime.class)
    void aSidecarReportsItsNodesLocality(ClusterRuntime runtime) throws Exception {
        Cluster cluster = clusters.start(runtime, 1);
        KubeObject node = cluster.patch(ResourceKind.NODE, null, NODE, PatchType.STRATEGIC, """
                {"metadata":{"labels":{"topology.kubernetes.io/region":"r1","topology.kubernetes.io/zone":"z1",
                "topology.istio.io/subzone":"s1"}}}""");
        assertEquals("z1", node.labels().get("topology.kubernetes.io/zone"), "the API server takes a Node's labels");
        StringBuilder manifest = new StringBuilder();
        for (String app : new String[] {"zoned", "labelled"}) {
            manifest.append("""
                    ---
                    apiVersion: apps/v1
                    kind: Deployment
                    metadata: {name: %s, namespace: default}
                    spec:
                      replicas: 1
                      selector: {matchLabels: {app: %1$s}}
                      template:
                        metadata:
                          labels: {app: %1$s%s}
                          annotations: {sidecar.istio.io/inject: "true"}
                        spec:
                          terminationGracePeriodSeconds: 0
                          containers:
                          - {name: sleep, image: curlimages/curl, command: [/bin/sleep, 3650d]}
                    """.formatted(app, app.equals("labelled") ? ", istio-locality: r9.z9" : ""));
        }
        cluster.apply(ManifestReader.read("locality.yaml", manifest.toString()));
        boolean settled = cluster.awaitSettled(runtime.settle());
        assertTrue(settled, () -> "pods settle: " + cluster.list(ResourceKind.POD, "default", null).stream()
                .map(p -> p.name() + " " + p.status()).toList());
        ExternalClient.awaitTrue(() -> cluster.list(ResourceKind.POD, "default", null).stream()
                .allMatch(p -> p.status().path("phase").asText().equals("Running")), "pods running");
        assertEquals("r1/z1/s1", locality(cluster, pod(cluster, "zoned")));
        assertEquals("r9/z9/", locality(cluster, pod(cluster, "labelled")));
    }

    private static String pod(Cluster cluster, String app) {
        return cluster.list(ResourceKind.POD, "default", "app=" + app).get(0).name();
    }

    private static String locality(Cluster cluster, String pod) throws Exception {
        JsonNode dump = new ObjectMapper().readTree(cluster.proxyConfig("default", pod));
        for (JsonNode config : dump.path("configs")) {
            JsonNode node = config.path("bootstrap").path("node");
            if (node.isObject()) {
                JsonNode l = node.path("locality");
                return l.path("region").asText() + "/" + l.path("zone").asText() + "/" + l.path(l.has("sub_zone") ? "sub_zone" : "subZone").asText();
            }
        }
        throw new AssertionError("no bootstrap node in " + dump);
    }
}
