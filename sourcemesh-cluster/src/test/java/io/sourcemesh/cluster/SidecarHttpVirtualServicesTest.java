package io.sourcemesh.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sourcemesh.api.codec.ManifestReader;
import io.sourcemesh.api.resource.KubeObject;
import io.sourcemesh.api.resource.ResourceKind;
import io.sourcemesh.cluster.core.Cluster;
import io.sourcemesh.cluster.exec.ExecResult;
import io.sourcemesh.cluster.testing.ClusterExtension;
import io.sourcemesh.cluster.testing.ClusterRuntime;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A mesh VirtualService chosen for a sidecar's HTTP routes as Istio chooses it, end to end in the embedded runtime with
 * curl: a wildcard host shapes a service it does not name (route.go separateVSHostsAndServices), exportTo "." keeps it
 * from another namespace's sidecars (push_context.go initVirtualServices), and a later VirtualService with the same host
 * is named by apply as left out (httproute.go BuildSidecarOutboundVirtualHosts keeps the first; IST0109); a Sidecar's
 * egress hosts leave out a VirtualService of a namespace they do not name (sidecar.go SelectVirtualServices).
 */
class SidecarHttpVirtualServicesTest {
    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();
    Cluster cluster;

    @Test
    void aWildcardHostShapesTheServicesItMatchesForTheNamespacesItIsExportedTo() throws Exception {
        cluster = clusters.start(ClusterRuntime.EMBEDDED, 1);
        for (String f : List.of("seed/sleep.yaml", "seed/httpbin.yaml")) {
            cluster.apply(ManifestReader.read(Path.of("src/test/resources/" + f)));
        }
        cluster.apply(ManifestReader.read("other.yaml", """
                apiVersion: v1
                kind: Namespace
                metadata: {name: other, labels: {istio-injection: enabled}}
                """));
        cluster.apply(ManifestReader.read("client.yaml", """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: client, namespace: other}
                spec:
                  replicas: 1
                  selector: {matchLabels: {app: client}}
                  template:
                    metadata: {labels: {app: client}}
                    spec:
                      terminationGracePeriodSeconds: 0
                      containers:
                      - {name: client, image: curlimages/curl, command: ["/bin/sleep", "3650d"]}
                """));
        List<String> warnings = cluster.apply(ManifestReader.read("a-faults.yaml", """
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: a-faults, namespace: default}
                spec:
                  hosts: ["*.default.svc.cluster.local"]
                  exportTo: ["."]
                  http:
                  - match:
                    - headers: {x-fault: {exact: "yes"}}
                    fault: {abort: {httpStatus: 418, percentage: {value: 100}}}
                    route:
                    - destination: {host: httpbin}
                  - route:
                    - destination: {host: httpbin}
                """)).warnings();
        assertEquals(List.of(), warnings);
        assertTrue(cluster.awaitSettled(ClusterRuntime.EMBEDDED.settle()), "pods settle");
        String sleep = runningPod("default", "app=sleep");
        String client = runningPod("other", "app=client");

        // curl sends Host: httpbin:8000; the sidecar's route config ignores the port, as Istio's.
        assertEquals("418", curl("default", sleep, "sleep", "http://httpbin:8000/ip", "yes"),
                "the wildcard host names httpbin.default.svc.cluster.local: its header match aborts");
        assertEquals("200", curl("default", sleep, "sleep", "http://httpbin:8000/ip", "no"), "the catch-all route");
        assertEquals("200", curl("other", client, "client", "http://httpbin.default:8000/ip", "yes"),
                "exportTo \".\": other's sidecar does not see it, httpbin's own route serves");

        warnings = cluster.apply(ManifestReader.read("b-faults.yaml", """
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: b-faults, namespace: default}
                spec:
                  hosts: ["*.default.svc.cluster.local"]
                  http:
                  - fault: {abort: {httpStatus: 503, percentage: {value: 100}}}
                    route:
                    - destination: {host: httpbin}
                """)).warnings();
        assertTrue(warnings.contains("VirtualService default/b-faults: left out of the sidecars' routes for "
                + "httpbin.default.svc.cluster.local:8000: VirtualService default/a-faults shapes that host (Istio takes the "
                + "first for a sidecar, the oldest of the same visibility, and merges none; IST0109)"), warnings.toString());
        assertEquals("200", curl("default", sleep, "sleep", "http://httpbin:8000/ip", "no"), "a-faults still shapes it");
        // b-faults is public: other's sidecar sees it and nothing comes before it there
        assertEquals("503", curl("other", client, "client", "http://httpbin.default:8000/ip", "no"));

        // other's own VirtualService for httpbin comes before the public one there (private first)...
        assertEquals(List.of(), cluster.apply(ManifestReader.read("c-faults.yaml", """
                apiVersion: networking.istio.io/v1
                kind: VirtualService
                metadata: {name: c-faults, namespace: other}
                spec:
                  hosts: [httpbin.default.svc.cluster.local]
                  exportTo: ["."]
                  http:
                  - fault: {abort: {httpStatus: 451, percentage: {value: 100}}}
                    route:
                    - destination: {host: httpbin.default.svc.cluster.local}
                """)).warnings());
        assertEquals("451", curl("other", client, "client", "http://httpbin.default:8000/ip", "no"));
        // ...until a Sidecar whose egress hosts name only default's leaves it out of other's import (sidecar.go
        // SelectVirtualServices): the public one shapes httpbin again.
        cluster.apply(ManifestReader.read("other-sidecar.yaml", """
                apiVersion: networking.istio.io/v1
                kind: Sidecar
                metadata: {name: default, namespace: other}
                spec:
                  egress:
                  - hosts: ["default/*"]
                """));
        assertEquals("503", curl("other", client, "client", "http://httpbin.default:8000/ip", "no"),
                "c-faults is not imported: b-faults shapes httpbin");
        assertEquals("fault filter abort", cluster.exec("other", client, "client", List.of("curl", "-sS", "--max-time", "10",
                "http://httpbin.default:8000/ip")).stdout().trim(), "b-faults' abort, not an upstream failure");
    }

    /** curl in {@code pod} with header x-fault; the status code. */
    private String curl(String namespace, String pod, String container, String url, String fault) {
        ExecResult r = cluster.exec(namespace, pod, container, List.of("curl", "-sS", "--max-time", "10", "-o", "/dev/null",
                "-w", "%{http_code}", "-H", "x-fault: " + fault, url));
        return r.stdout().trim() + (r.stderr().isBlank() ? "" : " " + r.stderr().trim());
    }

    private String runningPod(String namespace, String selector) {
        return cluster.list(ResourceKind.POD, namespace, selector).stream()
                .filter(p -> p.status().path("phase").asText().equals("Running")).findFirst().map(KubeObject::name)
                .orElseThrow();
    }
}
