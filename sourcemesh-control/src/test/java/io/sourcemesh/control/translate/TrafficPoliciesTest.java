package io.sourcemesh.control.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.model.MeshModel;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * connectionPool.tcp.maxConnectionDuration on the outbound clusters, as Istio's applyConnectionPool
 * (pilot/pkg/networking/core/cluster_traffic_policy.go): common_http_protocol_options.max_connection_duration,
 * on the service's cluster and its subsets'; under 1ms (Istio's ValidateDuration refuses it) not sent, and named.
 */
class TrafficPoliciesTest {
    private static final String HTTPBIN = "outbound|8000||httpbin.default.svc.cluster.local";
    private static final String HTTPBIN_V1 = "outbound|8000|v1|httpbin.default.svc.cluster.local";

    private static ProxyResources translate(String maxConnectionDuration) {
        ObjectNode rule = Fixtures.parseYaml("""
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: httpbin, namespace: default}
                spec:
                  host: httpbin
                  trafficPolicy:
                    connectionPool: {tcp: {maxConnectionDuration: %s}}
                  subsets:
                  - name: v1
                    labels: {version: v1}
                """.formatted(maxConnectionDuration));
        List<ObjectNode> objects = new java.util.ArrayList<>(Fixtures.seed("seed/http-demo.yaml"));
        objects.add(rule);
        MeshModel model = MeshModel.of(objects);
        return Translator.create().translate(model, Fixtures.sidecar(model, "sleep"));
    }

    @Test
    void maxConnectionDurationIsTheHttpClustersMaxConnectionDuration() {
        ProxyResources r = translate("90s");
        for (String name : List.of(HTTPBIN, HTTPBIN_V1)) {
            var options = r.cluster(name).orElseThrow().getCommonHttpProtocolOptions();
            assertEquals(90, options.getMaxConnectionDuration().getSeconds(), name);
            assertFalse(options.hasIdleTimeout(), name);
        }
        assertTrue(r.warnings().stream().noneMatch(w -> w.message().contains("maxConnectionDuration")), r.warnings().toString());
    }

    @Test
    void underAMillisecondItIsNotSentAndIsNamed() {
        ProxyResources r = translate("0.5ms");
        assertFalse(r.cluster(HTTPBIN).orElseThrow().hasCommonHttpProtocolOptions());
        assertTrue(r.warnings().stream().anyMatch(w -> w.message().contains(
                "connectionPool.tcp.maxConnectionDuration 0.5ms is not a duration of at least 1ms")), r.warnings().toString());
    }
}
