package io.sourcemesh.cluster.netns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.sourcemesh.cluster.netns.KubeProxyRules.Endpoint;
import io.sourcemesh.cluster.netns.KubeProxyRules.ServicePort;
import io.sourcemesh.cluster.netns.KubeProxyRules.Policy;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * North-south through real NodePort rules: the internet client (198.18.0.5, via the lb namespace)
 * connects to a node's address; the app's socket shows what externalTrafficPolicy did to the source.
 */
@ExtendWith(NetnsSupport.class)
class KubeProxyEndToEndTest {
    @TempDir
    Path dir;

    @Test
    void clusterMasqueradesToTheNodeLocalKeepsTheClientAndDropsWithoutLocalEndpoints() throws Exception {
        try (Topology t = Topology.create(TopologySpec.prefix(NetnsSupport.PREFIX).node("node1", "gw").node("node2", "httpbin"));
                PeerApp gw = PeerApp.start(t.pod("gw").netns(), 8000, dir);
                PeerApp httpbin = PeerApp.start(t.pod("httpbin").netns(), 8000, dir)) {
            for (Topology.Node node : t.nodes()) {
                KubeProxyRules.of(List.of(
                        ServicePort.nodePort("default", "httpbin", "http", 30080, Policy.CLUSTER, List.of(endpoint(t, "httpbin", node))),
                        ServicePort.nodePort("istio-system", "istio-ingressgateway", "http2", 30081, Policy.LOCAL, List.of(endpoint(t, "gw", node)))))
                        .applyIn(node.netns());
            }
            String node1 = t.node("node1").ip();
            String node2 = t.node("node2").ip();
            // Cluster, endpoint on another node: SNAT to the node the client reached.
            assertEquals(origin(node1), curl(t, node1, 30080).orThrow().out());
            // Cluster, endpoint on this node: SNAT to the node's address on the pod bridge.
            assertEquals(origin(t.node("node2").gateway()), curl(t, node2, 30080).orThrow().out());
            // Local: no SNAT, the app sees the internet client.
            assertEquals(origin(Topology.EXTERNAL_IP), curl(t, node1, 30081).orThrow().out());
            // Local on a node without a gateway pod: dropped, as the cloud LB's health check would tell it.
            assertFalse(curl(t, node2, 30081).ok());
        }
    }

    private static Endpoint endpoint(Topology t, String pod, Topology.Node from) {
        Topology.Pod p = t.pod(pod);
        return new Endpoint(p.ip(), 8000, p.node().equals(from.name()));
    }

    private static Shell.Result curl(Topology t, String ip, int port) {
        return Shell.run(Shell.in(t.external(), "curl", "-sS", "--connect-timeout", "1", "--max-time", "3",
                "http://" + ip + ":" + port + "/ip"));
    }

    private static String origin(String ip) {
        return "{\n  \"origin\": \"" + ip + "\"\n}\n";
    }
}
