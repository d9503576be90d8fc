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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A DestinationRule with a workloadSelector end to end in the embedded runtime: two clients in default call httpbin
 * through their sidecars; the rule selecting sleep (a consistentHash cookie "picked") applies to sleep's sidecar only,
 * over the namespace's rule (cookie "everyone"), which client's sidecar applies, as Istio's SidecarScope.DestinationRule
 * chooses (pilot/pkg/model/sidecar.go); Envoy's Set-Cookie on the response shows which rule the route carried.
 */
class SidecarDestinationRuleSelectorTest {
    private static final Pattern SET_COOKIE = Pattern.compile("(?mi)^set-cookie: ([a-z]+)=");

    @RegisterExtension
    final ClusterExtension clusters = new ClusterExtension();
    Cluster cluster;

    @Test
    void aSelectorRuleAppliesToTheSelectedWorkloadOnly() throws Exception {
        cluster = clusters.start(ClusterRuntime.EMBEDDED, 1);
        for (String f : List.of("seed/sleep.yaml", "seed/httpbin.yaml")) {
            cluster.apply(ManifestReader.read(Path.of("src/test/resources/" + f)));
        }
        cluster.apply(ManifestReader.read("client.yaml", """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: client, namespace: default}
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
        assertEquals(List.of(), cluster.apply(ManifestReader.read("rules.yaml", """
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: httpbin-everyone, namespace: default}
                spec:
                  host: httpbin
                  trafficPolicy: {loadBalancer: {consistentHash: {httpCookie: {name: everyone, ttl: 60s}}}}
                ---
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: httpbin-sleep, namespace: default}
                spec:
                  host: httpbin
                  workloadSelector: {matchLabels: {app: sleep}}
                  trafficPolicy: {loadBalancer: {consistentHash: {httpCookie: {name: picked, ttl: 60s}}}}
                """)).warnings());
        assertTrue(cluster.awaitSettled(ClusterRuntime.EMBEDDED.settle()), "pods settle");

        assertEquals("picked", cookie(pod("app=sleep"), "sleep"), "the rule selecting sleep");
        assertEquals("everyone", cookie(pod("app=client"), "client"), "the namespace's rule: client is not selected");

        cluster.apply(ManifestReader.read("sleep-rule.yaml", """
                apiVersion: networking.istio.io/v1
                kind: DestinationRule
                metadata: {name: httpbin-sleep, namespace: default}
                spec:
                  host: httpbin
                  workloadSelector: {matchLabels: {app: nobody}}
                  trafficPolicy: {loadBalancer: {consistentHash: {httpCookie: {name: picked, ttl: 60s}}}}
                """));
        assertEquals("everyone", cookie(pod("app=sleep"), "sleep"), "selecting no one: sleep falls back to the namespace's");
    }

    /** The name of the cookie Envoy's hash policy sets on a response to {@code container}'s request. */
    private String cookie(String pod, String container) {
        ExecResult r = cluster.exec("default", pod, container, List.of("curl", "-sS", "--max-time", "10", "-D", "-", "-o",
                "/dev/null", "http://httpbin:8000/ip"));
        assertTrue(r.stdout().startsWith("HTTP/1.1 200"), r.stdout() + r.stderr());
        Matcher m = SET_COOKIE.matcher(r.stdout());
        return m.find() ? m.group(1) : "none: " + r.stdout();
    }

    private String pod(String selector) {
        return cluster.list(ResourceKind.POD, "default", selector).stream()
                .filter(p -> p.status().path("phase").asText().equals("Running")).findFirst().map(KubeObject::name)
                .orElseThrow();
    }
}
