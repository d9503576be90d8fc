package io.sourcemesh.control.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.model.MeshModel;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * spec.internalTrafficPolicy Local (topology/internal-traffic-policy.yaml), as Istio's NodeLocal services: a proxy's
 * endpoints of such a Service are only its pods on the proxy's own node (pilot/pkg/xds/endpoints/endpoint_builder.go);
 * a Cluster-policy Service of the same pods keeps them all.
 */
class InternalTrafficPolicyTest {
    private static final String LOCAL = "outbound|9000||echo-local.default.svc.cluster.local";
    private static final String CLUSTER = "outbound|9000||echo.default.svc.cluster.local";

    private final MeshModel model = MeshModel.of(Fixtures.seed("topology/internal-traffic-policy.yaml"));

    private ProxyResources sidecar(String pod) {
        return Translator.create().translate(model, Fixtures.sidecar(model, pod));
    }

    private static List<String> endpoints(Cluster c) {
        return c.getLoadAssignment().getEndpointsList().stream().flatMap(l -> l.getLbEndpointsList().stream())
                .map(e -> e.getEndpoint().getAddress().getSocketAddress().getAddress()).toList();
    }

    @Test
    void aProxyOnNodeOneSeesOnlyNodeOneEndpoints() {
        ProxyResources r = sidecar("sleep");
        assertEquals(List.of("127.17.0.31"), endpoints(r.cluster(LOCAL).orElseThrow()),
                "node-1's pod only; neither node-2's pod nor the WorkloadEntry, which has no node");
        assertEquals(List.of("127.17.0.31", "127.17.0.32", "127.0.0.76"), endpoints(r.cluster(CLUSTER).orElseThrow()));
    }

    @Test
    void aProxyOnNodeTwoSeesOnlyNodeTwoEndpoints() {
        assertEquals(List.of("127.17.0.32"), endpoints(sidecar("client-2").cluster(LOCAL).orElseThrow()));
    }
}
