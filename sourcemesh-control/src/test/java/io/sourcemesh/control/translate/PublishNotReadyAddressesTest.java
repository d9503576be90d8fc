package io.sourcemesh.control.translate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.sourcemesh.control.Fixtures;
import io.sourcemesh.control.model.MeshModel;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * spec.publishNotReadyAddresses, as Istio's PublishNotReadyAddresses: a Service's pods are the proxies' endpoints ready
 * or not (a pod not yet given an address excepted); another Service of the same pods keeps the ready ones only.
 */
class PublishNotReadyAddressesTest {
    @Test
    void aNotReadyPodIsAnEndpointOfTheServiceThatPublishesIt() {
        var objects = Fixtures.seed("topology/internal-traffic-policy.yaml");
        objects.add(Fixtures.parseYaml("""
                apiVersion: v1
                kind: Pod
                metadata: {name: echo-warming, namespace: default, labels: {app: echo}}
                spec:
                  nodeName: node-1
                  containers: [{name: echo, image: echo, ports: [{containerPort: 9000, protocol: TCP}]}]
                status:
                  phase: Running
                  podIP: 127.17.0.39
                  conditions: [{type: Ready, status: "False"}]
                """));
        objects.add(Fixtures.parseYaml("""
                apiVersion: v1
                kind: Pod
                metadata: {name: echo-pending, namespace: default, labels: {app: echo}}
                spec:
                  containers: [{name: echo, image: echo}]
                status: {phase: Pending, conditions: [{type: Ready, status: "False"}]}
                """));
        objects.add(Fixtures.parseYaml("""
                apiVersion: v1
                kind: Service
                metadata: {name: echo-all, namespace: default}
                spec:
                  clusterIP: 127.96.0.61
                  publishNotReadyAddresses: true
                  ports: [{name: http-echo, port: 9000, targetPort: 9000}]
                  selector: {app: echo}
                """));
        MeshModel model = MeshModel.of(objects);
        ProxyResources sleep = Translator.create().translate(model, Fixtures.sidecar(model, "sleep"));
        assertEquals(List.of("127.17.0.31", "127.17.0.32", "127.17.0.39"),
                pods(sleep.cluster("outbound|9000||echo-all.default.svc.cluster.local").orElseThrow()));
        assertEquals(List.of("127.17.0.31", "127.17.0.32"),
                pods(sleep.cluster("outbound|9000||echo.default.svc.cluster.local").orElseThrow()));
    }

    /** The pods' addresses among the cluster's endpoints (the WorkloadEntry's 127.0.0.x left out). */
    private static List<String> pods(Cluster c) {
        return c.getLoadAssignment().getEndpointsList().stream().flatMap(l -> l.getLbEndpointsList().stream())
                .map(e -> e.getEndpoint().getAddress().getSocketAddress().getAddress())
                .filter(a -> a.startsWith("127.17.")).toList();
    }
}
