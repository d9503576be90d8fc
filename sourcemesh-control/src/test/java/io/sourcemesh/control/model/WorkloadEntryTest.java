package io.sourcemesh.control.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sourcemesh.control.Fixtures;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Which WorkloadEntries a ServiceEntry's workloadSelector makes its endpoints, as Istio's services() and
 * convertWorkloadEntryToWorkloadInstance: those of its namespace with its labels, IP addresses only (a name or a unix
 * socket is left out, apply says so), and with health checks enabled only while Healthy.
 */
class WorkloadEntryTest {
    private static final String ENTRY = """
            apiVersion: networking.istio.io/v1
            kind: ServiceEntry
            metadata: {name: vms, namespace: default}
            spec:
              hosts: [vms.example.internal]
              ports: [{number: 80, name: http, protocol: HTTP}]
              resolution: STATIC
              %s
            """;

    private static ObjectNode workload(String name, String more, String spec) {
        return Fixtures.parseYaml("""
                apiVersion: networking.istio.io/v1
                kind: WorkloadEntry
                metadata: {name: %s, namespace: default%s}
                spec: %s
                """.formatted(name, more, spec));
    }

    private static List<String> addresses(String selector, ObjectNode... workloads) {
        List<ObjectNode> objects = new java.util.ArrayList<>(List.of(workloads));
        objects.add(Fixtures.parseYaml(ENTRY.formatted(selector)));
        Service svc = MeshModel.of(objects).services().stream().filter(Service::fromEntry).findFirst().orElseThrow();
        return svc.entry().endpoints().stream().map(WorkloadEndpoint::address).toList();
    }

    @Test
    void onlyIpAddressedHealthyEntriesWithTheLabelsAreSelected() {
        ObjectNode[] workloads = {
            workload("d-name", "", "{address: vm.example.internal, labels: {app: vm}}"),
            workload("c-unix", "", "{address: 'unix:///var/run/vm.sock', labels: {app: vm}}"),
            workload("b-unhealthy", ", annotations: {proxy.istio.io/health-checks-enabled: 'true'}",
                    "{address: 127.0.0.62, labels: {app: vm}}"),
            workload("a-ip", "", "{address: 127.0.0.61, labels: {app: vm, version: v1}}"),
        };
        assertEquals(List.of("127.0.0.61"), addresses("workloadSelector: {labels: {app: vm}}", workloads));
        assertEquals(List.of(), addresses("workloadSelector: {labels: {app: vm, version: v2}}", workloads));
        assertEquals(List.of(), addresses("", workloads), "no selector: no WorkloadEntry");
    }

    @Test
    void aHealthyConditionLetsAHealthCheckedEntryIn() {
        ObjectNode healthy = workload("checked", ", annotations: {proxy.istio.io/health-checks-enabled: 'true'}",
                "{address: 127.0.0.63, labels: {app: vm}}");
        healthy.putObject("status").putArray("conditions").addObject().put("type", "Healthy").put("status", "True");
        assertEquals(List.of("127.0.0.63"), addresses("workloadSelector: {labels: {app: vm}}", healthy));
    }
}
